"""The refund request as the receiver reads it: every field judged, every failure reported."""

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.contract import (
    AMOUNT_MAX,
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    REASON_MAX_LENGTH,
    REASON_MAX_RAW_LENGTH,
    REQUEST_FIELDS,
    SIMULATE_FAILURE_HEADER,
    SIMULATED_FAILURES,
)
from shared.errors import FieldError, InvalidRequestError, shown_name
from shared.json_codec import JsonRejectedError, loads_exact
from shared.refund import CENT, canonical_amount

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Each unknown field is named in the answer, up to this many; a body made of thousands of them
# must not become an answer too large for Lambda to return.
MAX_UNKNOWN_FIELDS_NAMED = 10

_ORDER_ID = re.compile(ORDER_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_MISSING = object()


@dataclass(frozen=True)
class RefundRequest:
    order_id: str
    amount: Decimal
    reason: str
    idempotency_key: str | None
    simulated_failure: str | None


def read_refund_request(
    body: str | None,
    idempotency_keys: list[str],
    simulate_failure_values: list[str],
    fault_injection_enabled: bool,
) -> RefundRequest:
    """Validate body and headers together; raise InvalidRequestError naming every problem."""
    errors: list[FieldError] = []
    fields = _body_fields(body, errors)
    idempotency_key = _idempotency_key(idempotency_keys, errors)
    simulated_failure = (
        _simulated_failure(simulate_failure_values, errors) if fault_injection_enabled else None
    )
    if errors or fields is None:
        raise InvalidRequestError(errors)

    # Every field passed its check, so the conversions below cannot fail.
    return RefundRequest(
        order_id=fields["orderId"],
        amount=canonical_amount(fields["amount"]),
        reason=fields["reason"].strip(),
        idempotency_key=idempotency_key,
        simulated_failure=simulated_failure,
    )


def _body_fields(body: str | None, errors: list[FieldError]) -> dict[str, Any] | None:
    if not body:
        errors.append(FieldError("body", "is required"))
        return None
    try:
        document = loads_exact(body)
    except JsonRejectedError as rejection:
        errors.append(FieldError("body", str(rejection)))
        return None
    if not isinstance(document, dict):
        errors.append(FieldError("body", "must be a JSON object"))
        return None

    checks = {"orderId": _order_id_problem, "amount": _amount_problem, "reason": _reason_problem}
    for name in REQUEST_FIELDS:
        value = document.get(name, _MISSING)
        problem = "is required" if value is _MISSING else checks[name](value)
        if problem:
            errors.append(FieldError(name, problem))

    unknown = [name for name in document if name not in REQUEST_FIELDS]
    for name in unknown[:MAX_UNKNOWN_FIELDS_NAMED]:
        errors.append(FieldError(shown_name(name), "is not a field of a refund request"))
    if len(unknown) > MAX_UNKNOWN_FIELDS_NAMED:
        more = len(unknown) - MAX_UNKNOWN_FIELDS_NAMED
        errors.append(FieldError("body", f"has {more} more fields that are not accepted"))
    return document


def _order_id_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if _ORDER_ID.fullmatch(value) is None:
        return "must be 1 to 64 letters, digits, '-' or '_'"
    return None


def _amount_problem(value: object) -> str | None:
    # Booleans, null and strings are not amounts; loads_exact turns every JSON number into a
    # Decimal, so nothing else is a number here.
    if not isinstance(value, Decimal):
        return "must be a JSON number"
    # The range comes before any quantize: 1e999999999 must be refused, not computed with.
    if value <= 0:
        return "must be greater than 0"
    if value > AMOUNT_MAX:
        return f"must be at most {AMOUNT_MAX}"
    if value != value.quantize(CENT):
        return "must have at most two decimal places"
    return None


def _reason_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > REASON_MAX_RAW_LENGTH:
        return f"must be at most {REASON_MAX_RAW_LENGTH} characters before trimming"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    trimmed = value.strip()
    if not trimmed:
        return "must not be blank"
    if len(trimmed) > REASON_MAX_LENGTH:
        return f"must be at most {REASON_MAX_LENGTH} characters after trimming"
    return None


def _idempotency_key(values: list[str], errors: list[FieldError]) -> str | None:
    if not values:
        return None
    if len(set(values)) > 1:
        errors.append(FieldError(IDEMPOTENCY_KEY_HEADER, "must be sent once"))
        return None
    if _IDEMPOTENCY_KEY.fullmatch(values[0]) is None:
        errors.append(
            FieldError(IDEMPOTENCY_KEY_HEADER, "must be 1 to 128 printable ASCII characters")
        )
        return None
    return values[0]


def _simulated_failure(values: list[str], errors: list[FieldError]) -> str | None:
    if not values:
        return None
    if len(set(values)) > 1 or values[0] not in SIMULATED_FAILURES:
        accepted = ", ".join(SIMULATED_FAILURES)
        errors.append(FieldError(SIMULATE_FAILURE_HEADER, f"must be one of: {accepted}"))
        return None
    return values[0]
