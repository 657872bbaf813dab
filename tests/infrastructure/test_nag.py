"""cdk-nag runs on every stack at synth and fails it on any finding nobody acknowledged."""

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from stacks.stage import RefundStage
from tests.infrastructure.synth import Synthesis, scratch_dir, synthesize


def _validation_failure(customize: Any) -> str:
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        synthesize(scratch_dir("refunds-nag-"), customize)
    return str(failure.value)


def test_the_checked_app_synthesizes_with_every_finding_acknowledged(
    synthesis: Synthesis,
) -> None:
    assert {
        stack.stack_name for stage in ("Dev", "Prod") for stack in _stacks(synthesis, stage)
    } == {
        "Refunds-Dev-Stateful",
        "Refunds-Dev-Stateless",
        "Refunds-Prod-Stateful",
        "Refunds-Prod-Stateless",
    }


def test_granting_a_function_all_dynamodb_actions_on_everything_fails_synth() -> None:
    def grant_everything(app: cdk.App, stages: dict[str, RefundStage]) -> None:
        stages["Dev"].stateless.receiver.role.add_to_policy(
            iam.PolicyStatement(actions=["dynamodb:*"], resources=["*"])
        )

    report = _validation_failure(grant_everything)

    assert "AwsSolutions-IAM5[Action::dynamodb:*]" in report
    assert "Dev/Stateless/Receiver/Role/DefaultPolicy/Resource" in report


def test_an_older_python_runtime_fails_synth_so_3_14_is_the_newest_accepted() -> None:
    def older_runtime(app: cdk.App, stages: dict[str, RefundStage]) -> None:
        function = stages["Prod"].stateless.status_reader.function.node.default_child
        assert isinstance(function, lambda_.CfnFunction)
        function.runtime = lambda_.Runtime.PYTHON_3_13.name

    report = _validation_failure(older_runtime)

    assert "AwsSolutions-L1" in report
    assert "Prod/Stateless/StatusReader/Function/Resource" in report


def test_a_warning_level_finding_fails_synth_too() -> None:
    def web_acl_missing_in_prod(app: cdk.App, stages: dict[str, RefundStage]) -> None:
        assert stages["Prod"].stateless.node.try_remove_child("WebAcl")

    report = _validation_failure(web_acl_missing_in_prod)

    assert "AwsSolutions-APIG3" in report


def _stacks(synthesis: Synthesis, stage: str) -> list[Any]:
    return list(synthesis.assembly.get_nested_assembly(f"assembly-{stage}").stacks)
