"""The refund record: its statuses, its fields, the canonical form of its amount and its id."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from shared.contract import AMOUNT_DECIMAL_PLACES, REFUND_ID_PATTERN

CENT = Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES)

_REFUND_ID = re.compile(REFUND_ID_PATTERN)


class Status(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: Decimal
    reason: str
    status: Status
    created_at: str
    updated_at: str
    decided_at: str | None = None
    payment_reference: str | None = None
    # Internal: a digest of the validated request, so a replayed Idempotency-Key can be compared.
    request_fingerprint: str = ""
    # Internal: the failure a demo asked the processor to simulate, set only with fault injection.
    simulated_failure: str | None = None


def canonical_amount(amount: Decimal) -> Decimal:
    """The amount with exactly two decimals: the one form that is stored, hashed and shown.

    Only call it on an amount already known to be in range: quantizing a huge exponent is an
    error, which is why validation range-checks first.
    """
    return amount.quantize(CENT)


def is_refund_id(text: str) -> bool:
    return _REFUND_ID.fullmatch(text) is not None


def utc_now() -> str:
    """The current time as ISO 8601 in UTC with milliseconds, e.g. 2026-12-04T09:30:00.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
