"""Reads a synthesized cloud assembly: one stage's stacks, their templates and function assets."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Template = dict[str, Any]

NESTED_ASSEMBLY = "cdk:cloud-assembly"
STACK = "aws:cloudformation:stack"
ASSET_MANIFEST = "cdk:asset-manifest"

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
QUEUE_TYPE = "AWS::SQS::Queue"
REST_API_TYPE = "AWS::ApiGateway::RestApi"


class AssemblyError(Exception):
    """The cloud assembly is missing, or does not hold the stage the local run needs."""


@dataclass(frozen=True)
class Stack:
    artifact_id: str
    stack_name: str
    template: Template
    # Asset object key (what a function's Code.S3Key names) to the asset's folder on disk.
    assets: dict[str, Path]

    def resources(self, *types: str) -> dict[str, dict[str, Any]]:
        """The stack's resources of the given CloudFormation types, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.template.get("Resources", {}).items()
            if resource.get("Type") in types
        }


@dataclass(frozen=True)
class StageAssembly:
    stage: str
    account: str
    region: str
    stacks: tuple[Stack, ...]

    @property
    def stateless(self) -> Stack:
        """The stack serving the API; the stacks are told apart by what they hold, not by name."""
        return self._only("stateless", [s for s in self.stacks if s.resources(REST_API_TYPE)])

    @property
    def stateful(self) -> Stack:
        """The stack holding the table and the queues."""
        api = self.stateless
        holders = [s for s in self.stacks if s is not api and s.resources(*TABLE_TYPES, QUEUE_TYPE)]
        return self._only("stateful", holders)

    def stack_named(self, stack_name: str) -> Stack:
        for stack in self.stacks:
            if stack.stack_name == stack_name:
                return stack
        raise AssemblyError(f"stage {self.stage} has no stack named {stack_name}")

    def _only(self, kind: str, found: list[Stack]) -> Stack:
        if len(found) != 1:
            names = ", ".join(s.stack_name for s in found) or "none"
            raise AssemblyError(f"expected one {kind} stack in stage {self.stage}, found {names}")
        return found[0]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise AssemblyError(f"{path} not found: run `make synth` first") from error


def _assets(assembly_dir: Path, manifest_file: str) -> dict[str, Path]:
    files = _read_json(assembly_dir / manifest_file).get("files", {})
    assets: dict[str, Path] = {}
    for asset in files.values():
        source = asset.get("source", {})
        if source.get("packaging") != "zip":
            continue
        for destination in asset.get("destinations", {}).values():
            assets[destination["objectKey"]] = (assembly_dir / source["path"]).resolve()
    return assets


def _stage_directory(cloud_assembly: Path, stage: str) -> Path:
    manifest = _read_json(cloud_assembly / "manifest.json")
    for artifact in manifest.get("artifacts", {}).values():
        properties = artifact.get("properties", {})
        if artifact.get("type") == NESTED_ASSEMBLY and properties.get("displayName") == stage:
            return cloud_assembly / properties["directoryName"]
    raise AssemblyError(f"{cloud_assembly} holds no stage named {stage}")


def load_stage(cloud_assembly: Path, stage: str) -> StageAssembly:
    """The stacks of one stage (a nested assembly such as assembly-Dev) with their templates."""
    directory = _stage_directory(cloud_assembly, stage)
    artifacts = _read_json(directory / "manifest.json").get("artifacts", {})
    stacks = []
    environments = set()
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != STACK:
            continue
        properties = artifact["properties"]
        assets: dict[str, Path] = {}
        for dependency in artifact.get("dependencies", []):
            if artifacts.get(dependency, {}).get("type") == ASSET_MANIFEST:
                assets.update(_assets(directory, artifacts[dependency]["properties"]["file"]))
        stacks.append(
            Stack(
                artifact_id=artifact_id,
                stack_name=properties.get("stackName", artifact_id),
                template=_read_json(directory / properties["templateFile"]),
                assets=assets,
            )
        )
        environments.add(artifact["environment"])
    if len(environments) != 1:
        raise AssemblyError(f"stage {stage} spans environments {sorted(environments)}")
    account, region = environments.pop().removeprefix("aws://").split("/")
    return StageAssembly(stage=stage, account=account, region=region, stacks=tuple(stacks))
