"""The shared pieces on their own: exact JSON, header lookup, proxy responses, the contract."""

from decimal import Decimal

import jsonschema
import pytest

from shared.contract import refund_request_schema
from shared.http import header_values, json_response
from shared.json_codec import JsonRejectedError, dumps, loads_exact


def test_numbers_are_read_as_exact_decimals():
    assert loads_exact('{"a": 30.40, "b": 7, "c": 1e3}') == {
        "a": Decimal("30.40"),
        "b": Decimal("7"),
        "c": Decimal("1E+3"),
    }


def test_duplicate_keys_in_a_nested_object_are_refused():
    with pytest.raises(JsonRejectedError, match='has the key "x" more than once'):
        loads_exact('{"outer": {"x": 1, "x": 2}}')


def test_decimals_are_written_as_json_numbers_with_their_digits():
    assert dumps({"amount": Decimal("30.40"), "n": None, "ok": True}) == (
        '{"amount":30.40,"n":null,"ok":true}'
    )


def test_unicode_is_written_as_itself():
    assert dumps({"reason": "返品 💔"}) == '{"reason":"返品 💔"}'


def test_non_finite_decimal_cannot_be_written():
    with pytest.raises(ValueError, match="non-finite"):
        dumps({"amount": Decimal("NaN")})


def test_header_lookup_ignores_letter_case():
    event = {"headers": {"iDeMpOtEnCy-KeY": "k"}, "multiValueHeaders": None}

    assert header_values(event, "Idempotency-Key") == ["k"]


def test_header_lookup_prefers_every_value_of_a_repeated_header():
    event = {
        "headers": {"Idempotency-Key": "b"},
        "multiValueHeaders": {"idempotency-key": ["a", "b"]},
    }

    assert header_values(event, "Idempotency-Key") == ["a", "b"]


def test_header_lookup_of_an_event_without_headers_finds_nothing():
    assert header_values({"headers": None, "multiValueHeaders": None}, "Idempotency-Key") == []


def test_response_is_a_valid_proxy_response():
    response = json_response(202, {"refundId": "r"}, headers={"Location": "/refunds/r"})

    assert response == {
        "statusCode": 202,
        "headers": {"Content-Type": "application/json", "Location": "/refunds/r"},
        "body": '{"refundId":"r"}',
    }


@pytest.mark.parametrize(
    ("body", "status_code"),
    [
        ('{"orderId": "o-1", "amount": 30.40, "reason": "damaged"}', 202),
        ("nonsense", 400),
        ('{"orderId": "o-1", "amount": 30.40, "reason": "damaged", "x": 1}', 400),
    ],
)
def test_every_receiver_answer_has_an_integer_status_and_a_json_string_body(api, body, status_code):
    reply = api.post(body)

    assert type(reply.status_code) is int
    assert reply.status_code == status_code
    assert isinstance(reply.raw_body, str)
    assert reply.headers["Content-Type"] == "application/json"


def test_gateway_schema_accepts_what_the_receiver_accepts():
    jsonschema.Draft4Validator.check_schema(refund_request_schema())
    validator = jsonschema.Draft4Validator(refund_request_schema())

    assert validator.is_valid({"orderId": "o-1", "amount": 1000, "reason": "damaged"})
    assert not validator.is_valid({"orderId": "o-1", "amount": 0, "reason": "damaged"})
    assert not validator.is_valid({"orderId": "o-1", "amount": 1, "reason": "x", "extra": 1})
