"""The AWS-published Powertools layer at the release pinned in requirements.txt."""

import re
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import powertools_layer_versions

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"
LAYER_ACCOUNT = "017000801446"
_PIN = re.compile(r"^aws[-_]lambda[-_]powertools(?:\[[^\]]*\])?==(?P<release>[0-9][^\s;#]*)", re.I)


def pinned_release(requirements: Path = REQUIREMENTS) -> str:
    """The one place the Powertools release is decided: the local dependency pin."""
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            return match.group("release")
    raise ValueError(f"no aws-lambda-powertools==<release> pin in {requirements}")


def layer_name(runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> str:
    """AWSLambdaPowertoolsPythonV3-python314-arm64 for Python 3.14 on arm64."""
    python = runtime.name.replace(".", "")
    return f"AWSLambdaPowertoolsPythonV3-{python}-{architecture.name}"


def powertools_layer(
    scope: Construct,
    *,
    region: str,
    runtime: lambda_.Runtime,
    architecture: lambda_.Architecture,
) -> lambda_.ILayerVersion:
    release = pinned_release()
    versions = powertools_layer_versions(scope.node)
    if release not in versions:
        raise ValueError(
            f"aws-lambda-powertools {release} is pinned but cdk.json context "
            f"refunds.powertoolsLayerVersions has no layer version for it"
        )
    arn = (
        f"arn:aws:lambda:{region}:{LAYER_ACCOUNT}:layer:"
        f"{layer_name(runtime, architecture)}:{versions[release]}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)
