"""The refund request contract: field rules that the receiver and the API gateway both enforce.

This module is plain data and standard library only, because the stacks import it too: the
gateway's JSON-schema model is built from the same constants the receiver validates with.
"""

from decimal import Decimal
from typing import Any

REQUEST_FIELDS = ("orderId", "amount", "reason")

ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ORDER_ID_MAX_LENGTH = 64

AMOUNT_MAX = Decimal("1000000")
AMOUNT_DECIMAL_PLACES = 2

REASON_MAX_LENGTH = 500
# The gateway cannot trim, so it bounds the raw text; the receiver bounds both the raw text and the
# trimmed text. Whatever the gateway lets through, the receiver still judges.
REASON_MAX_RAW_LENGTH = 4 * REASON_MAX_LENGTH
REASON_NOT_BLANK_PATTERN = r"\S"

IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]{1,128}$"
REFUND_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

SIMULATE_FAILURE_HEADER = "X-Simulate-Failure"
SIMULATED_GATEWAY_TIMEOUT = "payment-gateway-timeout"
SIMULATED_FAILURES = (SIMULATED_GATEWAY_TIMEOUT,)


def refund_request_schema() -> dict[str, Any]:
    """The POST /refunds body as JSON Schema draft 4, the dialect API Gateway models accept."""
    return {
        "type": "object",
        "title": "RefundRequest",
        "required": list(REQUEST_FIELDS),
        "additionalProperties": False,
        "properties": {
            "orderId": {
                "type": "string",
                "minLength": 1,
                "maxLength": ORDER_ID_MAX_LENGTH,
                "pattern": ORDER_ID_PATTERN,
            },
            "amount": {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": True,
                "maximum": int(AMOUNT_MAX),
            },
            "reason": {
                "type": "string",
                "minLength": 1,
                "maxLength": REASON_MAX_RAW_LENGTH,
                "pattern": REASON_NOT_BLANK_PATTERN,
            },
        },
    }
