"""One refund function: its code, its own log group, and a role holding only what it calls."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.nag import acknowledge
from stacks.stateless.assets import function_code
from stacks.stateless.retention import stage_log_group

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "RefundAutomation"

# AWS accepts the X-Ray write calls only on "*"; they carry no data access.
_XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
_LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def allow(actions: Sequence[str], resource: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(actions), resources=[resource])


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the receiver, the processor and the status reader."""

    folder: str
    memory_mb: int
    timeout: cdk.Duration
    environment: Mapping[str, str]
    statements: Sequence[iam.PolicyStatement]
    description: str

    @property
    def handler(self) -> str:
        return f"{self.folder}.handler.lambda_handler"


@dataclass(frozen=True)
class Shared:
    """Settings every function of a stage shares."""

    stage: str
    table_name: str
    log_retention: logs.RetentionDays
    removal_policy: cdk.RemovalPolicy
    layers: Sequence[lambda_.ILayerVersion]
    log_level: str = "INFO"


class RefundFunction(Construct):
    def __init__(self, scope: Construct, id: str, *, spec: FunctionSpec, shared: Shared) -> None:
        super().__init__(scope, id)

        self.log_group = stage_log_group(
            self, "LogGroup", retention=shared.log_retention, removal_policy=shared.removal_policy
        )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {spec.folder} function and nothing else",
            inline_policies={
                "Permissions": iam.PolicyDocument(
                    statements=[
                        *spec.statements,
                        allow(_LOG_ACTIONS, self.log_group.log_group_arn),
                        allow(_XRAY_ACTIONS, "*"),
                    ]
                )
            },
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource scoping; AWS "
            "requires Resource * for them and they grant no data access.",
        )

        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=function_code(spec.folder),
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            layers=list(shared.layers),
            # Immutable: CDK's own grants (X-Ray, logs) would otherwise add a second policy; the
            # inline policy above is the whole permission set.
            role=self.role.without_policy_updates(),
            environment={
                "TABLE_NAME": shared.table_name,
                "STAGE": shared.stage,
                "POWERTOOLS_SERVICE_NAME": spec.folder,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": shared.log_level,
                **spec.environment,
            },
        )
