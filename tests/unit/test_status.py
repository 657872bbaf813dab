"""GET /refunds/{refundId}: the stored refund, 404 for an unknown id, 400 for a malformed one."""

from decimal import Decimal

import pytest

from shared.repository import RefundRepository
from status import handler as status_handler

UNKNOWN_REFUND = "0f0f0f0f-1111-4222-8333-444444444444"


def test_pending_refund_is_shown_with_every_public_field(api, aws, submit):
    refund_id = submit(amount="30.40")
    item = aws.item(refund_id)

    reply = api.get(refund_id)

    assert reply.status_code == 200
    assert reply.headers == {"Content-Type": "application/json"}
    assert reply.body == {
        "refundId": refund_id,
        "orderId": "order-1001",
        "amount": Decimal("30.40"),
        "reason": "Item arrived damaged",
        "status": "PENDING",
        "createdAt": item["createdAt"]["S"],
        "updatedAt": item["updatedAt"]["S"],
    }


@pytest.mark.parametrize(
    ("amount", "shown"),
    [("30.40", "30.40"), ("19.99", "19.99"), ("1e3", "1000.00"), ("7", "7.00"), ("0.5", "0.50")],
)
def test_amount_is_a_json_number_with_exactly_two_decimals(api, submit, amount, shown):
    refund_id = submit(amount=amount)

    reply = api.get(refund_id)

    assert f'"amount":{shown},' in reply.raw_body


def test_amount_normalized_by_dynamodb_is_shown_with_two_decimals(api, aws, submit):
    refund_id = submit(amount="30.40")
    # DynamoDB returns numbers without trailing zeros; moto keeps the text, so strip it here.
    key = {"PK": {"S": f"REFUND#{refund_id}"}, "SK": {"S": "REFUND"}}
    aws.dynamodb.update_item(
        TableName="refunds-unit",
        Key=key,
        UpdateExpression="SET amount = :amount",
        ExpressionAttributeValues={":amount": {"N": "30.4"}},
    )

    assert '"amount":30.40,' in api.get(refund_id).raw_body


def test_decided_refund_shows_its_status_and_decision_time(api, aws, processor, submit):
    refund_id = submit(amount="1000.01")
    processor.drain()
    item = aws.item(refund_id)

    reply = api.get(refund_id)

    assert reply.body["status"] == "REJECTED"
    assert reply.body["decidedAt"] == item["decidedAt"]["S"]
    assert reply.body["updatedAt"] == item["decidedAt"]["S"]


def test_internal_attributes_are_never_shown(api, processor, submit, fault_injection):
    refund_id = submit()
    processor.drain()

    reply = api.get(refund_id)

    assert sorted(reply.body) == [
        "amount",
        "createdAt",
        "decidedAt",
        "orderId",
        "reason",
        "refundId",
        "status",
        "updatedAt",
    ]


def test_unicode_reason_is_shown_exactly(api, submit):
    reason = "Zerbrochen 💔 — 返品をお願いします; e\u0301"
    refund_id = submit(reason=reason)

    assert api.get(refund_id).body["reason"] == reason


def test_unknown_refund_is_a_json_404(api):
    reply = api.get(UNKNOWN_REFUND)

    assert reply.status_code == 404
    assert reply.headers == {"Content-Type": "application/json"}
    assert reply.body == {"message": f"No refund has the id {UNKNOWN_REFUND}."}


def test_store_failure_is_a_503_that_only_says_to_try_again(api, aws, monkeypatch):
    monkeypatch.setattr(status_handler, "repository", RefundRepository(aws.dynamodb, "no-table"))

    reply = api.get(UNKNOWN_REFUND)

    assert reply.status_code == 503
    assert reply.body == {"message": "The refund store is unavailable; try again shortly."}


@pytest.mark.parametrize(
    "refund_id",
    [
        "not-a-uuid",
        "",
        None,
        "0f0f0f0f111142228333444444444444",
        "0f0f0f0f-1111-4222-8333-44444444444",
        "{0f0f0f0f-1111-4222-8333-444444444444}",
        "0f0f0f0f-1111-4222-8333-444444444444\n",
        "g0f0f0f0-1111-4222-8333-444444444444",
    ],
)
def test_malformed_refund_id_is_a_400(api, refund_id):
    reply = api.get(refund_id)

    assert reply.status_code == 400
    assert reply.body == {
        "message": "The request is invalid.",
        "errors": [{"field": "refundId", "message": "must be a refund id (a UUID)"}],
    }


def test_uppercase_refund_id_is_read_as_its_lowercase_form(api, submit):
    refund_id = submit()

    reply = api.get(refund_id.upper())

    assert reply.status_code == 200
    assert reply.body["refundId"] == refund_id
