"""Stage settings read from the `refunds` block of cdk.json context, in one typed place."""

from dataclasses import dataclass
from typing import Any

from constructs import Node


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


@dataclass(frozen=True)
class PipelineConfig:
    account: str
    region: str
    connection_arn: str
    repository: str
    branch: str


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
    )


def stage_configs(node: Node) -> dict[str, StageConfig]:
    """Every stage named in context, in the order they are promoted (Dev before Prod)."""
    raw = node.get_context("refunds")
    return {
        name: _stage(name, settings, raw["alarmEmail"]) for name, settings in raw["stages"].items()
    }


def pipeline_config(node: Node) -> PipelineConfig:
    raw = node.get_context("refunds")
    return PipelineConfig(
        account=str(raw["toolingAccount"]),
        region=raw["toolingRegion"],
        connection_arn=raw["connectionArn"],
        repository=raw["repository"],
        branch=raw["branch"],
    )
