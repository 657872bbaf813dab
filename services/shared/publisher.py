"""The SQS adapter that hands a stored refund to the processor."""

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import QueueUnavailableError


def message_body(refund_id: str) -> str:
    return json.dumps({"refundId": refund_id})


class RefundPublisher:
    """RefundQueue on an SQS queue, through a low-level boto3 client."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, refund_id: str, correlation_id: str) -> None:
        attributes = {}
        if correlation_id:
            attributes["correlationId"] = {"DataType": "String", "StringValue": correlation_id}
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=message_body(refund_id),
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as error:
            raise QueueUnavailableError(str(error)) from error
