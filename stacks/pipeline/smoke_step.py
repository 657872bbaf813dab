"""The CodeBuild step that smoke-tests a stage, with a role that reads only that stage's API key."""

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from stacks.config import StageConfig, smoke_test_role_name
from stacks.pipeline.smoke import checks

SCRIPT = "stacks/pipeline/smoke/checks.py"
# The constraints file pins boto3 and everything it pulls in to the versions the tests ran with.
INSTALL = (
    "python3 -m pip install --quiet --disable-pip-version-check --constraint requirements.txt boto3"
)


@dataclass(frozen=True)
class SmokeTarget:
    """What a smoke test needs from a deployed stage: two outputs, read once the stage is deployed,
    and the secret's fixed name, which limits the role to that one secret."""

    stage: StageConfig
    api_url: cdk.CfnOutput
    # A secret in another account can only be named by its ARN.
    secret_arn: cdk.CfnOutput
    secret_name: str


@dataclass(frozen=True)
class SmokeTest:
    step: pipelines.CodeBuildStep
    role: iam.Role
    mode: str
    decrypt_keys: str


def secret_arn_pattern(scope: Construct, target: SmokeTarget) -> str:
    # Secrets Manager appends six random characters to the name of every secret it creates.
    return cdk.Stack.of(scope).format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{target.secret_name}-??????",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        account=target.stage.account,
        region=target.stage.region,
    )


def stage_keys_arn(scope: Construct, target: SmokeTarget) -> str:
    """Every KMS key of the stage's account: the secret's key is created there, so its id is
    unknown here."""
    return cdk.Stack.of(scope).format_arn(
        service="kms",
        resource="key",
        resource_name="*",
        account=target.stage.account,
        region=target.stage.region,
    )


def read_secret_statements(scope: Construct, target: SmokeTarget) -> list[iam.PolicyStatement]:
    """Reading a secret from another account takes the secret itself and its key's decrypt; the
    decrypt is held only through Secrets Manager, and only for this secret."""
    secret = secret_arn_pattern(scope, target)
    region = target.stage.region
    keys = stage_keys_arn(scope, target)
    return [
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret]),
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[keys],
            conditions={
                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:SecretARN": secret},
            },
        ),
    ]


def smoke_test(
    scope: Construct,
    target: SmokeTarget,
    source: pipelines.IFileSetProducer,
    *,
    read_only: bool,
) -> SmokeTest:
    mode = checks.READ_ONLY if read_only else checks.FULL
    role = iam.Role(
        scope,
        f"{target.stage.name}SmokeTestRole",
        role_name=smoke_test_role_name(target.stage.name),
        assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        description=f"Runs the {mode} smoke test of the {target.stage.name} stage",
    )
    step = pipelines.CodeBuildStep(
        "SmokeTest",
        input=source,
        role=role,
        role_policy_statements=read_secret_statements(scope, target),
        env_from_cfn_outputs={
            checks.URL_VARIABLE: target.api_url,
            checks.KEY_VARIABLE: target.secret_arn,
        },
        install_commands=[INSTALL],
        commands=[f"python3 {SCRIPT} --mode {mode}"],
        timeout=cdk.Duration.minutes(10),
    )
    return SmokeTest(step=step, role=role, mode=mode, decrypt_keys=stage_keys_arn(scope, target))
