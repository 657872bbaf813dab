"""Two CLI synths of one tree, one of them in a clean checkout, write the same templates and
asset manifests.

The pipeline deploys whatever its synth step writes, so a template or asset hash that changes
between two synths of one commit would redeploy every stage on every run. Under `make test` the
first synth is the one `make synth` has just written into cdk.out from the working tree, which
holds what builds and test runs leave behind (Python bytecode caches, for one); otherwise both
synths run in the clean checkout, the second after the first. Either way an asset that picks up
leftovers shows up as a difference.
"""

import fnmatch
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.infrastructure.synth import REPO_ROOT, cli_output

CLI_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
# Installed tools are linked into the checkout rather than copied: they are not part of it.
TOOLS = (".venv", "node_modules")
# Where a cloud assembly's manifest names the file of each artifact the test compares.
FILE_PROPERTY = {"aws:cloudformation:stack": "templateFile", "cdk:asset-manifest": "file"}


def _ignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".gitignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: Path, patterns: list[str], is_dir: bool) -> bool:
    """The subset of .gitignore rules the repository uses: names, globs, and rooted paths."""
    for pattern in patterns:
        if pattern.endswith("/"):
            if is_dir and fnmatch.fnmatch(relative.name, pattern[:-1]):
                return True
        elif "/" in pattern:
            if fnmatch.fnmatch(relative.as_posix(), pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatch(relative.name, pattern):
            return True
    return False


def _clean_checkout(destination: Path) -> None:
    """What a fresh clone holds: every file git would see, none of what builds leave behind.

    Works without git, because the pipeline's source artifact is a plain archive of the branch.
    """
    patterns = _ignore_patterns()
    for directory, subdirectories, files in os.walk(REPO_ROOT):
        here = Path(directory).relative_to(REPO_ROOT)
        subdirectories[:] = [
            name
            for name in subdirectories
            if name != ".git" and not _ignored(here / name, patterns, is_dir=True)
        ]
        for name in files:
            if not _ignored(here / name, patterns, is_dir=False):
                (destination / here).mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO_ROOT / here / name, destination / here / name)
    for tool in TOOLS:
        (destination / tool).symlink_to(REPO_ROOT / tool)


def _synth(checkout: Path, output: Path) -> None:
    # Bytecode writing stays on, as on a developer machine: caches are what the second synth
    # must not see.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        ["node_modules/.bin/cdk", "synth", "--no-notices", "--ci", "--quiet", "-o", str(output)],
        cwd=checkout,
        env={**env, **CLI_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _manifests(output: Path) -> dict[str, Any]:
    """Every template and asset manifest the assembly lists, nested stage assemblies included.

    Read from the assembly's own manifest, because the CLI leaves files of earlier synths in a
    folder it writes again.
    """
    found: dict[str, Any] = {}
    directories = [output]
    while directories:
        directory = directories.pop()
        manifest = json.loads((directory / "manifest.json").read_text())
        for artifact in manifest["artifacts"].values():
            kind = artifact["type"]
            properties = artifact.get("properties", {})
            if kind == "cdk:cloud-assembly":
                directories.append(directory / properties["directoryName"])
            elif kind in FILE_PROPERTY:
                path = directory / properties[FILE_PROPERTY[kind]]
                found[path.relative_to(output).as_posix()] = json.loads(path.read_text())
    return found


def test_two_synths_of_one_clean_checkout_write_identical_templates_and_manifests(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "checkout"
    _clean_checkout(checkout)

    first_output = cli_output()
    if first_output is None:
        first_output = tmp_path / "first"
        _synth(checkout, first_output)
    _synth(checkout, tmp_path / "second")
    first = _manifests(first_output)
    second = _manifests(tmp_path / "second")

    assert "Refunds-Pipeline.template.json" in first
    assert "assembly-Refunds-Pipeline-Dev/RefundsPipelineDevStateless251DED30.assets.json" in first
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
