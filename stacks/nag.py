"""cdk-nag AwsSolutions checks on the whole app, so that every stage and stack is covered."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks


def register_checks(app: cdk.App) -> None:
    """Checks registered on a Stage see nothing; they have to sit on the App itself."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
