"""Synth time: `make synth` against the same recipe run on an empty one-stack CDK app.

The baseline runs the Makefile's own synth recipe in a scratch folder holding an app with one
empty stack, a cdk.json naming only the app, a copy of .cfnlintrc and links to the installed
tools: the same CLI binary, the same exported variables, the same flags and the same cfn-lint
step, so the ratio is what this app's stages, constructs and checks cost on top of starting the
toolchain.
"""

import json
import shutil
import tempfile
from pathlib import Path

from bench.commands import Timed, make
from bench.figures import Figure, Goal
from bench.functions import REPOSITORY

GOAL = Goal(limit=2.0)

_EMPTY_APP = '''"""One empty stack: what any synth costs before an app adds anything."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
'''


def _empty_app(folder: Path) -> None:
    # Only the app command: this app's own settings (no version reporting, for one) can leave an
    # empty stack with no resource at all, which synth then refuses.
    settings = {"app": ".venv/bin/python app.py"}
    (folder / "cdk.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    (folder / "app.py").write_text(_EMPTY_APP, encoding="utf-8")
    shutil.copy(REPOSITORY / ".cfnlintrc", folder / ".cfnlintrc")
    # The recipe names the tools by relative path; links make those paths the installed ones, so
    # nothing in the command line or the environment differs from a synth of this repository.
    for tools in (".venv", "node_modules"):
        (folder / tools).symlink_to(REPOSITORY / tools, target_is_directory=True)


def _succeeded(run: Timed, what: str) -> float:
    if not run.succeeded:
        raise RuntimeError(f"{what} failed:\n{run.tail}")
    return run.seconds


def measure() -> Figure:
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        folder = Path(scratch)
        app = folder / "app"
        app.mkdir()
        _empty_app(app)
        empty = make(
            "-f",
            str(REPOSITORY / "Makefile"),
            # The tools are installed already; the recipe under test is synth's alone.
            "-o",
            "install",
            "synth",
            cwd=app,
            log=folder / "empty-synth.log",
        )
        baseline = _succeeded(empty, "the empty app's synth")
        value = _succeeded(
            make("synth", cwd=REPOSITORY, log=folder / "make-synth.log"), "make synth"
        )
    return Figure(name="synth", value=value, baseline=baseline, unit="s", goal=GOAL)
