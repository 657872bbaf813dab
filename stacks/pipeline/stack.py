"""The delivery pipeline: source, tests and synth, self-mutation, then each stage with a smoke test.

The first stage deploys on every push and gets the full smoke test; each later stage waits for a
manual approval and gets only the checks that change nothing.
"""

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import pipelines
from constructs import Construct

from stacks.config import PipelineConfig, StageConfig
from stacks.pipeline import acknowledgments
from stacks.pipeline.smoke_step import SmokeTarget, SmokeTest, smoke_test
from stacks.stage import RefundStage
from stacks.stateless.stack import api_key_secret_name

STACK_NAME = "Refunds-Pipeline"
PIPELINE_NAME = "Refunds"
# Outputs of the stateless stack that the smoke test reads once the stage is deployed.
API_URL_OUTPUT = "ApiUrl"
KEY_ARN_OUTPUT = "ApiKeySecretArn"
PACKAGE_JSON = Path(__file__).resolve().parents[2] / "package.json"

# The same runtimes as a developer machine: Python for the app and tests, Node for the CDK CLI.
RUNTIMES = codebuild.BuildSpec.from_object(
    {"phases": {"install": {"runtime-versions": {"python": "3.11", "nodejs": "22"}}}}
)


def pinned_cli_version() -> str:
    """Self-mutation deploys with the CLI that package.json pins, the one `make synth` uses."""
    package: dict[str, Any] = json.loads(PACKAGE_JSON.read_text())
    return str(package["devDependencies"]["aws-cdk"])


def synth_step(source: pipelines.CodePipelineSource) -> pipelines.ShellStep:
    return pipelines.ShellStep(
        "Synth",
        input=source,
        # make install builds .venv from requirements.txt and node_modules with npm ci.
        install_commands=["make install"],
        commands=["make test", "make synth"],
        primary_output_directory="cdk.out",
    )


def _output(stage: RefundStage, name: str) -> cdk.CfnOutput:
    output = stage.stateless.node.find_child(name)
    assert isinstance(output, cdk.CfnOutput)
    return output


def smoke_target(stage: RefundStage, config: StageConfig) -> SmokeTarget:
    return SmokeTarget(
        stage=config,
        api_url=_output(stage, API_URL_OUTPUT),
        secret_arn=_output(stage, KEY_ARN_OUTPUT),
        secret_name=api_key_secret_name(config.name),
    )


class PipelineStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PipelineConfig,
        stages: Iterable[StageConfig],
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope, id, env=cdk.Environment(account=config.account, region=config.region), **kwargs
        )
        source = pipelines.CodePipelineSource.connection(
            config.repository, config.branch, connection_arn=config.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            synth=synth_step(source),
            self_mutation=True,
            cli_version=pinned_cli_version(),
            # Dev and Prod live in other accounts: their deploy roles must read the artifacts.
            cross_account_keys=True,
            enable_key_rotation=True,
            # One asset project per asset type keeps the pipeline's shape fixed as functions come
            # and go; the assets are a few small zip files.
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.SMALL,
                ),
                partial_build_spec=RUNTIMES,
            ),
            # The synth step runs the whole test suite, which synthesizes the app several times.
            synth_code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    compute_type=codebuild.ComputeType.MEDIUM
                ),
            ),
        )

        self.smoke_tests: dict[str, SmokeTest] = {}
        for position, stage_config in enumerate(stages):
            stage = RefundStage(self, stage_config.name, config=stage_config)
            promoted = position > 0
            smoke = smoke_test(self, smoke_target(stage, stage_config), source, read_only=promoted)
            approval = pipelines.ManualApprovalStep(
                f"PromoteTo{stage_config.name}",
                comment=f"Deploy this change to {stage_config.name}?",
            )
            self.pipeline.add_stage(stage, pre=[approval] if promoted else [], post=[smoke.step])
            self.smoke_tests[stage_config.name] = smoke

        self.pipeline.build_pipeline()
        acknowledgments.acknowledge_generated(self.pipeline)
        for smoke in self.smoke_tests.values():
            acknowledgments.smoke_test(smoke, self.pipeline.pipeline.artifact_bucket)
