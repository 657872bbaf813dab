"""The event source mapping: polls the queue and invokes the processor as Lambda's poller does.

It follows the synthesized AWS::Lambda::EventSourceMapping: batch size, batching window,
maximum concurrency and ReportBatchItemFailures. Successful records are deleted; failed ones are
left alone, so they come back after the visibility timeout and moto moves them to the
dead-letter queue once they have been received the queue's maximum number of times.
"""

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from botocore.config import Config

from local.assembly import Stack
from local.aws import LocalQueue, client
from local.functions import FunctionPool, Invocation
from local.intrinsics import Resolver

MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"
SQS_RECEIVE_LIMIT = 10
# Long polls stay short so that stopping never waits long.
_WAIT_SECONDS = 1

# The poller retries on its own, after a wait that grows, so its client tries each call only twice
# and never waits long for an answer beyond the long poll.
_CLIENT_CONFIG = Config(
    retries={"total_max_attempts": 2, "mode": "standard"},
    connect_timeout=2,
    read_timeout=_WAIT_SECONDS + 10,
)
FIRST_RETRY_SECONDS = 1.0
LONGEST_RETRY_SECONDS = 30.0

log = logging.getLogger("local.processor")


def retry_delay(failures: int) -> float:
    """The wait after a failed poll, given the failures in a row before it: 1 s, doubling to 30."""
    return min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(failures, 16))


@dataclass(frozen=True)
class EventSourceMapping:
    logical_id: str
    event_source_arn: str
    function_name: str
    batch_size: int
    batching_window_seconds: float
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool


def read_mappings(stack: Stack, resolver: Resolver) -> list[EventSourceMapping]:
    mappings = []
    for logical_id, resource in stack.resources(MAPPING_TYPE).items():
        properties = resolver.resolve(stack, resource["Properties"])
        scaling = properties.get("ScalingConfig", {})
        mappings.append(
            EventSourceMapping(
                logical_id=logical_id,
                event_source_arn=properties["EventSourceArn"],
                function_name=properties["FunctionName"],
                # Lambda's default for an SQS source.
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures"
                in properties.get("FunctionResponseTypes", []),
                maximum_concurrency=(
                    int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None
                ),
                enabled=bool(properties.get("Enabled", True)),
            )
        )
    return mappings


def sqs_record(message: dict[str, Any], queue: LocalQueue, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event."""
    attributes = {}
    for name, attribute in message.get("MessageAttributes", {}).items():
        value = {
            "stringValue": attribute.get("StringValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": attribute["DataType"],
        }
        if "BinaryValue" in attribute:
            value["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
        attributes[name] = value
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(invocation: Invocation, message_ids: list[str], partial: bool) -> set[str]:
    """Which records go back to the queue, by Lambda's rules for a batch response."""
    if invocation.failed:
        return set(message_ids)
    result = invocation.result
    if not partial or result is None:
        return set()
    if not isinstance(result, dict):
        return set(message_ids)
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            # An unknown or empty identifier fails the whole batch.
            return set(message_ids)
        failed.add(identifier)
    return failed


# The processor's log messages that say what it did with a message, as its console line puts it.
_DECIDED = "refund decided"
_ALREADY_DECIDED = "refund already decided"
_DECIDED_CONCURRENTLY = "refund decided concurrently"


def processor_said(logs: str) -> dict[str, dict[str, Any]]:
    """The processor's last JSON log line about each message of a batch, by message id."""
    documents = (_json_object(line) for line in logs.splitlines() if line.startswith("{"))
    return {
        document["message_id"]: document
        for document in documents
        if document is not None and isinstance(document.get("message_id"), str)
    }


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        document = json.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def outcome(line: dict[str, Any] | None) -> str:
    """What the processor did with one message, in a few words, from its log line about it."""
    if line is None:
        return "done"
    message, status = line.get("message"), line.get("status")
    if message == _DECIDED:
        return str(status)
    if message == _ALREADY_DECIDED:
        return f"already {status}, skipped"
    if message == _DECIDED_CONCURRENTLY:
        return "decided by another delivery, skipped"
    error = line.get("error")
    return f"{message}: {error}" if error else str(message)


def _refund_id(body: str) -> str:
    try:
        return str(json.loads(body).get("refundId", "?"))
    except (ValueError, AttributeError):
        return "?"


class Poller:
    def __init__(
        self,
        mapping: EventSourceMapping,
        queue: LocalQueue,
        pool: FunctionPool,
        endpoint_url: str,
        region: str,
        time_scale: float,
    ) -> None:
        self._mapping = mapping
        self._queue = queue
        self._pool = pool
        self._endpoint_url = endpoint_url
        self._region = region
        self._window = mapping.batching_window_seconds / time_scale
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._report_lock = threading.Lock()
        self._quiet_until = 0.0

    @property
    def queue(self) -> LocalQueue:
        return self._queue

    @property
    def concurrency(self) -> int:
        return self._pool.concurrency

    def start(self) -> None:
        if not self._mapping.enabled:
            log.info("event source %s is disabled", self._mapping.logical_id)
            return
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._run, name=f"poller-{number + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        self._threads.clear()

    def _run(self) -> None:
        sqs = client("sqs", self._endpoint_url, self._region, _CLIENT_CONFIG)
        failures = 0
        while not self._stop.is_set():
            try:
                messages = self._collect(sqs)
                if messages:
                    self._process(sqs, messages)
                failures = 0
            except Exception as error:
                if self._stop.is_set():
                    return
                delay = retry_delay(failures)
                failures += 1
                self._report(error, delay)
                self._stop.wait(delay)

    def _report(self, error: Exception, delay: float) -> None:
        """One line per failure, and at most one per wait across the threads, so that a queue
        that is gone for a while leaves a few lines, not a page of tracebacks."""
        with self._report_lock:
            now = time.monotonic()
            if now < self._quiet_until:
                return
            self._quiet_until = now + delay
        said = " ".join(str(error).split())
        log.warning(
            "queue poll failed (%s: %s); retrying in %.0f s", type(error).__name__, said, delay
        )

    def _collect(self, sqs: Any) -> list[dict[str, Any]]:
        """Up to a batch of messages, waiting at most the batching window once one arrived."""
        messages: list[dict[str, Any]] = []
        deadline = None
        while len(messages) < self._mapping.batch_size and not self._stop.is_set():
            wait = _WAIT_SECONDS if deadline is None else 0
            received = sqs.receive_message(
                QueueUrl=self._queue.url,
                MaxNumberOfMessages=min(
                    SQS_RECEIVE_LIMIT, self._mapping.batch_size - len(messages)
                ),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            if not messages:
                continue
            if deadline is None:
                deadline = time.monotonic() + self._window
            if time.monotonic() >= deadline:
                break
            if not received:
                self._stop.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        return messages

    def _process(self, sqs: Any, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, self._queue, self._region) for message in messages]
        invocation = self._pool.invoke({"Records": records})
        ids = [record["messageId"] for record in records]
        failed = failed_message_ids(invocation, ids, self._mapping.report_batch_item_failures)
        if invocation.failed:
            error = invocation.error or {}
            log.warning(
                "batch of %d failed: %s: %s",
                len(records),
                error.get("errorType"),
                error.get("errorMessage"),
            )
        done = [record for record in records if record["messageId"] not in failed]
        for start in range(0, len(done), SQS_RECEIVE_LIMIT):
            chunk = done[start : start + SQS_RECEIVE_LIMIT]
            sqs.delete_message_batch(
                QueueUrl=self._queue.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ],
            )
        said = processor_said(invocation.logs)
        for record in records:
            message_id = record["messageId"]
            self._log_outcome(record, message_id in failed, said.get(message_id))

    def _log_outcome(
        self, record: dict[str, Any], failed: bool, said: dict[str, Any] | None
    ) -> None:
        refund_id = _refund_id(record["body"])
        receive = int(record["attributes"].get("ApproximateReceiveCount", "1"))
        limit = self._queue.max_receive_count
        receives = f"receive={receive}/{limit}" if limit else f"receive={receive}"
        if failed:
            after = (
                ", next goes to the DLQ"
                if limit and receive >= limit
                else f", retry in {self._queue.visibility_timeout}s"
            )
            reason = f" ({outcome(said)})" if said else ""
            log.info("refund_id=%s failed %s%s%s", refund_id, receives, after, reason)
            return
        log.info("refund_id=%s %s %s", refund_id, outcome(said), receives)
