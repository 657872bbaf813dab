"""Alarms to an on-call topic and one dashboard per stage, built with cdk-monitoring-constructs."""

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import cdk_monitoring_constructs as monitoring
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.stateless.function import METRICS_NAMESPACE

PERIOD = cdk.Duration.minutes(5)
# A refund that keeps failing stays in the queue for three receives of 180 s, 540 s in all,
# before it moves to the dead-letter queue; an oldest message past 600 s is therefore waiting
# because nothing consumes the queue, not because it is being retried.
OLDEST_MESSAGE_AGE_SECONDS = 600
# 5XXError is 1 or 0 per request, so its average is the fraction of requests that failed.
API_5XX_FRACTION = 0.01
API_P99_LATENCY = cdk.Duration.seconds(3)
# Rate and percentile alarms need three periods in a row, so one slow cold start or one failed
# request among a handful pages nobody; counts of things that must never happen alarm at once.
SUSTAINED_PERIODS = 3
RUNBOOK = "docs/operations.md"

# Powertools Metrics names, as the services emit them; Powertools adds the service dimension.
BUSINESS_METRICS = {
    "receiver": ["RefundsAccepted"],
    "processor": ["RefundsApproved", "RefundsRejected", "RefundsFailed"],
}


def alarm_name_prefix(stage: str) -> str:
    return f"Refunds-{stage}"


@dataclass(frozen=True)
class MonitoredResources:
    """What the alarms and the dashboard watch, as the stateless stack holds it."""

    stage: str
    alarm_email: str
    rest_api: apigateway.IRestApi
    api_stage_name: str
    receiver: lambda_.IFunction
    processor: lambda_.IFunction
    status_reader: lambda_.IFunction
    queue_name: str
    dead_letter_queue_name: str
    removal_policy: cdk.RemovalPolicy


class RefundMonitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, resources: MonitoredResources) -> None:
        super().__init__(scope, id)
        self.prefix = alarm_name_prefix(resources.stage)

        self.topic = self._alarm_topic(resources)
        self.facade = monitoring.MonitoringFacade(
            self,
            "Facade",
            alarm_factory_defaults=monitoring.AlarmFactoryDefaults(
                actions_enabled=True,
                alarm_name_prefix=self.prefix,
                action=monitoring.SnsAlarmActionStrategy(
                    on_alarm_topic=self.topic, on_ok_topic=self.topic
                ),
            ),
            metric_factory_defaults=monitoring.MetricFactoryDefaults(period=PERIOD),
            dashboard_factory=monitoring.DefaultDashboardFactory(
                self,
                "Dashboards",
                dashboard_name_prefix=self.prefix,
                create_dashboard=True,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )

        self.facade.add_large_header(f"Refunds {resources.stage}")
        self._business_metrics(resources.stage)
        self._api(resources)
        self._functions(resources)
        self._queues(resources)

    def _alarm(self, name: str, meaning: str, *, sustained: bool = False) -> dict[str, Any]:
        """Threshold settings every alarm shares: a fixed name, its meaning, how long it waits."""
        periods = SUSTAINED_PERIODS if sustained else 1
        return {
            "alarm_name_override": f"{self.prefix}-{name}",
            "alarm_description_override": f"{meaning} Runbook: {RUNBOOK}, {self.prefix}-{name}.",
            "datapoints_to_alarm": periods,
            "evaluation_periods": periods,
        }

    def _alarm_topic(self, resources: MonitoredResources) -> sns.Topic:
        stack = cdk.Stack.of(self)
        this_stage_alarms = stack.format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name=f"{self.prefix}-*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        # CloudWatch may use the key and the topic only on behalf of this stage's alarms.
        from_this_stage = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": this_stage_alarms},
        }
        cloudwatch_service = iam.ServicePrincipal("cloudwatch.amazonaws.com")

        # CloudWatch cannot publish to a topic under SNS's AWS managed key, so it has its own.
        key = kms.Key(
            self,
            "TopicKey",
            description=f"Encrypts the {self.prefix} alarm topic",
            enable_key_rotation=True,
            removal_policy=resources.removal_policy,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsOfThisStage",
                principals=[cloudwatch_service],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions=from_this_stage,
            )
        )

        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{self.prefix} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsOfThisStage",
                principals=[cloudwatch_service],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=from_this_stage,
            )
        )
        topic.add_subscription(subscriptions.EmailSubscription(resources.alarm_email))
        return topic

    def _business_metrics(self, stage: str) -> None:
        metrics = [
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": service, "stage": stage},
                statistic="Sum",
                period=PERIOD,
                label=name,
            )
            for service, names in BUSINESS_METRICS.items()
            for name in names
        ]
        self.facade.monitor_custom(
            alarm_friendly_name="Refunds",
            human_readable_name="Refunds accepted and decided",
            metric_groups=[
                monitoring.CustomMetricGroup(title="Refunds per 5 minutes", metrics=metrics)
            ],
        )

    def _api(self, resources: MonitoredResources) -> None:
        self.facade.monitor_api_gateway(
            api=resources.rest_api,
            api_stage=resources.api_stage_name,
            alarm_friendly_name="Api",
            human_readable_name="Refund API",
            add5_xx_fault_rate_alarm={
                "Critical": monitoring.ErrorRateThreshold(
                    max_error_rate=API_5XX_FRACTION,
                    **self._alarm(
                        "Api-5xxRate",
                        "More than 1% of API requests got a 5xx answer for 15 minutes.",
                        sustained=True,
                    ),
                )
            },
            add_latency_p99_alarm={
                "Critical": monitoring.LatencyThreshold(
                    max_latency=API_P99_LATENCY,
                    # With too few requests for a 99th percentile, the period is not judged.
                    evaluate_low_sample_count_percentile=False,
                    **self._alarm(
                        "Api-LatencyP99",
                        "The slowest 1% of API requests took over 3 s for 15 minutes.",
                        sustained=True,
                    ),
                )
            },
        )

    def _functions(self, resources: MonitoredResources) -> None:
        for name, function in (
            ("Receiver", resources.receiver),
            ("Processor", resources.processor),
        ):
            self.facade.monitor_lambda_function(
                lambda_function=function,
                alarm_friendly_name=name,
                human_readable_name=name.lower(),
                # The iterator age widgets are for stream sources; SQS has its own queue widgets.
                is_iterator=False,
                add_fault_count_alarm={
                    "Critical": monitoring.ErrorCountThreshold(
                        max_error_count=0,
                        **self._alarm(
                            f"{name}-Errors",
                            f"An invocation of the {name.lower()} failed: it raised, timed out "
                            "or ran out of memory.",
                        ),
                    )
                },
                add_throttles_count_alarm={
                    "Critical": monitoring.ErrorCountThreshold(
                        max_error_count=0,
                        **self._alarm(
                            f"{name}-Throttles",
                            f"Lambda refused to run the {name.lower()} for lack of concurrency.",
                        ),
                    )
                },
            )
        self.facade.monitor_lambda_function(
            lambda_function=resources.status_reader,
            alarm_friendly_name="StatusReader",
            human_readable_name="status reader",
            is_iterator=False,
        )

    def _queues(self, resources: MonitoredResources) -> None:
        # SQS metrics are filed under the queue's name, which is all the alarms need to know.
        self.facade.monitor_sqs_queue_with_dlq(
            queue=self._queue("Queue", resources.queue_name),
            dead_letter_queue=self._queue("DeadLetterQueue", resources.dead_letter_queue_name),
            alarm_friendly_name="Queue",
            human_readable_name="refund queue",
            add_queue_max_message_age_alarm={
                "Critical": monitoring.MaxMessageAgeThreshold(
                    max_age_in_seconds=OLDEST_MESSAGE_AGE_SECONDS,
                    # An idle queue reports nothing; that is healthy, not unknown.
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    **self._alarm(
                        "Queue-OldestMessageAge",
                        "A refund has waited in the queue for over 10 minutes.",
                    ),
                )
            },
            add_dead_letter_queue_max_size_alarm={
                "Critical": monitoring.MaxMessageCountThreshold(
                    max_message_count=0,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    **self._alarm(
                        "DeadLetterQueue-Messages",
                        "Refunds are in the dead-letter queue after three failed receives.",
                    ),
                )
            },
        )

    def _queue(self, id: str, name: str) -> sqs.IQueue:
        arn = cdk.Stack.of(self).format_arn(service="sqs", resource=name)
        return sqs.Queue.from_queue_attributes(self, id, queue_arn=arn, queue_name=name)
