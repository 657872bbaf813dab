"""What the reliability tests share: refunds put straight into the table, copies of their
messages on the queue, and waiting until the processor has dealt with everything."""

import time
import uuid
from decimal import Decimal
from typing import Any

from local.system import LocalSystem
from reliability.evidence import ProcessorLog, processor_log_path, read_processor_log
from reliability.queues import depth
from shared.publisher import message_body
from shared.refund import Refund, Status, utc_now
from shared.repository import RefundRepository, item_key
from tests.e2e.support import eventually

DRAIN_DEADLINE = 30.0

_clients: dict[tuple[str, str], Any] = {}


def aws(system: LocalSystem, service: str) -> Any:
    """One client per service and system: making a boto3 client costs tens of milliseconds."""
    key = (system.aws_endpoint, service)
    if key not in _clients:
        _clients[key] = system.client(service)
    return _clients[key]


def pending_refund(system: LocalSystem, amount: str) -> str:
    """A PENDING refund stored as the receiver stores one, with no message queued for it yet."""
    now = utc_now()
    refund = Refund(
        refund_id=str(uuid.uuid4()),
        order_id="order-7001",
        amount=Decimal(amount),
        reason="Arrived damaged",
        status=Status.PENDING,
        created_at=now,
        updated_at=now,
    )
    assert RefundRepository(aws(system, "dynamodb"), system.table_name).create(refund) is None
    return refund.refund_id


def send_copies(system: LocalSystem, queue_url: str, refund_id: str, copies: int) -> None:
    """`copies` identical messages for one refund, all sent in one call."""
    entries = [{"Id": str(n), "MessageBody": message_body(refund_id)} for n in range(copies)]
    for start in range(0, copies, 10):
        sent = aws(system, "sqs").send_message_batch(
            QueueUrl=queue_url, Entries=entries[start : start + 10]
        )
        assert not sent.get("Failed")


def stored_item(system: LocalSystem, refund_id: str) -> dict[str, Any]:
    response = aws(system, "dynamodb").get_item(
        TableName=system.table_name, Key=item_key(refund_id), ConsistentRead=True
    )
    item: dict[str, Any] = response["Item"]
    return item


def processor_log(system: LocalSystem) -> ProcessorLog:
    return read_processor_log(processor_log_path(system.log_dir, system.functions))


def wait_until_drained(system: LocalSystem) -> None:
    """Until the refund queue holds nothing, twice in a row a moment apart."""
    sqs = aws(system, "sqs")

    def drained() -> bool | None:
        if depth(sqs, system.queue_url):
            return None
        time.sleep(0.2)
        return True if depth(sqs, system.queue_url) == 0 else None

    eventually(drained, DRAIN_DEADLINE, interval=0.2)
