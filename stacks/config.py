"""Stage settings read from the `refunds` block of cdk.json context, in one typed place.

Also the few fixed numbers both stacks must agree on, so that neither keeps a copy of the other's.
"""

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from constructs import Node

# A batch of ten refunds, each with a bounded payment gateway call, finishes well inside this.
PROCESSOR_TIMEOUT = cdk.Duration.seconds(30)
# Lambda's guidance for SQS sources: a visibility timeout of at least six function timeouts, so
# that a message is not handed out again while retries of a throttled invocation still run.
VISIBILITY_TIMEOUT_FACTOR = 6
QUEUE_VISIBILITY_TIMEOUT = cdk.Duration.seconds(
    PROCESSOR_TIMEOUT.to_seconds() * VISIBILITY_TIMEOUT_FACTOR
)


def queue_name(stage: str) -> str:
    """The refund queue's fixed name, which its CloudWatch metrics are filed under.

    The stateless stack's alarms need it as plain text: the handed-over ARN is a
    Fn::GetStackOutput, which CloudFormation does not accept inside the Fn::Split that would
    take the name out of it.
    """
    return f"refunds-{stage.lower()}"


def dead_letter_queue_name(stage: str) -> str:
    return f"{queue_name(stage)}-dead-letter"


@dataclass(frozen=True)
class Throttle:
    rate_limit: int
    burst_limit: int
    quota_per_day: int


@dataclass(frozen=True)
class StageConfig:
    name: str
    account: str
    region: str
    fault_injection: bool
    retain_data: bool
    log_retention_days: int
    waf: bool
    throttle: Throttle
    alarm_email: str
    # API Gateway execution logging: INFO where debugging matters, ERROR where volume costs.
    execution_log_level: str


@dataclass(frozen=True)
class PipelineConfig:
    account: str
    region: str
    connection_arn: str
    repository: str
    branch: str


def removal_policy(config: StageConfig) -> cdk.RemovalPolicy:
    """What CloudFormation does with data and logs when a resource leaves the stack."""
    return cdk.RemovalPolicy.RETAIN if config.retain_data else cdk.RemovalPolicy.DESTROY


def _stage(name: str, raw: dict[str, Any], alarm_email: str) -> StageConfig:
    throttle = raw["throttle"]
    return StageConfig(
        name=name,
        account=str(raw["account"]),
        region=raw["region"],
        fault_injection=bool(raw["faultInjection"]),
        retain_data=bool(raw["retainData"]),
        log_retention_days=int(raw["logRetentionDays"]),
        waf=bool(raw["waf"]),
        throttle=Throttle(
            rate_limit=int(throttle["rateLimit"]),
            burst_limit=int(throttle["burstLimit"]),
            quota_per_day=int(throttle["quotaPerDay"]),
        ),
        alarm_email=alarm_email,
        execution_log_level=raw["executionLogLevel"],
    )


def stage_configs(node: Node) -> dict[str, StageConfig]:
    """Every stage named in context, in the order they are promoted (Dev before Prod)."""
    raw = node.get_context("refunds")
    return {
        name: _stage(name, settings, raw["alarmEmail"]) for name, settings in raw["stages"].items()
    }


def smoke_test_role_name(stage: str) -> str:
    """The pipeline's smoke test role of a stage: a fixed name, so that the stage's secret and key
    policies can name it from the stage's account, even before the role exists."""
    return f"Refunds-{stage}-SmokeTest"


def pipeline_config(node: Node) -> PipelineConfig:
    raw = node.get_context("refunds")
    return PipelineConfig(
        account=str(raw["toolingAccount"]),
        region=raw["toolingRegion"],
        connection_arn=raw["connectionArn"],
        repository=raw["repository"],
        branch=raw["branch"],
    )
