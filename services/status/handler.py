"""GET /refunds/{refundId}: the gateway event in, one call to read_refund, a 200 answer out."""

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http import answers_errors, json_response, request_id
from shared.observability import logger
from shared.repository import RefundRepository
from status.logic import read_refund

# Created once per execution environment, so warm invocations reuse the connection.
repository = RefundRepository(boto3.client("dynamodb"), os.environ["TABLE_NAME"])


@logger.inject_lambda_context(clear_state=True)
@answers_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refund_id = (event.get("pathParameters") or {}).get("refundId")
    logger.append_keys(correlation_id=request_id(event), refund_id=refund_id)

    return json_response(200, read_refund(refund_id, repository))
