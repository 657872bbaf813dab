"""The three functions: runtime, code, environment, logs, tracing, roles and the queue mapping."""

import json
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.config import stage_configs
from stacks.stateless.function import ARCHITECTURE, RUNTIME
from stacks.stateless.powertools import layer_parameter_name, pinned_release
from tests.infrastructure.synth import Synthesis, cdk_context
from tests.infrastructure.templates import only_resource, resources_of, stack_output

RECEIVER = "receiver.handler.lambda_handler"
PROCESSOR = "processor.handler.lambda_handler"
STATUS = "status.handler.lambda_handler"
HANDLERS = (RECEIVER, PROCESSOR, STATUS)
# Where Powertools publishes the layer ARN of release 3.37.0 for Python 3.14 on arm64.
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/3.37.0"

XRAY = {"xray:PutTelemetryRecords", "xray:PutTraceSegments"}
OWN_LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
EXPECTED_ACTIONS = {
    RECEIVER: {"dynamodb:PutItem", "sqs:SendMessage"} | OWN_LOGS | XRAY,
    PROCESSOR: {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
    | OWN_LOGS
    | XRAY,
    STATUS: {"dynamodb:GetItem"} | OWN_LOGS | XRAY,
}


def _functions(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Handler -> (logical id, properties) of every function in the stateless template."""
    return {
        resource["Properties"]["Handler"]: (logical_id, resource["Properties"])
        for logical_id, resource in resources_of(template, "AWS::Lambda::Function").items()
    }


def _statements(template: dict[str, Any], handler: str) -> list[dict[str, Any]]:
    role_id = _functions(template)[handler][1]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    assert len(role["Policies"]) == 1
    statements: list[dict[str, Any]] = role["Policies"][0]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _resource_of(template: dict[str, Any], handler: str, action: str) -> Any:
    return next(s["Resource"] for s in _statements(template, handler) if action in _actions(s))


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_runs_python_3_14_on_arm64(stateless_json: dict[str, Any], handler: str) -> None:
    _, function = _functions(stateless_json)[handler]

    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]


def test_stage_has_exactly_the_three_refund_functions(stateless_json: dict[str, Any]) -> None:
    assert set(_functions(stateless_json)) == set(HANDLERS)


@pytest.mark.parametrize(
    ("handler", "memory", "timeout"),
    [(RECEIVER, 256, 10), (PROCESSOR, 256, 30), (STATUS, 256, 5)],
)
def test_function_memory_and_timeout(
    stateless_json: dict[str, Any], handler: str, memory: int, timeout: int
) -> None:
    _, function = _functions(stateless_json)[handler]

    assert (function["MemorySize"], function["Timeout"]) == (memory, timeout)


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_has_active_xray_tracing(stateless_json: dict[str, Any], handler: str) -> None:
    _, function = _functions(stateless_json)[handler]

    assert function["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_writes_to_its_own_log_group_with_the_stage_retention(
    stateless_json: dict[str, Any], stage: str, handler: str
) -> None:
    _, function = _functions(stateless_json)[handler]
    log_group_id = function["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = stateless_json["Resources"][log_group_id]

    assert log_group["Properties"]["RetentionInDays"] == {"Dev": 14, "Prod": 365}[stage]
    assert log_group["DeletionPolicy"] == {"Dev": "Delete", "Prod": "Retain"}[stage]


def test_receiver_environment(stateless_json: dict[str, Any], stage: str) -> None:
    _, receiver = _functions(stateless_json)[RECEIVER]

    assert receiver["Environment"]["Variables"] == {
        "TABLE_NAME": stack_output(stage, "TableName"),
        "QUEUE_URL": stack_output(stage, "QueueUrl"),
        "STAGE": stage,
        "FAULT_INJECTION_ENABLED": {"Dev": "true", "Prod": "false"}[stage],
        "POWERTOOLS_SERVICE_NAME": "receiver",
        "POWERTOOLS_METRICS_NAMESPACE": "RefundAutomation",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_processor_environment(stateless_json: dict[str, Any], stage: str) -> None:
    _, processor = _functions(stateless_json)[PROCESSOR]

    assert processor["Environment"]["Variables"] == {
        "TABLE_NAME": stack_output(stage, "TableName"),
        "STAGE": stage,
        "FAULT_INJECTION_ENABLED": {"Dev": "true", "Prod": "false"}[stage],
        "POWERTOOLS_SERVICE_NAME": "processor",
        "POWERTOOLS_METRICS_NAMESPACE": "RefundAutomation",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_status_reader_environment(stateless_json: dict[str, Any], stage: str) -> None:
    _, status = _functions(stateless_json)[STATUS]

    assert status["Environment"]["Variables"] == {
        "TABLE_NAME": stack_output(stage, "TableName"),
        "STAGE": stage,
        "POWERTOOLS_SERVICE_NAME": "status",
        "POWERTOOLS_METRICS_NAMESPACE": "RefundAutomation",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


@pytest.mark.parametrize("knob", ["GATEWAY_TIMEOUT_RATE", "PROCESSOR_CRASH_RATE"])
def test_fault_rate_knobs_are_never_deployed(synthesis: Synthesis, knob: str) -> None:
    for stage in ("Dev", "Prod"):
        for part in ("Stateful", "Stateless"):
            assert knob not in json.dumps(synthesis.template(stage, part))


def test_every_function_takes_the_powertools_layer_arn_from_the_release_parameter(
    stateless_json: dict[str, Any],
) -> None:
    layers = [function["Layers"] for _, function in _functions(stateless_json).values()]
    parameter_id = layers[0][0]["Ref"]

    assert layers == [[{"Ref": parameter_id}]] * 3
    assert stateless_json["Parameters"][parameter_id] == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": POWERTOOLS_PARAMETER,
    }


def test_powertools_parameter_names_the_pinned_release_for_the_functions_runtime() -> None:
    assert pinned_release() == "3.37.0"
    assert layer_parameter_name(pinned_release(), RUNTIME, ARCHITECTURE) == POWERTOOLS_PARAMETER


@pytest.mark.parametrize("handler", HANDLERS)
def test_role_holds_exactly_the_actions_its_function_calls(
    stateless_json: dict[str, Any], handler: str
) -> None:
    actions = {a for statement in _statements(stateless_json, handler) for a in _actions(statement)}

    assert actions == EXPECTED_ACTIONS[handler]


@pytest.mark.parametrize("handler", HANDLERS)
def test_role_allows_only_and_has_no_managed_policies(
    stateless_json: dict[str, Any], handler: str
) -> None:
    role_id = _functions(stateless_json)[handler][1]["Role"]["Fn::GetAtt"][0]
    role = stateless_json["Resources"][role_id]["Properties"]

    assert "ManagedPolicyArns" not in role
    assert {s["Effect"] for s in _statements(stateless_json, handler)} == {"Allow"}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }


def test_no_policy_is_attached_outside_the_roles(stateless_json: dict[str, Any]) -> None:
    assert resources_of(stateless_json, "AWS::IAM::Policy") == {}
    assert resources_of(stateless_json, "AWS::IAM::ManagedPolicy") == {}


def test_each_function_has_its_own_role(stateless_json: dict[str, Any]) -> None:
    roles = {
        function["Role"]["Fn::GetAtt"][0] for _, function in _functions(stateless_json).values()
    }

    assert len(roles) == 3


@pytest.mark.parametrize("handler", HANDLERS)
def test_only_xray_actions_use_a_wildcard_resource(
    stateless_json: dict[str, Any], handler: str
) -> None:
    wildcard = [s for s in _statements(stateless_json, handler) if s["Resource"] == "*"]

    assert [_actions(s) for s in wildcard] == [XRAY]


@pytest.mark.parametrize("handler", HANDLERS)
def test_log_permissions_cover_only_the_functions_own_log_group(
    stateless_json: dict[str, Any], handler: str
) -> None:
    _, function = _functions(stateless_json)[handler]
    log_group_id = function["LoggingConfig"]["LogGroup"]["Ref"]

    assert _resource_of(stateless_json, handler, "logs:PutLogEvents") == {
        "Fn::GetAtt": [log_group_id, "Arn"]
    }


@pytest.mark.parametrize(
    ("handler", "action", "output"),
    [
        (RECEIVER, "dynamodb:PutItem", "TableArn"),
        (RECEIVER, "sqs:SendMessage", "QueueArn"),
        (PROCESSOR, "dynamodb:UpdateItem", "TableArn"),
        (PROCESSOR, "sqs:ReceiveMessage", "QueueArn"),
        (STATUS, "dynamodb:GetItem", "TableArn"),
    ],
)
def test_data_permissions_name_the_stage_table_and_queue(
    stateless_json: dict[str, Any], stage: str, handler: str, action: str, output: str
) -> None:
    assert _resource_of(stateless_json, handler, action) == stack_output(stage, output)


@pytest.mark.parametrize("handler", HANDLERS)
def test_function_holds_no_kms_permission_because_no_function_reads_the_key_secret(
    stateless_json: dict[str, Any], handler: str
) -> None:
    actions = {a for statement in _statements(stateless_json, handler) for a in _actions(statement)}

    assert [action for action in actions if action.startswith("kms:")] == []


def test_processor_consumes_the_refund_queue_in_reported_batches(
    stateless_json: dict[str, Any], stage: str
) -> None:
    mapping = only_resource(stateless_json, "AWS::Lambda::EventSourceMapping")
    processor_id, _ = _functions(stateless_json)[PROCESSOR]

    assert mapping == {
        "EventSourceArn": stack_output(stage, "QueueArn"),
        "FunctionName": {"Ref": processor_id},
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 5,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 5},
    }


def test_stage_settings_come_from_cdk_json() -> None:
    configs = stage_configs(cdk.App(context=cdk_context()).node)

    assert [config.name for config in configs.values()] == ["Dev", "Prod"]
    assert (configs["Dev"].fault_injection, configs["Prod"].fault_injection) == (True, False)
