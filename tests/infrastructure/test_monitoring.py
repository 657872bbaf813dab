"""Alarms, their topic and the dashboard of each stage, as the stateless template states them."""

import functools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest

from stacks.config import QUEUE_VISIBILITY_TIMEOUT
from stacks.stateful.stack import MAX_RECEIVE_COUNT
from tests.infrastructure.synth import REPO_ROOT, Synthesis, cdk_context
from tests.infrastructure.templates import only_resource, resources_of

TOPIC = "AWS::SNS::Topic"
FIVE_MINUTES = 300


@dataclass(frozen=True)
class Expected:
    namespace: str
    metric: str
    statistic: str
    threshold: float
    periods: int


# Alarm name after the stage prefix -> what it watches. Every alarm compares with
# GreaterThanThreshold over five-minute periods and needs `periods` breaching periods in a row.
ALARMS = {
    "DeadLetterQueue-Messages": Expected(
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 0, 1
    ),
    "Queue-OldestMessageAge": Expected(
        "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", 600, 1
    ),
    "Receiver-Errors": Expected("AWS/Lambda", "Errors", "Sum", 0, 1),
    "Receiver-Throttles": Expected("AWS/Lambda", "Throttles", "Sum", 0, 1),
    "Processor-Errors": Expected("AWS/Lambda", "Errors", "Sum", 0, 1),
    "Processor-Throttles": Expected("AWS/Lambda", "Throttles", "Sum", 0, 1),
    "Api-5xxRate": Expected("AWS/ApiGateway", "5XXError", "Average", 0.01, 3),
    "Api-LatencyP99": Expected("AWS/ApiGateway", "Latency", "p99", 3000, 3),
}


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Alarm name -> properties, for every alarm in the template."""
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values()
    }


def _alarm(template: dict[str, Any], stage: str, name: str) -> dict[str, Any]:
    return _alarms(template)[f"Refunds-{stage}-{name}"]


def _metric(alarm: dict[str, Any]) -> dict[str, Any]:
    """The one metric an alarm watches, with its statistic and period."""
    (query,) = alarm["Metrics"]
    stat: dict[str, Any] = query["MetricStat"]
    return stat


def _dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in _metric(alarm)["Metric"]["Dimensions"]}


def _logical_id(template: dict[str, Any], resource_type: str) -> str:
    (logical_id,) = resources_of(template, resource_type)
    return logical_id


def _function_id(template: dict[str, Any], handler: str) -> str:
    return next(
        logical_id
        for logical_id, function in resources_of(template, "AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == handler
    )


def _queue_names(stateful: dict[str, Any]) -> dict[str, str]:
    """ "queue" and "dead letter" -> the name the stateful stack gives each queue."""
    queues = resources_of(stateful, "AWS::SQS::Queue").values()
    return {
        ("queue" if "RedrivePolicy" in q["Properties"] else "dead letter"): q["Properties"][
            "QueueName"
        ]
        for q in queues
    }


def _dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's JSON body, with each CloudFormation reference inside it as "<ref>"."""
    body = only_resource(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(part if isinstance(part, str) else "<ref>" for part in parts)
    document: dict[str, Any] = json.loads(text)
    return document


def _graphed_metrics(body: dict[str, Any], namespace: str) -> dict[str, dict[str, str]]:
    """Metric name -> dimensions, for every metric of a namespace drawn on the dashboard."""
    graphed = {}
    for widget in body["widgets"]:
        for line in widget.get("properties", {}).get("metrics", []):
            names = [part for part in line if isinstance(part, str)]
            if names and names[0] == namespace:
                graphed[names[1]] = dict(zip(names[2::2], names[3::2], strict=True))
    return graphed


@functools.cache
def _emitted_metric(service: str, name: str, stage: str) -> dict[str, Any]:
    """One metric exactly as the services' shared Metrics writes it, in embedded metric format."""
    code = (
        "from aws_lambda_powertools.metrics import MetricUnit\n"
        "from shared.observability import metrics\n"
        f"metrics.add_metric(name={name!r}, unit=MetricUnit.Count, value=1)\n"
        "metrics.flush_metrics()\n"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT / "services"),
        "STAGE": stage,
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": "RefundAutomation",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    emitted: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return emitted


def _metric_names_in_services() -> set[str]:
    """Every Refunds* metric name written anywhere in the function code."""
    sources = (REPO_ROOT / "services").rglob("*.py")
    return {
        name for path in sources for name in re.findall(r'"(Refunds[A-Z]\w*)"', path.read_text())
    }


@pytest.mark.parametrize("name", ALARMS)
def test_alarm_watches_its_metric_with_its_threshold(
    stateless_json: dict[str, Any], stage: str, name: str
) -> None:
    expected = ALARMS[name]
    alarm = _alarm(stateless_json, stage, name)
    metric = _metric(alarm)

    assert metric["Metric"]["Namespace"] == expected.namespace
    assert metric["Metric"]["MetricName"] == expected.metric
    assert metric["Stat"] == expected.statistic
    assert metric["Period"] == FIVE_MINUTES
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == expected.threshold
    assert alarm["EvaluationPeriods"] == expected.periods
    assert alarm["DatapointsToAlarm"] == expected.periods


def test_stage_has_exactly_these_alarms_each_named_after_the_stage(
    stateless_json: dict[str, Any], stage: str
) -> None:
    assert set(_alarms(stateless_json)) == {f"Refunds-{stage}-{name}" for name in ALARMS}


@pytest.mark.parametrize("name", ALARMS)
def test_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears(
    stateless_json: dict[str, Any], stage: str, name: str
) -> None:
    alarm = _alarm(stateless_json, stage, name)
    topic = {"Ref": _logical_id(stateless_json, TOPIC)}

    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == [topic]
    assert alarm["OKActions"] == [topic]


@pytest.mark.parametrize("name", ALARMS)
def test_alarm_description_points_to_its_runbook_entry(
    stateless_json: dict[str, Any], stage: str, name: str
) -> None:
    alarm = _alarm(stateless_json, stage, name)

    assert alarm["AlarmDescription"].endswith(
        f"Runbook: docs/operations.md, Refunds-{stage}-{name}."
    )


def test_an_idle_stage_keeps_every_alarm_ok(stateless_json: dict[str, Any], stage: str) -> None:
    treatments = {alarm["TreatMissingData"] for alarm in _alarms(stateless_json).values()}

    assert treatments == {"notBreaching"}


def test_p99_latency_is_not_judged_on_too_few_requests(
    stateless_json: dict[str, Any], stage: str
) -> None:
    alarm = _alarm(stateless_json, stage, "Api-LatencyP99")

    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"


@pytest.mark.parametrize(
    ("name", "queue"),
    [("Queue-OldestMessageAge", "queue"), ("DeadLetterQueue-Messages", "dead letter")],
)
def test_queue_alarm_watches_the_queue_of_the_stateful_stack(
    stateless_json: dict[str, Any], stateful_json: dict[str, Any], stage: str, name: str, queue: str
) -> None:
    alarm = _alarm(stateless_json, stage, name)

    assert _dimensions(alarm) == {"QueueName": _queue_names(stateful_json)[queue]}


def test_queues_have_fixed_names_per_stage(stateful_json: dict[str, Any], stage: str) -> None:
    lower = stage.lower()

    assert _queue_names(stateful_json) == {
        "queue": f"refunds-{lower}",
        "dead letter": f"refunds-{lower}-dead-letter",
    }


def test_oldest_message_alarm_waits_longer_than_a_failing_refund_is_retried() -> None:
    longest_retry = MAX_RECEIVE_COUNT * QUEUE_VISIBILITY_TIMEOUT.to_seconds()

    assert longest_retry == 540
    assert ALARMS["Queue-OldestMessageAge"].threshold > longest_retry


@pytest.mark.parametrize(
    ("prefix", "handler"),
    [
        ("Receiver", "receiver.handler.lambda_handler"),
        ("Processor", "processor.handler.lambda_handler"),
    ],
)
@pytest.mark.parametrize("kind", ["Errors", "Throttles"])
def test_function_alarm_watches_its_own_function(
    stateless_json: dict[str, Any], stage: str, prefix: str, handler: str, kind: str
) -> None:
    alarm = _alarm(stateless_json, stage, f"{prefix}-{kind}")

    assert _dimensions(alarm) == {"FunctionName": {"Ref": _function_id(stateless_json, handler)}}


@pytest.mark.parametrize("name", ["Api-5xxRate", "Api-LatencyP99"])
def test_api_alarm_watches_the_stage_of_the_refund_api(
    stateless_json: dict[str, Any], stage: str, name: str
) -> None:
    alarm = _alarm(stateless_json, stage, name)
    api_name = only_resource(stateless_json, "AWS::ApiGateway::RestApi")["Name"]

    assert api_name == f"refunds-{stage.lower()}"
    assert _dimensions(alarm) == {
        "ApiName": api_name,
        "Stage": {"Ref": _logical_id(stateless_json, "AWS::ApiGateway::Stage")},
    }


def _topic_key(template: dict[str, Any]) -> dict[str, Any]:
    """The KMS key the alarm topic is encrypted with."""
    key_id, attribute = only_resource(template, TOPIC)["KmsMasterKeyId"]["Fn::GetAtt"]
    key = template["Resources"][key_id]

    assert (key["Type"], attribute) == ("AWS::KMS::Key", "Arn")
    properties: dict[str, Any] = key["Properties"]
    return properties


def test_alarm_topic_is_encrypted_with_its_own_rotating_key(
    stateless_json: dict[str, Any], stage: str
) -> None:
    key = _topic_key(stateless_json)

    assert key["Description"] == f"Encrypts the Refunds-{stage} alarm topic"
    assert key["EnableKeyRotation"] is True


def test_alarm_topic_refuses_publishing_without_tls(stateless_json: dict[str, Any]) -> None:
    statements = only_resource(stateless_json, "AWS::SNS::TopicPolicy")["PolicyDocument"][
        "Statement"
    ]

    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": _logical_id(stateless_json, TOPIC)},
        "Sid": "AllowPublishThroughSSLOnly",
    } in statements


def _cloudwatch_statement(statements: list[dict[str, Any]]) -> dict[str, Any]:
    (statement,) = [s for s in statements if s.get("Sid") == "AlarmsOfThisStage"]
    return statement


def _from_this_stage_alarms(synthesis: Synthesis, stage: str) -> dict[str, Any]:
    """The condition that lets CloudWatch act only for this stage's alarms in its account."""
    environment = synthesis.stack(stage, "Stateless").environment
    account, region = environment.account, environment.region
    return {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {
            "aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:Refunds-{stage}-*"
        },
    }


def test_only_this_stages_alarms_may_publish_to_the_topic(
    synthesis: Synthesis, stateless_json: dict[str, Any], stage: str
) -> None:
    policy = only_resource(stateless_json, "AWS::SNS::TopicPolicy")["PolicyDocument"]
    statement = _cloudwatch_statement(policy["Statement"])

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == _from_this_stage_alarms(synthesis, stage)


def test_only_this_stages_alarms_may_use_the_topic_key(
    synthesis: Synthesis, stateless_json: dict[str, Any], stage: str
) -> None:
    statement = _cloudwatch_statement(_topic_key(stateless_json)["KeyPolicy"]["Statement"])

    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == _from_this_stage_alarms(synthesis, stage)


def test_alarm_topic_mails_the_address_from_cdk_json(stateless_json: dict[str, Any]) -> None:
    subscription = only_resource(stateless_json, "AWS::SNS::Subscription")

    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == cdk_context()["refunds"]["alarmEmail"]
    assert subscription["Endpoint"] == "refunds-oncall@example.com"
    assert subscription["TopicArn"] == {"Ref": _logical_id(stateless_json, TOPIC)}


def test_each_stage_has_one_dashboard_named_after_it(
    stateless_json: dict[str, Any], stage: str
) -> None:
    dashboard = only_resource(stateless_json, "AWS::CloudWatch::Dashboard")

    assert dashboard["DashboardName"] == f"Refunds-{stage}"


def test_dashboard_graphs_every_business_metric_the_services_write(
    stateless_json: dict[str, Any],
) -> None:
    graphed = _graphed_metrics(_dashboard_body(stateless_json), "RefundAutomation")

    assert set(graphed) == _metric_names_in_services()
    assert set(graphed) == {
        "RefundsAccepted",
        "RefundsApproved",
        "RefundsRejected",
        "RefundsFailed",
    }


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("receiver", "RefundsAccepted"),
        ("processor", "RefundsApproved"),
        ("processor", "RefundsRejected"),
        ("processor", "RefundsFailed"),
    ],
)
def test_dashboard_reads_a_business_metric_with_the_dimensions_powertools_writes(
    stateless_json: dict[str, Any], stage: str, service: str, name: str
) -> None:
    emitted = _emitted_metric(service, name, stage)
    (directive,) = emitted["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = directive["Dimensions"]
    graphed = _graphed_metrics(_dashboard_body(stateless_json), directive["Namespace"])

    assert graphed[name] == {key: emitted[key] for key in dimension_names}
    assert graphed[name] == {"service": service, "stage": stage}
