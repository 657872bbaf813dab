"""cdk-nag AwsSolutions checks on the whole app, and the one way this code acknowledges findings."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def register_checks(app: cdk.App) -> None:
    """On the App, not on a Stage: plugins registered on a nested Stage check nothing."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Accept one exact finding (rule id, with [detail] where the rule has one) on one construct.

    The acknowledgment covers the construct and its children, so it belongs on the narrowest
    construct that owns the finding.
    """
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding, reason=reason))
