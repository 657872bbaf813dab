"""SQS trigger: the batch in, one call to process_batch, the partial batch response out."""

import os
import random
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from processor.logic import Delivery, process_batch
from processor.payment_gateway import SimulatedPaymentGateway
from shared.faults import FaultSettings
from shared.observability import logger, metrics
from shared.repository import RefundRepository

# Created once per execution environment, so warm invocations reuse the connection.
repository = RefundRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
# Chooses which gateway calls time out and which invocations crash; nothing secret depends on it.
fault_random = random.Random()  # noqa: S311


def delivery(record: dict[str, Any]) -> Delivery:
    attribute = (record.get("messageAttributes") or {}).get("correlationId") or {}
    message_id = str(record["messageId"])
    return Delivery(
        message_id=message_id,
        body=record.get("body"),
        correlation_id=str(attribute.get("stringValue") or message_id),
    )


def crash_point(batch_size: int, faults: FaultSettings, rng: random.Random) -> int | None:
    """Where this invocation crashes, if fault injection says it should: halfway through."""
    if batch_size and faults.enabled and rng.random() < faults.processor_crash_rate:
        return batch_size // 2
    return None


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    faults = FaultSettings.from_environ(os.environ)
    deliveries = [delivery(record) for record in event.get("Records") or []]

    failed = process_batch(
        deliveries,
        repository,
        SimulatedPaymentGateway(faults, fault_random),
        crash_at=crash_point(len(deliveries), faults, fault_random),
    )

    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
