"""cfn-lint finds no error and no warning in any synthesized template, with .cfnlintrc applied."""

import subprocess
import sys
from pathlib import Path

from tests.infrastructure.synth import REPO_ROOT, Synthesis

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_every_template_passes_cfn_lint(synthesis: Synthesis) -> None:
    templates = sorted(str(path) for path in synthesis.directory.rglob("*.template.json"))

    result = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", "--", *templates],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert {Path(t).parent.name for t in templates} >= {"assembly-Dev", "assembly-Prod"}
    assert (result.returncode, result.stdout) == (0, "")
