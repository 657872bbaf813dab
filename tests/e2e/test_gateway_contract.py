"""What the local gateway refuses, and how: the synthesized API's key, model and responses."""

import json
import socket
from typing import Any

import pytest
import requests

from local.system import LocalSystem
from tests.e2e.support import RefundApi

pytestmark = pytest.mark.e2e

VALID: dict[str, Any] = {"orderId": "order-2001", "amount": 10, "reason": "Duplicate charge"}


def test_body_missing_a_field_is_refused_by_the_gateway_naming_the_field(api: RefundApi) -> None:
    response = api.post({"orderId": "order-2001", "reason": "Duplicate charge"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid request body",
        "validationErrors": '[object has missing required properties (["amount"])]',
    }


def test_body_with_an_unknown_field_is_refused_by_the_gateway_naming_the_field(
    api: RefundApi,
) -> None:
    response = api.post({**VALID, "currency": "EUR"})

    assert response.status_code == 400
    assert '["currency"]' in response.json()["validationErrors"]


def test_amount_with_three_decimals_is_refused_by_the_receiver_naming_the_field(
    api: RefundApi,
) -> None:
    # The model cannot count decimals; the receiver, behind it, does.
    response = api.post({**VALID, "amount": 10.123})

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["amount"]


def test_amount_of_five_thousand_digits_is_refused_by_the_gateway_as_over_the_maximum(
    api: RefundApi,
) -> None:
    # More digits than Python's int() converts by default; the gateway must still judge them.
    digits = "9" * 5000

    response = api.post_text(f'{{"orderId": "order-2001", "amount": {digits}, "reason": "r"}}')

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid request body",
        "validationErrors": "[numeric instance is greater than the required maximum "
        f"(maximum: 1000000, found: {digits})]",
    }


def test_integer_of_five_thousand_digits_is_still_an_integer_to_the_model(api: RefundApi) -> None:
    response = api.post_text(f'{{"orderId": {"1" * 5000}, "amount": 10, "reason": "r"}}')

    assert response.status_code == 400
    assert response.json()["validationErrors"] == (
        '[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]'
    )


def test_body_nested_five_thousand_arrays_deep_is_refused_by_the_gateway(api: RefundApi) -> None:
    response = api.post_text("[" * 5000 + "]" * 5000)

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid request body",
        "validationErrors": "[Invalid JSON: nested too deeply]",
    }


def test_request_without_a_key_is_forbidden(local_system: LocalSystem) -> None:
    response = requests.post(f"{local_system.api_url}/refunds", json=VALID, timeout=10)

    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_request_with_a_wrong_key_is_forbidden(api: RefundApi) -> None:
    response = api.post(VALID, headers={"x-api-key": "not-the-key"})

    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_key_is_checked_before_the_body(local_system: LocalSystem) -> None:
    response = requests.post(f"{local_system.api_url}/refunds", json={}, timeout=10)

    assert response.status_code == 403


def test_unknown_refund_is_not_found(api: RefundApi) -> None:
    response = api.get("00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404


def test_unknown_route_answers_missing_authentication_token(api: RefundApi) -> None:
    response = api.session.get(f"{api.system.api_url}/orders", timeout=10)

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


# Any method token may arrive, not only those the HTTP server has names for.
@pytest.mark.parametrize("method", ["DELETE", "TRACE", "FOO"])
def test_method_the_api_does_not_define_answers_missing_authentication_token(
    api: RefundApi, method: str
) -> None:
    response = api.session.request(
        method,
        f"{api.system.api_url}/refunds",
        headers={"x-api-key": api.system.api_key},
        timeout=10,
    )

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": "Missing Authentication Token"}


def test_body_over_ten_megabytes_is_refused_as_too_large(api: RefundApi) -> None:
    response = api.session.post(
        f"{api.system.api_url}/refunds",
        data=b"x" * (10 * 1024 * 1024 + 1),
        headers={"x-api-key": api.system.api_key, "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: abc\r\n\r\n",
        "Content-Length: -5\r\n\r\n",
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    ],
    ids=["length-in-letters", "negative-length", "chunk-size-in-letters"],
)
def test_a_body_whose_length_cannot_be_read_is_a_400_and_the_connection_closes(
    local_system: LocalSystem, framing: str
) -> None:
    port = int(local_system.api_url.rsplit(":", 1)[1])
    request = f"POST /refunds HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}".encode()

    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        answer = b"".join(iter(lambda: connection.recv(4096), b""))

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.splitlines()[0] == b"HTTP/1.1 400 Bad Request"
    assert b"Connection: close" in head.splitlines()
    assert json.loads(body) == {"message": "Bad Request"}


def test_gateway_answers_carry_a_request_id(api: RefundApi) -> None:
    response = api.post(VALID)

    assert len(response.headers["x-amzn-RequestId"]) == 36
