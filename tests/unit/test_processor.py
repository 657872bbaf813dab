"""The processor decides each queued refund once and reports failed records one by one."""

import json
import random
import re
import threading
import uuid

import pytest

from processor import handler as processor_handler
from processor.decision import APPROVAL_LIMIT, decide
from processor.logic import Outcome, SimulatedCrashError, process_refund
from processor.payment_gateway import PAYMENT_REFERENCE_NAMESPACE, SimulatedPaymentGateway
from shared.faults import FaultSettings
from shared.refund import Status
from shared.repository import RefundRepository

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UNKNOWN_REFUND = "0f0f0f0f-1111-4222-8333-444444444444"


class AtomicUpdates:
    """The repository with each conditional update made atomic, as DynamoDB makes it.

    moto checks a condition and applies the update in two Python steps that threads can
    interleave; DynamoDB does both as one.
    """

    def __init__(self, repository):
        self._repository = repository
        self._lock = threading.Lock()

    def get(self, refund_id):
        return self._repository.get(refund_id)

    def record_decision(self, *args):
        with self._lock:
            return self._repository.record_decision(*args)


def random_source():
    return random.Random(7)  # noqa: S311


def body_for(refund_id):
    return json.dumps({"refundId": refund_id})


@pytest.mark.parametrize(
    ("amount", "status"),
    [
        ("0.01", "APPROVED"),
        ("30.40", "APPROVED"),
        ("999.99", "APPROVED"),
        ("1000", "APPROVED"),
        ("1000.00", "APPROVED"),
        ("1e3", "APPROVED"),
        ("1000.01", "REJECTED"),
        ("1000000", "REJECTED"),
    ],
)
def test_amount_over_1000_is_rejected_and_anything_else_approved(
    aws, processor, submit, amount, status
):
    refund_id = submit(amount)

    assert processor.drain() == []
    assert aws.item(refund_id)["status"] == {"S": status}


def test_the_rule_is_one_comparison_with_the_limit_1000():
    assert APPROVAL_LIMIT == 1000
    assert decide(APPROVAL_LIMIT) is Status.APPROVED
    assert decide(APPROVAL_LIMIT + APPROVAL_LIMIT.scaleb(-5)) is Status.REJECTED


def test_approval_stores_the_decision_time_and_the_payment_reference(aws, processor, submit):
    refund_id = submit("30.40")
    created_at = aws.item(refund_id)["createdAt"]["S"]

    processor.drain()

    item = aws.item(refund_id)
    assert ISO_UTC.match(item["decidedAt"]["S"])
    assert item["updatedAt"] == item["decidedAt"]
    assert item["decidedAt"]["S"] >= created_at
    assert item["paymentReference"] == {
        "S": f"sim-{uuid.uuid5(PAYMENT_REFERENCE_NAMESPACE, refund_id)}"
    }


def test_rejection_stores_the_decision_time_and_no_payment_reference(aws, processor, submit):
    refund_id = submit("1000.01")

    processor.drain()

    item = aws.item(refund_id)
    assert ISO_UTC.match(item["decidedAt"]["S"])
    assert "paymentReference" not in item


def test_redelivery_of_a_decided_refund_succeeds_and_changes_nothing(
    aws, processor, submit, sqs_records
):
    refund_id = submit()
    processor.drain()
    decided = aws.item(refund_id)

    failed = processor.run([sqs_records(body_for(refund_id), "redelivered")])

    assert failed == []
    assert aws.item(refund_id) == decided


def test_duplicate_deliveries_in_one_batch_decide_the_refund_once(
    aws, processor, submit, sqs_records, logs
):
    refund_id = submit()
    records = [sqs_records(body_for(refund_id), f"copy-{n}") for n in range(3)]

    failed = processor.run(records)

    assert failed == []
    assert aws.item(refund_id)["status"] == {"S": "APPROVED"}
    assert len(logs.named("refund decided")) == 1
    assert len(logs.named("refund already decided")) == 2


def test_duplicate_deliveries_across_batches_decide_the_refund_once(
    aws, processor, submit, sqs_records, logs
):
    refund_id = submit("2500.00")
    processor.drain()
    decided = aws.item(refund_id)

    failed = processor.run([sqs_records(body_for(refund_id), "second-batch")])

    assert failed == []
    assert aws.item(refund_id) == decided
    assert [line["status"] for line in logs.named("refund decided")] == ["REJECTED"]


def test_unknown_refund_is_a_failed_record_and_creates_no_item(aws, processor, sqs_records):
    failed = processor.run([sqs_records(body_for(UNKNOWN_REFUND), "unknown")])

    assert failed == ["unknown"]
    assert aws.items() == []


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "not json",
        "[]",
        "{}",
        '{"refundId": 5}',
        '{"refundId": "not-a-refund-id"}',
        '{"refundId": "0F0F0F0F-1111-4222-8333-444444444444"}',
        '{"refundId": NaN}',
    ],
)
def test_unreadable_body_is_a_failed_record(aws, processor, sqs_records, body):
    failed = processor.run([sqs_records(body, "unreadable")])

    assert failed == ["unreadable"]
    assert aws.items() == []


def test_one_bad_record_fails_alone(aws, processor, submit, sqs_records):
    first, second = submit("10.00"), submit("2000.00")
    records = [
        sqs_records(body_for(first), "good-1"),
        sqs_records("not json", "bad"),
        sqs_records(body_for(UNKNOWN_REFUND), "unknown"),
        sqs_records(body_for(second), "good-2"),
    ]

    failed = processor.run(records)

    assert failed == ["bad", "unknown"]
    assert aws.item(first)["status"] == {"S": "APPROVED"}
    assert aws.item(second)["status"] == {"S": "REJECTED"}


def test_store_failure_fails_the_record_and_leaves_the_others(
    aws, processor, submit, sqs_records, monkeypatch
):
    refund_id = submit()
    monkeypatch.setattr(
        processor_handler, "repository", RefundRepository(aws.dynamodb, "no-such-table")
    )

    failed = processor.run([sqs_records(body_for(refund_id), "store-down")])

    assert failed == ["store-down"]
    assert aws.item(refund_id)["status"] == {"S": "PENDING"}


def test_payment_reference_is_the_same_for_every_call_with_the_refund_id():
    gateway = SimulatedPaymentGateway(FaultSettings(), random_source())
    refund_id = str(uuid.uuid4())

    first = gateway.refund(refund_id, APPROVAL_LIMIT)
    second = gateway.refund(refund_id, APPROVAL_LIMIT)

    assert first == second == f"sim-{uuid.uuid5(PAYMENT_REFERENCE_NAMESPACE, refund_id)}"


def test_concurrent_processing_gives_one_decision_and_one_payment_reference(aws, submit):
    refund_id = submit()
    both_read = threading.Barrier(2, timeout=5)
    references: list[str] = []
    outcomes: list[Outcome] = []

    class GatewayAfterBothReads(SimulatedPaymentGateway):
        def refund(self, refund_id, amount, simulated_failure=None):
            # Both deliveries have read the refund as PENDING before either decides it.
            both_read.wait()
            reference = super().refund(refund_id, amount, simulated_failure)
            references.append(reference)
            return reference

    store = AtomicUpdates(processor_handler.repository)
    gateway = GatewayAfterBothReads(FaultSettings(), random_source())

    def deliver():
        outcomes.append(process_refund(refund_id, store, gateway))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(outcome.name for outcome in outcomes) == ["DECIDED", "DECIDED_CONCURRENTLY"]
    assert len(set(references)) == 1
    item = aws.item(refund_id)
    assert item["status"] == {"S": "APPROVED"}
    assert item["paymentReference"] == {"S": references[0]}


def test_crash_knob_fails_the_whole_invocation_part_way_through_the_batch(
    aws, processor, submit, sqs_records, fault_injection
):
    fault_injection.setenv("PROCESSOR_CRASH_RATE", "1")
    refund_ids = [submit(), submit(), submit(), submit()]
    records = [sqs_records(body_for(refund_id), f"m{n}") for n, refund_id in enumerate(refund_ids)]

    with pytest.raises(SimulatedCrashError):
        processor.run(records)

    statuses = [aws.item(refund_id)["status"]["S"] for refund_id in refund_ids]
    assert statuses == ["APPROVED", "APPROVED", "PENDING", "PENDING"]


def test_crash_knob_is_ignored_without_fault_injection(
    aws, processor, submit, sqs_records, monkeypatch
):
    monkeypatch.setenv("PROCESSOR_CRASH_RATE", "1")
    refund_id = submit()

    assert processor.run([sqs_records(body_for(refund_id))]) == []


def test_crash_rate_of_zero_never_crashes(processor, submit, fault_injection):
    fault_injection.setenv("PROCESSOR_CRASH_RATE", "0")
    submit()

    assert processor.drain() == []


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "often", "nan"])
def test_fault_rate_outside_0_to_1_is_refused(processor, fault_injection, rate):
    fault_injection.setenv("GATEWAY_TIMEOUT_RATE", rate)

    with pytest.raises(ValueError, match="GATEWAY_TIMEOUT_RATE must be a number from 0 to 1"):
        processor.run([])
