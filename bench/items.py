"""Refund items and messages written straight with boto3, for the baselines that skip our code.

They have the shape the services store (see shared.repository), written out literally: a
baseline that called the services' own code would measure that code on both sides.
"""

import json
import time
from typing import Any


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def item_key(refund_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"REFUND#{refund_id}"}, "SK": {"S": "REFUND"}}


def pending_item(refund_id: str) -> dict[str, Any]:
    created = utc_now()
    return {
        **item_key(refund_id),
        "refundId": {"S": refund_id},
        "orderId": {"S": "order-1001"},
        "amount": {"N": "30.40"},
        "reason": {"S": "Item arrived damaged"},
        "status": {"S": "PENDING"},
        "createdAt": {"S": created},
        "updatedAt": {"S": created},
        "requestFingerprint": {"S": "0" * 64},
    }


def accept(dynamodb: Any, sqs: Any, table_name: str, queue_url: str, refund_id: str) -> None:
    """What the receiver sends AWS for a new refund: one conditional PutItem, one SendMessage."""
    dynamodb.put_item(
        TableName=table_name,
        Item=pending_item(refund_id),
        ConditionExpression="attribute_not_exists(PK)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=json.dumps({"refundId": refund_id}),
        MessageAttributes={"correlationId": {"DataType": "String", "StringValue": refund_id}},
    )
