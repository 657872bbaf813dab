"""Duplicate deliveries, with faults on: copies of one refund's message, delivered at once or one
after another, store one decision and one payment reference, and never change a decided refund."""

import uuid
from typing import Any

import pytest

from local.system import LocalSystem
from processor.payment_gateway import PAYMENT_REFERENCE_NAMESPACE
from tests.e2e.support import eventually
from tests.reliability.support import (
    pending_refund,
    processor_log,
    send_copies,
    stored_item,
    wait_until_drained,
)

pytestmark = pytest.mark.e2e

COPIES = 30
HANDLED_DEADLINE = 15.0


def deliver_one_copy_and_wait(system: LocalSystem, refund_id: str) -> None:
    """One more copy, and the wait until the processor has logged finding the refund decided."""
    handled = processor_log(system).already_decided[refund_id]
    send_copies(system, system.queue_url, refund_id, 1)
    eventually(
        lambda: processor_log(system).already_decided[refund_id] > handled or None,
        HANDLED_DEADLINE,
    )
    wait_until_drained(system)


@pytest.fixture(scope="module")
def decided_by_copies(faulty_system: LocalSystem) -> tuple[str, dict[str, Any]]:
    """A refund whose message arrived thirty times at once (three batches' worth), and its item
    once every copy was handled."""
    refund_id = pending_refund(faulty_system, "250.00")
    send_copies(faulty_system, faulty_system.queue_url, refund_id, COPIES)
    wait_until_drained(faulty_system)
    return refund_id, stored_item(faulty_system, refund_id)


def test_copies_delivered_at_once_store_one_decision(
    faulty_system: LocalSystem, decided_by_copies: tuple[str, dict[str, Any]]
) -> None:
    refund_id, item = decided_by_copies

    assert processor_log(faulty_system).decisions[refund_id] == ["APPROVED"]
    assert item["status"] == {"S": "APPROVED"}


def test_copies_delivered_at_once_are_handled_by_several_invocations(
    faulty_system: LocalSystem, decided_by_copies: tuple[str, dict[str, Any]]
) -> None:
    refund_id, _ = decided_by_copies

    assert len(processor_log(faulty_system).invocations[refund_id]) >= 2


def test_copies_delivered_at_once_store_the_one_reference_the_gateway_gives_the_refund(
    decided_by_copies: tuple[str, dict[str, Any]],
) -> None:
    refund_id, item = decided_by_copies

    expected = f"sim-{uuid.uuid5(PAYMENT_REFERENCE_NAMESPACE, refund_id)}"
    assert item["paymentReference"] == {"S": expected}


def test_copies_delivered_one_after_another_change_nothing(
    faulty_system: LocalSystem, decided_by_copies: tuple[str, dict[str, Any]]
) -> None:
    refund_id, decided = decided_by_copies

    for _ in range(2):
        deliver_one_copy_and_wait(faulty_system, refund_id)

    assert stored_item(faulty_system, refund_id) == decided
    assert processor_log(faulty_system).decisions[refund_id] == ["APPROVED"]
