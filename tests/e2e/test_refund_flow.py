"""A refund through the whole local system: accepted at once, then decided by the processor."""

import pytest

from tests.e2e.support import RefundApi

pytestmark = pytest.mark.e2e


def test_accepted_refund_answers_202_pending_with_its_location(api: RefundApi) -> None:
    response = api.post({"orderId": "order-1001", "amount": 30.40, "reason": "Arrived damaged"})

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "PENDING"
    assert response.headers["Location"] == f"/refunds/{body['refundId']}"


def test_accepted_refund_is_approved(api: RefundApi) -> None:
    refund_id = api.create({"orderId": "order-1001", "amount": 30.40, "reason": "Arrived damaged"})

    refund = api.decision(refund_id)

    assert refund["status"] == "APPROVED"
    assert refund["amount"] == 30.40
    assert refund["orderId"] == "order-1001"


def test_amount_over_the_limit_is_rejected(api: RefundApi) -> None:
    refund_id = api.create({"orderId": "order-1002", "amount": 5000, "reason": "Wrong size"})

    assert api.decision(refund_id)["status"] == "REJECTED"


def test_amount_of_exactly_1000_is_approved(api: RefundApi) -> None:
    refund_id = api.create({"orderId": "order-1003", "amount": 1000, "reason": "Cancelled"})

    assert api.decision(refund_id)["status"] == "APPROVED"


def test_decided_refund_has_a_decision_time(api: RefundApi) -> None:
    refund_id = api.create({"orderId": "order-1004", "amount": 12.5, "reason": "Late delivery"})

    refund = api.decision(refund_id)

    assert refund["decidedAt"] == refund["updatedAt"]
