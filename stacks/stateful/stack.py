"""Stack holding what outlives a deployment: the refund table, the queues, the gateway log role."""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.config import (
    QUEUE_VISIBILITY_TIMEOUT,
    StageConfig,
    dead_letter_queue_name,
    queue_name,
)
from stacks.config import removal_policy as stage_removal_policy
from stacks.nag import acknowledge
from stacks.stateful.handoff import StatefulHandoff, publish, read_from

MAX_RECEIVE_COUNT = 3
QUEUE_RETENTION = cdk.Duration.days(4)
DEAD_LETTER_RETENTION = cdk.Duration.days(14)

# Actions API Gateway itself calls to deliver execution logs.
_EXECUTION_LOG_WRITE_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
]
_EXECUTION_LOG_DESCRIBE_ACTIONS = ["logs:DescribeLogGroups", "logs:DescribeLogStreams"]


class StatefulStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        removal_policy = stage_removal_policy(config)

        # Encryption stays with the AWS owned keys of DynamoDB and SQS: no customer managed key
        # exists, so no role needs a KMS permission and no key policy needs maintaining.
        self.table = dynamodb.Table(
            self,
            "RefundTable",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.DEFAULT,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.retain_data,
            removal_policy=removal_policy,
        )

        self.dead_letter_queue = sqs.Queue(
            self,
            "RefundDeadLetterQueue",
            queue_name=dead_letter_queue_name(config.name),
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=removal_policy,
        )
        self.queue = sqs.Queue(
            self,
            "RefundQueue",
            queue_name=queue_name(config.name),
            visibility_timeout=QUEUE_VISIBILITY_TIMEOUT,
            retention_period=QUEUE_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVE_COUNT, queue=self.dead_letter_queue
            ),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=removal_policy,
        )

        self._api_gateway_execution_logging(removal_policy)

        publish(
            self,
            StatefulHandoff(
                table_name=self.table.table_name,
                table_arn=self.table.table_arn,
                queue_url=self.queue.queue_url,
                queue_arn=self.queue.queue_arn,
                dead_letter_queue_url=self.dead_letter_queue.queue_url,
                dead_letter_queue_arn=self.dead_letter_queue.queue_arn,
            ),
        )

    @property
    def handoff(self) -> StatefulHandoff:
        """The published values, as a consumer in another stack reads them."""
        return read_from(self.stack_name)

    def _api_gateway_execution_logging(self, removal_policy: cdk.RemovalPolicy) -> None:
        """The account-wide role API Gateway needs before any stage may turn on execution logs.

        It lives here, not with the API, because it is account state that must exist before the
        stateless stack deploys and must survive that stack being replaced.
        """
        execution_log_groups = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="API-Gateway-Execution-Logs_*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        all_log_groups = self.format_arn(
            service="logs",
            resource="log-group",
            resource_name="*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        role = iam.Role(
            self,
            "ApiGatewayLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            inline_policies={
                "ExecutionLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=_EXECUTION_LOG_WRITE_ACTIONS,
                            resources=[execution_log_groups, f"{execution_log_groups}:*"],
                        ),
                        iam.PolicyStatement(
                            actions=_EXECUTION_LOG_DESCRIBE_ACTIONS, resources=[all_log_groups]
                        ),
                    ]
                )
            },
        )
        role.apply_removal_policy(removal_policy)
        for finding, reason in [
            (
                f"Resource::{execution_log_groups}",
                "API Gateway names execution log groups after the API id and stage, which are "
                "only known after deployment; the prefix limits the role to those groups.",
            ),
            (
                f"Resource::{execution_log_groups}:*",
                "Log streams inside the API Gateway execution log groups, created per request "
                "flow by API Gateway itself.",
            ),
            (
                f"Resource::{all_log_groups}",
                "DescribeLogGroups and DescribeLogStreams are authorised only on the log-group "
                "wildcard; both are read-only.",
            ),
        ]:
            acknowledge(role, f"AwsSolutions-IAM5[{finding}]", reason)

        account = apigateway.CfnAccount(
            self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn
        )
        # The setting is account-wide; removing it from a stack must not strip it from others.
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
