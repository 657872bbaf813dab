"""POST /refunds: the gateway event in, one call to accept_refund, a 202 answer out."""

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from receiver.logic import Submission, accept_refund
from receiver.request import IDEMPOTENCY_KEY_HEADER
from shared.contract import SIMULATE_FAILURE_HEADER
from shared.faults import fault_injection_enabled
from shared.http import (
    answers_errors,
    api_key_id,
    body_text,
    header_values,
    json_response,
    request_id,
)
from shared.observability import logger, metrics
from shared.publisher import RefundPublisher
from shared.repository import RefundRepository

# Created once per execution environment, so warm invocations reuse the connections.
repository = RefundRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
publisher = RefundPublisher(boto3.client("sqs"), os.environ["QUEUE_URL"])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@answers_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlation_id = request_id(event)
    logger.append_keys(correlation_id=correlation_id)

    submission = Submission(
        body=body_text(event),
        idempotency_keys=header_values(event, IDEMPOTENCY_KEY_HEADER),
        simulate_failure_values=header_values(event, SIMULATE_FAILURE_HEADER),
        api_key_id=api_key_id(event),
        correlation_id=correlation_id,
    )
    acceptance = accept_refund(
        submission,
        repository,
        publisher,
        fault_injection_enabled=fault_injection_enabled(os.environ),
    )

    return json_response(
        202,
        {"refundId": acceptance.refund_id, "status": acceptance.status.value},
        headers={"Location": f"/refunds/{acceptance.refund_id}"},
    )
