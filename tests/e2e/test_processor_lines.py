"""The processor's console line says what the processor did with each message, from its own log."""

import json
import logging

import pytest

from local.system import LocalSystem
from tests.e2e.support import DECISION_DEADLINE, RefundApi, eventually

pytestmark = pytest.mark.e2e

REFUND = {"orderId": "order-4001", "amount": 40, "reason": "Arrived damaged"}


def _processor_line(caplog: pytest.LogCaptureFixture, refund_id: str, said: str) -> str | None:
    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "local.processor" and f"refund_id={refund_id} " in record.getMessage()
    ]
    return next((line for line in lines if said in line), None)


def test_a_decision_is_shown_with_its_status_and_receive_count(
    api: RefundApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local.processor")

    refund_id = api.create(REFUND)

    line = eventually(lambda: _processor_line(caplog, refund_id, "APPROVED"), DECISION_DEADLINE)
    assert line == f"refund_id={refund_id} APPROVED receive=1/3"


def test_a_redelivery_of_a_decided_refund_is_shown_as_already_decided_and_skipped(
    api: RefundApi, local_system: LocalSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local.processor")
    refund_id = api.create(REFUND)
    api.decision(refund_id)

    local_system.client("sqs").send_message(
        QueueUrl=local_system.queue_url, MessageBody=json.dumps({"refundId": refund_id})
    )

    line = eventually(lambda: _processor_line(caplog, refund_id, "already"), DECISION_DEADLINE)
    assert line == f"refund_id={refund_id} already APPROVED, skipped receive=1/3"


def test_a_failed_attempt_is_shown_with_the_processors_reason_and_the_retry(
    api: RefundApi, local_system: LocalSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local.processor")
    assert local_system.event_source_queue is not None
    retry = local_system.event_source_queue.visibility_timeout

    refund_id = api.create(REFUND, headers={"X-Simulate-Failure": "payment-gateway-timeout"})

    line = eventually(lambda: _processor_line(caplog, refund_id, "receive=1/3"), DECISION_DEADLINE)
    assert line == (
        f"refund_id={refund_id} failed receive=1/3, retry in {retry}s "
        f"(gateway failed: payment gateway timed out for refund {refund_id})"
    )
