"""POST /refunds stores a valid refund as PENDING, queues it, and answers 202."""

import base64
import json
import re
from decimal import Decimal

import pytest

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_valid_request_is_answered_202_pending_with_its_location(api, request_body):
    reply = api.post(request_body())

    refund_id = reply.body["refundId"]
    assert reply.status_code == 202
    assert reply.body == {"refundId": refund_id, "status": "PENDING"}
    assert UUID4.match(refund_id)
    assert reply.headers == {
        "Content-Type": "application/json",
        "Location": f"/refunds/{refund_id}",
    }


def test_accepted_refund_is_stored_as_pending_under_its_key(api, aws, request_body):
    refund_id = api.post(request_body()).body["refundId"]

    item = aws.item(refund_id)
    assert item["PK"] == {"S": f"REFUND#{refund_id}"}
    assert item["SK"] == {"S": "REFUND"}
    assert item["refundId"] == {"S": refund_id}
    assert item["orderId"] == {"S": "order-1001"}
    assert item["reason"] == {"S": "Item arrived damaged"}
    assert item["status"] == {"S": "PENDING"}
    assert ISO_UTC.match(item["createdAt"]["S"])
    assert item["updatedAt"] == item["createdAt"]
    assert "decidedAt" not in item
    assert "simulateFailure" not in item


def test_accepted_refund_is_queued_with_its_id_and_the_request_id(api, aws, request_body):
    refund_id = api.post(request_body(), request_id="request-42").body["refundId"]

    [message] = aws.receive()
    assert json.loads(message["Body"]) == {"refundId": refund_id}
    assert message["MessageAttributes"]["correlationId"] == {
        "StringValue": "request-42",
        "DataType": "String",
    }


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("30.40", "30.40"),
        ("19.99", "19.99"),
        ("0.01", "0.01"),
        ("1000", "1000.00"),
        ("1e3", "1000.00"),
        ("1000000", "1000000.00"),
        ("1000000.00", "1000000.00"),
        ("10.500", "10.50"),
        ("0.1E1", "1.00"),
    ],
)
def test_amount_is_stored_as_the_exact_decimal_with_two_places(
    api, aws, request_body, amount, stored
):
    refund_id = api.post(request_body(amount=amount)).body["refundId"]

    item = aws.item(refund_id)
    assert item["amount"] == {"N": stored}
    assert Decimal(item["amount"]["N"]) == Decimal(amount)


def test_order_id_of_64_allowed_characters_is_accepted(api, aws, request_body):
    order_id = "A-z_09" * 10 + "abcd"

    refund_id = api.post(request_body(orderId=order_id)).body["refundId"]

    assert aws.item(refund_id)["orderId"] == {"S": order_id}


def test_reason_is_stored_trimmed(api, aws, request_body):
    refund_id = api.post(request_body(reason="  \t Item arrived damaged \n")).body["refundId"]

    assert aws.item(refund_id)["reason"] == {"S": "Item arrived damaged"}


def test_reason_of_500_characters_after_trimming_is_accepted(api, aws, request_body):
    reason = "r" * 500

    refund_id = api.post(request_body(reason=f"   {reason}   ")).body["refundId"]

    assert aws.item(refund_id)["reason"] == {"S": reason}


def test_unicode_reason_is_stored_byte_for_byte(api, aws, request_body):
    reason = "Zerbrochen 💔 — 返品をお願いします; «très» abîmé; ﷽; e\u0301; zero\u200bwidth"

    refund_id = api.post(request_body(reason=reason)).body["refundId"]

    assert aws.item(refund_id)["reason"]["S"].encode("utf-8") == reason.encode("utf-8")


def test_base64_encoded_body_is_accepted(api, aws, request_body):
    reply = api.post(request_body(amount="19.99"), base64_encoded=True)

    assert reply.status_code == 202
    assert aws.item(reply.body["refundId"])["amount"] == {"N": "19.99"}


def test_base64_body_with_unicode_reason_is_decoded_as_utf8(api, aws, request_body):
    body = request_body(reason="Rückerstattung für Bestellung")
    event_body = base64.b64encode(body.encode("utf-8")).decode("ascii")

    reply = api.post(event_body, base64_encoded=True, encode=False)

    assert aws.item(reply.body["refundId"])["reason"] == {"S": "Rückerstattung für Bestellung"}


def test_request_without_content_type_is_accepted(api, request_body):
    reply = api.post(request_body(), content_type=None)

    assert reply.status_code == 202
