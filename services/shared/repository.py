"""The DynamoDB adapter for refunds: one item per refund, written only under conditions."""

from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import StorageUnavailableError
from shared.refund import Refund, Status, canonical_amount

SORT_KEY = "REFUND"
_CONDITION_FAILED = "ConditionalCheckFailedException"

Item = dict[str, dict[str, Any]]


def partition_key(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def item_key(refund_id: str) -> Item:
    return {"PK": {"S": partition_key(refund_id)}, "SK": {"S": SORT_KEY}}


def to_item(refund: Refund) -> Item:
    item: Item = {
        **item_key(refund.refund_id),
        "refundId": {"S": refund.refund_id},
        "orderId": {"S": refund.order_id},
        "amount": {"N": str(canonical_amount(refund.amount))},
        "reason": {"S": refund.reason},
        "status": {"S": refund.status.value},
        "createdAt": {"S": refund.created_at},
        "updatedAt": {"S": refund.updated_at},
        "requestFingerprint": {"S": refund.request_fingerprint},
    }
    optional = {
        "decidedAt": refund.decided_at,
        "paymentReference": refund.payment_reference,
        "simulateFailure": refund.simulated_failure,
    }
    item.update({name: {"S": value} for name, value in optional.items() if value is not None})
    return item


def from_item(item: Item) -> Refund:
    def text(name: str) -> str | None:
        attribute = item.get(name)
        return None if attribute is None else str(attribute["S"])

    return Refund(
        refund_id=item["refundId"]["S"],
        order_id=item["orderId"]["S"],
        # DynamoDB keeps the number, not its text (30.40 comes back as 30.4).
        amount=canonical_amount(Decimal(item["amount"]["N"])),
        reason=item["reason"]["S"],
        status=Status(item["status"]["S"]),
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
        decided_at=text("decidedAt"),
        payment_reference=text("paymentReference"),
        request_fingerprint=text("requestFingerprint") or "",
        simulated_failure=text("simulateFailure"),
    )


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _CONDITION_FAILED


class RefundRepository:
    """RefundStore on a DynamoDB table, through a low-level boto3 client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def create(self, refund: Refund) -> Refund | None:
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=to_item(refund),
                ConditionExpression="attribute_not_exists(PK)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            stored = error.response.get("Item")
            if _condition_failed(error) and stored:
                return from_item(stored)
            raise StorageUnavailableError() from error
        except BotoCoreError as error:
            raise StorageUnavailableError() from error
        return None

    def get(self, refund_id: str) -> Refund | None:
        try:
            response = self._client.get_item(
                TableName=self._table_name, Key=item_key(refund_id), ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailableError(reading=True) from error
        item = response.get("Item")
        return None if item is None else from_item(item)

    def record_decision(
        self, refund_id: str, status: Status, decided_at: str, payment_reference: str | None
    ) -> bool:
        update = "SET #status = :status, decidedAt = :decided_at, updatedAt = :decided_at"
        values: Item = {
            ":status": {"S": status.value},
            ":decided_at": {"S": decided_at},
            ":pending": {"S": Status.PENDING.value},
        }
        if payment_reference is not None:
            update += ", paymentReference = :payment_reference"
            values[":payment_reference"] = {"S": payment_reference}
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key=item_key(refund_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(PK) AND #status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise StorageUnavailableError() from error
        except BotoCoreError as error:
            raise StorageUnavailableError() from error
        return True
