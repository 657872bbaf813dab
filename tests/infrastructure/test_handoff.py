"""The handoff between the stacks: fixed outputs read by name, so no deployment can deadlock."""

import json
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.stage import RefundStage
from tests.infrastructure.synth import Synthesis, scratch_dir, synthesize

PUBLISHED_OUTPUTS = {
    "TableName",
    "TableArn",
    "QueueUrl",
    "QueueArn",
    "DeadLetterQueueUrl",
    "DeadLetterQueueArn",
}


def _without_consumer(app: cdk.App, stages: dict[str, RefundStage]) -> None:
    """The stateless stack gone entirely: it uses none of the stateful outputs any more."""
    for stage in stages.values():
        assert stage.node.try_remove_child("Stateless")


@pytest.fixture(scope="module")
def without_consumer() -> Synthesis:
    return synthesize(scratch_dir("refunds-no-consumer-"), _without_consumer)


def test_stateful_stack_publishes_exactly_the_handoff_outputs(
    stateful_json: dict[str, Any],
) -> None:
    assert set(stateful_json["Outputs"]) == PUBLISHED_OUTPUTS


def test_no_output_is_exported_so_none_can_lock_the_stateful_stack(
    synthesis: Synthesis, stage: str
) -> None:
    for part in ("Stateful", "Stateless"):
        template = synthesis.template(stage, part)

        assert all("Export" not in output for output in template.get("Outputs", {}).values())
        assert "Fn::ImportValue" not in json.dumps(template)


def test_stateful_outputs_do_not_change_when_the_consumer_stops_using_them(
    synthesis: Synthesis, without_consumer: Synthesis, stage: str
) -> None:
    with_consumer = synthesis.template(stage, "Stateful")["Outputs"]
    no_consumer = without_consumer.template(stage, "Stateful")["Outputs"]

    assert no_consumer == with_consumer


def test_stateful_template_does_not_change_when_the_consumer_stops_using_it(
    synthesis: Synthesis, without_consumer: Synthesis, stage: str
) -> None:
    assert without_consumer.template(stage, "Stateful") == synthesis.template(stage, "Stateful")


def test_stateless_stack_reads_only_published_outputs_of_its_own_stage(
    stateless_json: dict[str, Any], stage: str
) -> None:
    reads = _stack_output_reads(stateless_json)

    assert {read["StackName"] for read in reads} == {f"Refunds-{stage}-Stateful"}
    assert {read["OutputName"] for read in reads} <= PUBLISHED_OUTPUTS


def test_stateless_stack_is_deployed_after_the_stateful_stack(
    synthesis: Synthesis, stage: str
) -> None:
    stateless = synthesis.stack(stage, "Stateless")
    stacks = {dependency.id for dependency in stateless.dependencies} - {f"{stateless.id}.assets"}

    assert stacks == {synthesis.stack(stage, "Stateful").id}


def _stack_output_reads(node: Any) -> list[dict[str, str]]:
    if isinstance(node, dict):
        if set(node) == {"Fn::GetStackOutput"}:
            return [node["Fn::GetStackOutput"]]
        return [read for value in node.values() for read in _stack_output_reads(value)]
    if isinstance(node, list):
        return [read for value in node for read in _stack_output_reads(value)]
    return []
