"""The processor's console line says what the processor did with each message, from its own log."""

import json
import logging
from collections.abc import Callable

import pytest

from local.system import LocalSystem
from tests.e2e.support import DECISION_DEADLINE, RefundApi, eventually

pytestmark = pytest.mark.e2e

REFUND = {"orderId": "order-4001", "amount": 40, "reason": "Arrived damaged"}


@pytest.fixture
def processor_line(caplog: pytest.LogCaptureFixture) -> Callable[[str, str], str]:
    """Waits for the processor's console line about a refund that holds the given words."""
    caplog.set_level(logging.INFO, logger="local.processor")

    def wait(refund_id: str, words: str) -> str:
        def found() -> str | None:
            lines = (r.getMessage() for r in caplog.records if r.name == "local.processor")
            return next((x for x in lines if f"refund_id={refund_id} " in x and words in x), None)

        return eventually(found, DECISION_DEADLINE)

    return wait


def test_a_decision_is_shown_with_its_status_and_receive_count(
    api: RefundApi, processor_line: Callable[[str, str], str]
) -> None:
    refund_id = api.create(REFUND)

    line = processor_line(refund_id, "APPROVED")

    assert line == f"refund_id={refund_id} APPROVED receive=1/3"


def test_a_redelivery_of_a_decided_refund_is_shown_as_already_decided_and_skipped(
    api: RefundApi, local_system: LocalSystem, processor_line: Callable[[str, str], str]
) -> None:
    refund_id = api.create(REFUND)
    api.decision(refund_id)

    local_system.client("sqs").send_message(
        QueueUrl=local_system.queue_url, MessageBody=json.dumps({"refundId": refund_id})
    )

    line = processor_line(refund_id, "already")
    assert line == f"refund_id={refund_id} already APPROVED, skipped receive=1/3"


def test_a_failed_attempt_is_shown_with_the_processors_reason_and_the_retry(
    api: RefundApi, local_system: LocalSystem, processor_line: Callable[[str, str], str]
) -> None:
    assert local_system.event_source_queue is not None
    retry = local_system.event_source_queue.visibility_timeout

    refund_id = api.create(REFUND, headers={"X-Simulate-Failure": "payment-gateway-timeout"})

    line = processor_line(refund_id, "receive=1/3")
    assert line == (
        f"refund_id={refund_id} failed receive=1/3, retry in {retry}s "
        f"(gateway failed: payment gateway timed out for refund {refund_id})"
    )
