"""SQS look-ups for the load run and the redrive: a queue's depth, its messages left in place."""

import json
from typing import Any

# Long enough to read a whole queue once before the first message read shows up again.
PEEK_VISIBILITY_SECONDS = 30
SQS_BATCH_LIMIT = 10


def depth(sqs: Any, queue_url: str) -> int:
    """Messages in the queue: waiting, being processed, or delayed."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def refund_id_of(message: dict[str, Any]) -> str | None:
    try:
        document = json.loads(message.get("Body") or "")
    except ValueError:
        return None
    refund_id = document.get("refundId") if isinstance(document, dict) else None
    return refund_id if isinstance(refund_id, str) else None


def peek(
    sqs: Any, queue_url: str, limit: int | None = None, wait_seconds: int = 0
) -> list[dict[str, Any]]:
    """The queue's messages (up to `limit`), each once, then made visible again as they were.

    Reading a message counts as a receive; that matters only on a queue with a redrive policy,
    so this is meant for dead-letter queues.
    """
    messages: dict[str, dict[str, Any]] = {}
    while limit is None or len(messages) < limit:
        wanted = SQS_BATCH_LIMIT if limit is None else min(SQS_BATCH_LIMIT, limit - len(messages))
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=wanted,
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            WaitTimeSeconds=wait_seconds,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in messages]
        if not fresh:
            break
        messages.update((message["MessageId"], message) for message in fresh)
    release(sqs, queue_url, list(messages.values()))
    return list(messages.values())


def release(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
    """Make received messages visible again at once."""
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        chunk = messages[start : start + SQS_BATCH_LIMIT]
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)
            ],
        )
