"""The AWS-published Powertools layer at the release pinned in requirements.txt.

Powertools publishes the exact layer ARN of every release as a public SSM parameter in each
region; the stack reads it at deploy time, so synth needs no network and guesses no number.
"""

import re
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
_PIN = re.compile(r"^aws[-_]lambda[-_]powertools(?:\[[^\]]*\])?==(?P<release>[0-9][^\s;#]*)", re.I)


def pinned_release(requirements: Path = REQUIREMENTS) -> str:
    """The one place the Powertools release is decided: the local dependency pin."""
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            return match.group("release")
    raise ValueError(f"no aws-lambda-powertools==<release> pin in {requirements}")


def layer_parameter_name(
    release: str, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> str:
    """/aws/service/powertools/python/arm64/python3.14/3.37.0 for that release on that runtime."""
    return f"/aws/service/powertools/python/{architecture.name}/{runtime.name}/{release}"


def powertools_layer(
    scope: Construct, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    # A CloudFormation parameter of type AWS::SSM::Parameter::Value<String>: resolved in the
    # stage's own region on every deploy, and a release Powertools never published fails the
    # deploy instead of running an unknown layer.
    arn = ssm.StringParameter.value_for_string_parameter(
        scope, layer_parameter_name(pinned_release(), runtime, architecture)
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)
