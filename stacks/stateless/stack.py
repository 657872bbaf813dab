"""Stack holding what can be replaced at any time: the API and the three functions."""

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import (
    PROCESSOR_TIMEOUT,
    StageConfig,
    dead_letter_queue_name,
    pipeline_config,
    queue_name,
    smoke_test_role_name,
)
from stacks.config import removal_policy as stage_removal_policy
from stacks.nag import acknowledge
from stacks.stateful.handoff import StatefulHandoff
from stacks.stateless.api import ApiSettings, KeyReader, RefundApi
from stacks.stateless.function import (
    ARCHITECTURE,
    RUNTIME,
    FunctionSpec,
    RefundFunction,
    Shared,
    allow,
)
from stacks.stateless.monitoring import MonitoredResources, RefundMonitoring
from stacks.stateless.powertools import powertools_layer
from stacks.stateless.retention import retention_days
from stacks.stateless.waf import ApiWebAcl

# SQS event source: up to ten refunds per invocation, gathered for at most five seconds, so that
# a quiet queue still answers within seconds and a busy one is drained in full batches.
BATCH_SIZE = 10
MAX_BATCHING_WINDOW = cdk.Duration.seconds(5)
# At most this many processor invocations at once: the payment gateway sees a bounded number of
# concurrent calls however long the queue grows. Two is the smallest value Lambda accepts.
MAX_CONCURRENCY = 5

PROCESSOR_CONSUME_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]


def api_key_secret_name(stage: str) -> str:
    """Where the pipeline's smoke test and operators find the stage's API key value."""
    return f"refunds/{stage.lower()}/api-key"


class StatelessStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        stateful: StatefulHandoff,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        removal_policy = stage_removal_policy(config)
        log_retention = retention_days(config.log_retention_days)
        fault_injection = "true" if config.fault_injection else "false"

        shared = Shared(
            stage=config.name,
            table_name=stateful.table_name,
            log_retention=log_retention,
            removal_policy=removal_policy,
            layers=[powertools_layer(self, runtime=RUNTIME, architecture=ARCHITECTURE)],
        )

        # Memory buys CPU on Lambda: 256 MB keeps a Python cold start with the Powertools layer
        # short. The receiver answers inside API Gateway's 29 s limit with room to spare; the
        # status reader does a single read.
        self.receiver = RefundFunction(
            self,
            "Receiver",
            shared=shared,
            spec=FunctionSpec(
                folder="receiver",
                description="Accepts a refund request, stores it PENDING and queues it",
                memory_mb=256,
                timeout=cdk.Duration.seconds(10),
                environment={
                    "QUEUE_URL": stateful.queue_url,
                    "FAULT_INJECTION_ENABLED": fault_injection,
                },
                statements=[
                    allow(["dynamodb:PutItem"], stateful.table_arn),
                    allow(["sqs:SendMessage"], stateful.queue_arn),
                ],
            ),
        )
        self.processor = RefundFunction(
            self,
            "Processor",
            shared=shared,
            spec=FunctionSpec(
                folder="processor",
                description="Decides queued refunds and records the decision",
                memory_mb=256,
                timeout=PROCESSOR_TIMEOUT,
                environment={"FAULT_INJECTION_ENABLED": fault_injection},
                statements=[
                    allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], stateful.table_arn),
                    allow(PROCESSOR_CONSUME_ACTIONS, stateful.queue_arn),
                ],
            ),
        )
        self.status_reader = RefundFunction(
            self,
            "StatusReader",
            shared=shared,
            spec=FunctionSpec(
                folder="status",
                description="Reads one refund's current status",
                memory_mb=256,
                timeout=cdk.Duration.seconds(5),
                environment={},
                statements=[allow(["dynamodb:GetItem"], stateful.table_arn)],
            ),
        )

        lambda_.EventSourceMapping(
            self,
            "ProcessorQueueMapping",
            target=self.processor.function,
            event_source_arn=stateful.queue_arn,
            batch_size=BATCH_SIZE,
            max_batching_window=MAX_BATCHING_WINDOW,
            report_batch_item_failures=True,
            max_concurrency=MAX_CONCURRENCY,
        )

        self.api = RefundApi(
            self,
            "Api",
            settings=ApiSettings(
                stage_name=config.name.lower(),
                execution_log_level=apigateway.MethodLoggingLevel(config.execution_log_level),
                log_retention=log_retention,
                removal_policy=removal_policy,
                throttle=config.throttle,
                api_key_secret_name=api_key_secret_name(config.name),
                key_reader=KeyReader(
                    account=pipeline_config(self.node).account,
                    role_name=smoke_test_role_name(config.name),
                ),
            ),
            receiver=self.receiver.function,
            status_reader=self.status_reader.function,
        )

        if config.waf:
            ApiWebAcl(
                self,
                "WebAcl",
                stage_arn=self.api.stage.stage_arn,
                name=f"refunds-{config.name.lower()}",
            )
        else:
            acknowledge(
                self.api.stage,
                "AwsSolutions-APIG3",
                "Dev carries only test traffic from holders of the Dev API key, throttled by its "
                "usage plan; the web ACL is paid for where customers are, in Prod.",
            )

        self.monitoring = RefundMonitoring(
            self,
            "Monitoring",
            resources=MonitoredResources(
                stage=config.name,
                alarm_email=config.alarm_email,
                rest_api=self.api.rest_api,
                api_stage_name=self.api.stage.stage_name,
                receiver=self.receiver.function,
                processor=self.processor.function,
                status_reader=self.status_reader.function,
                queue_name=queue_name(config.name),
                dead_letter_queue_name=dead_letter_queue_name(config.name),
                removal_policy=removal_policy,
            ),
        )

        # Where to call the API and where its key lives; the key's value is never an output.
        cdk.CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        cdk.CfnOutput(self, "ApiKeySecretName", value=api_key_secret_name(config.name))
        cdk.CfnOutput(self, "ApiKeySecretArn", value=self.api.api_key_secret.secret_arn)
