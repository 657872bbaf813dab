"""Log groups kept for the stage's number of days, in the units CloudWatch Logs accepts."""

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention_days(days: int) -> logs.RetentionDays:
    if days not in _BY_DAYS:
        raise ValueError(f"CloudWatch Logs cannot keep logs for {days} days; use one of {_BY_DAYS}")
    return _BY_DAYS[days]


def stage_log_group(
    scope: Construct, id: str, *, retention: logs.RetentionDays, removal_policy: cdk.RemovalPolicy
) -> logs.LogGroup:
    """A log group CloudFormation owns, so its retention and removal are stated in the template."""
    return logs.LogGroup(scope, id, retention=retention, removal_policy=removal_policy)
