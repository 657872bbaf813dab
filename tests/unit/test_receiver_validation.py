"""POST /refunds rejects every invalid request with a 400 naming each failing field."""

import base64
import json

import pytest


@pytest.fixture
def rejected(api, aws):
    """Post a request that must be rejected; check nothing was stored or sent; return the reply."""

    def post(body, headers=None, **options):
        reply = api.post(body, headers, **options)
        assert reply.status_code == 400
        assert aws.items() == []
        assert aws.receive() == []
        return reply

    return post


def test_rejection_names_the_problem_in_the_documented_shape(rejected, request_body):
    reply = rejected(request_body(amount="0"))

    assert reply.body == {
        "message": "The request is invalid.",
        "errors": [{"field": "amount", "message": "must be greater than 0"}],
    }
    assert reply.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("true", "must be a JSON number"),
        ("false", "must be a JSON number"),
        ("null", "must be a JSON number"),
        ('"30.40"', "must be a JSON number"),
        ("[30.40]", "must be a JSON number"),
        ('{"value": 30.40}', "must be a JSON number"),
        ("0", "must be greater than 0"),
        ("0.00", "must be greater than 0"),
        ("-0", "must be greater than 0"),
        ("-5", "must be greater than 0"),
        ("-0.01", "must be greater than 0"),
        ("1000000.01", "must be at most 1000000"),
        ("1e7", "must be at most 1000000"),
        ("1e999999999", "must be at most 1000000"),
        ("-1e999999999", "must be greater than 0"),
        ("10.005", "must have at most two decimal places"),
        ("0.001", "must have at most two decimal places"),
        ("1e-999999999", "must have at most two decimal places"),
        ("1.000000000000000000000000000001", "must have at most two decimal places"),
    ],
)
def test_amount_that_is_not_a_valid_money_value_is_rejected(
    rejected, request_body, amount, message
):
    reply = rejected(request_body(amount=amount))

    assert reply.body["errors"] == [{"field": "amount", "message": message}]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amount_is_rejected_as_invalid_json(rejected, request_body, constant):
    reply = rejected(request_body(amount=constant))

    assert reply.body["errors"] == [
        {"field": "body", "message": f"must not contain {constant}: JSON numbers are finite"}
    ]


def test_missing_amount_is_rejected(rejected, request_body, absent):
    reply = rejected(request_body(amount=absent))

    assert reply.body["errors"] == [{"field": "amount", "message": "is required"}]


@pytest.mark.parametrize(
    ("order_id", "message"),
    [
        ("", "must be 1 to 64 letters, digits, '-' or '_'"),
        ("o" * 65, "must be 1 to 64 letters, digits, '-' or '_'"),
        ("order 1001", "must be 1 to 64 letters, digits, '-' or '_'"),
        ("order-1001\n", "must be 1 to 64 letters, digits, '-' or '_'"),
        ("bestellung-ä", "must be 1 to 64 letters, digits, '-' or '_'"),
        ("order/1001", "must be 1 to 64 letters, digits, '-' or '_'"),
        (1001, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_order_id_outside_the_allowed_characters_or_length_is_rejected(
    rejected, request_body, order_id, message
):
    reply = rejected(request_body(orderId=order_id))

    assert reply.body["errors"] == [{"field": "orderId", "message": message}]


def test_missing_order_id_is_rejected(rejected, request_body, absent):
    reply = rejected(request_body(orderId=absent))

    assert reply.body["errors"] == [{"field": "orderId", "message": "is required"}]


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "must not be blank"),
        ("   \t\n ", "must not be blank"),
        ("r" * 501, "must be at most 500 characters after trimming"),
        (" " * 1500 + "r" * 501, "must be at most 2000 characters before trimming"),
        (" " * 2001, "must be at most 2000 characters before trimming"),
        (42, "must be a string"),
        (None, "must be a string"),
        (["damaged"], "must be a string"),
    ],
)
def test_reason_outside_its_length_or_type_is_rejected(rejected, request_body, reason, message):
    reply = rejected(request_body(reason=reason))

    assert reply.body["errors"] == [{"field": "reason", "message": message}]


def test_reason_far_over_the_item_size_limit_is_a_400_not_a_500(rejected, request_body):
    reply = rejected(request_body(reason="x" * 600_000))

    assert reply.body["errors"] == [
        {"field": "reason", "message": "must be at most 2000 characters before trimming"}
    ]


def test_reason_with_a_lone_surrogate_is_rejected(rejected):
    body = '{"orderId": "order-1001", "amount": 30.40, "reason": "broken \\ud800"}'

    reply = rejected(body)

    assert reply.body["errors"] == [{"field": "reason", "message": "must be valid Unicode text"}]


def test_missing_reason_is_rejected(rejected, request_body, absent):
    reply = rejected(request_body(reason=absent))

    assert reply.body["errors"] == [{"field": "reason", "message": "is required"}]


def test_every_failing_field_is_reported_at_once(rejected):
    body = json.dumps({"orderId": "no spaces", "amount": "ten", "reason": " ", "extra": 1})

    reply = rejected(body, {"Idempotency-Key": ""})

    assert reply.body["errors"] == [
        {"field": "orderId", "message": "must be 1 to 64 letters, digits, '-' or '_'"},
        {"field": "amount", "message": "must be a JSON number"},
        {"field": "reason", "message": "must not be blank"},
        {"field": "extra", "message": "is not a field of a refund request"},
        {"field": "Idempotency-Key", "message": "must be 1 to 128 printable ASCII characters"},
    ]


def test_unknown_field_is_rejected(rejected, request_body):
    reply = rejected(request_body(currency="EUR"))

    assert reply.body["errors"] == [
        {"field": "currency", "message": "is not a field of a refund request"}
    ]


def test_many_unknown_fields_are_named_up_to_ten_then_counted(rejected, request_body):
    extras = {f"extra{n}": n for n in range(25)}

    reply = rejected(request_body(**extras))

    assert reply.fields == [f"extra{n}" for n in range(10)] + ["body"]
    assert reply.body["errors"][-1]["message"] == "has 15 more fields that are not accepted"


def test_long_unknown_field_name_is_shortened_in_the_answer(rejected, request_body):
    reply = rejected(request_body(**{"x" * 1000: 1}))

    assert reply.fields == ["x" * 64 + "..."]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "is required"),
        ("", "is required"),
        ("   ", "must be valid JSON"),
        ("not json", "must be valid JSON"),
        ('{"orderId": "order-1001",', "must be valid JSON"),
        ("[]", "must be a JSON object"),
        ('["order-1001", 30.40, "damaged"]', "must be a JSON object"),
        ('"a refund"', "must be a JSON object"),
        ("30.40", "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("true", "must be a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply"),
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "text",
        "truncated",
        "empty-array",
        "array",
        "string",
        "number",
        "null",
        "boolean",
        "deeply-nested",
    ],
)
def test_body_that_is_not_a_json_object_is_rejected(rejected, body, message):
    reply = rejected(body)

    assert reply.body["errors"] == [{"field": "body", "message": message}]


def test_duplicate_keys_are_rejected(rejected):
    body = '{"orderId": "order-1001", "amount": 1.00, "amount": 2000.00, "reason": "damaged"}'

    reply = rejected(body)

    assert reply.body["errors"] == [
        {"field": "body", "message": 'has the key "amount" more than once'}
    ]


def test_invalid_base64_body_is_rejected(rejected):
    reply = rejected("%%%not-base64%%%", base64_encoded=True, encode=False)

    assert reply.body["errors"] == [{"field": "body", "message": "must be valid base64"}]


def test_base64_body_that_is_not_utf8_is_rejected(rejected):
    event_body = base64.b64encode(b'{"orderId": "\xff\xfe"}').decode("ascii")

    reply = rejected(event_body, base64_encoded=True, encode=False)

    assert reply.body["errors"] == [{"field": "body", "message": "must be UTF-8 text"}]


def test_body_text_that_cannot_be_utf8_is_rejected(rejected):
    reply = rejected('{"orderId": "order-1001", "amount": 1, "reason": "\ud800"}')

    assert reply.body["errors"] == [{"field": "body", "message": "must be UTF-8 text"}]


@pytest.mark.parametrize(
    "key",
    ["", "k" * 129, "tab\tinside", "del\x7f", "ключ", "line\nbreak"],
    ids=["empty", "too-long", "tab", "delete", "non-ascii", "newline"],
)
def test_idempotency_key_outside_printable_ascii_or_length_is_rejected(rejected, request_body, key):
    reply = rejected(request_body(), {"Idempotency-Key": key})

    assert reply.body["errors"] == [
        {"field": "Idempotency-Key", "message": "must be 1 to 128 printable ASCII characters"}
    ]


def test_idempotency_key_sent_twice_with_different_values_is_rejected(rejected, request_body):
    reply = rejected(
        request_body(),
        {"Idempotency-Key": "second"},
        multi_value_headers={"Idempotency-Key": ["first", "second"]},
    )

    assert reply.body["errors"] == [{"field": "Idempotency-Key", "message": "must be sent once"}]
