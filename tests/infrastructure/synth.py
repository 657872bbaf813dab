"""The synthesized CDK app the infrastructure tests read, shared by the whole test session.

`make test` runs `make synth` (the CDK CLI, into cdk.out) just before pytest and names that folder
in REFUNDS_CDK_OUT, so `default_synthesis()` reads what the CLI wrote instead of synthesizing the
same app again. Without the variable it synthesizes in-process with cdk.json's context, once per
session. Variants (a changed stack, an extra grant) always call `synthesize()` with a hook that
edits the app first.
"""

import atexit
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api

from stacks.app_builder import build
from stacks.stage import RefundStage

REPO_ROOT = Path(__file__).resolve().parents[2]
# Names a cloud assembly the CDK CLI has just written, relative to the repository or absolute.
CDK_OUT_VARIABLE = "REFUNDS_CDK_OUT"

Customize = Callable[[cdk.App, dict[str, RefundStage]], None]


# What the CDK CLI adds to cdk.json's context by default; cfn-lint, among others, reads the paths.
CLI_DEFAULTS = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


def cdk_context() -> dict[str, Any]:
    """The context the CDK CLI would pass: feature flags and the `refunds` settings."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {**CLI_DEFAULTS, **context}


@dataclass(frozen=True)
class Synthesis:
    assembly: cx_api.CloudAssembly

    @property
    def directory(self) -> Path:
        return Path(self.assembly.directory)

    def stack(self, stage: str, part: str) -> cx_api.CloudFormationStackArtifact:
        """The artifact of `part` ("Stateful" or "Stateless") in `stage` ("Dev" or "Prod")."""
        nested = self.assembly.get_nested_assembly(f"assembly-{stage}")
        wanted = f"Refunds-{stage}-{part}"
        return next(artifact for artifact in nested.stacks if artifact.stack_name == wanted)

    def template(self, stage: str, part: str) -> dict[str, Any]:
        template: dict[str, Any] = self.stack(stage, part).template
        return template


def synthesize(outdir: Path, customize: Customize | None = None) -> Synthesis:
    """Build the app exactly as app.py does, optionally edit it, and synthesize into outdir."""
    app = cdk.App(context=cdk_context(), outdir=str(outdir), analytics_reporting=False)
    stages = build(app)
    if customize is not None:
        customize(app, stages)
    return Synthesis(assembly=app.synth())


def scratch_dir(prefix: str) -> Path:
    """A temporary directory that is removed when the test session ends."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def cli_output() -> Path | None:
    """The folder `make synth` has just written, when the test run was told about one."""
    named = os.environ.get(CDK_OUT_VARIABLE)
    return REPO_ROOT / named if named else None


@functools.cache
def default_synthesis() -> Synthesis:
    written = cli_output()
    if written is not None:
        return Synthesis(assembly=cx_api.CloudAssembly(str(written)))
    return synthesize(scratch_dir("refunds-synth-"))
