"""The API's OpenAPI 3 document, built from the request contract the gateway's model is built from.

    python -m reliability.openapi            # writes docs/openapi.json
    python -m reliability.openapi --check    # exits 1 if docs/openapi.json is out of date

OpenAPI 3.0 is used because its schema objects take draft 4's boolean exclusiveMinimum, so the
request body schema is the gateway model's schema itself, not a translation of it. The request
rules come from shared.contract; the answers' shapes describe what the receiver, the status
reader and the gateway's own responses return.
"""

import argparse
import json
import sys
from typing import Any

from reliability import REPOSITORY
from shared.contract import (
    IDEMPOTENCY_KEY_PATTERN,
    REFUND_ID_PATTERN,
    refund_request_schema,
)
from shared.refund import Status

OPENAPI_PATH = REPOSITORY / "docs" / "openapi.json"
API_KEY_SCHEME = "apiKey"
API_KEY_HEADER = "x-api-key"
# Ids are issued in lowercase; the status reader reads an uppercase id as the same id.
REFUND_ID_ANY_CASE_PATTERN = REFUND_ID_PATTERN.replace("0-9a-f", "0-9a-fA-F")

_MESSAGE = {"type": "string", "description": "What went wrong, in words for the client."}
_STATUS = {"type": "string", "enum": [status.value for status in Status]}
_TIME = {"type": "string", "format": "date-time"}


def _json(schema_name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
        },
    }


def _schemas() -> dict[str, Any]:
    return {
        "RefundRequest": refund_request_schema(),
        "RefundAccepted": {
            "type": "object",
            "required": ["refundId", "status"],
            "properties": {
                "refundId": {"type": "string", "pattern": REFUND_ID_PATTERN},
                "status": _STATUS,
            },
        },
        "Refund": {
            "type": "object",
            "required": [
                "refundId",
                "orderId",
                "amount",
                "reason",
                "status",
                "createdAt",
                "updatedAt",
            ],
            "properties": {
                "refundId": {"type": "string", "pattern": REFUND_ID_PATTERN},
                "orderId": {"type": "string"},
                "amount": {"type": "number", "description": "Always written with two decimals."},
                "reason": {"type": "string"},
                "status": _STATUS,
                "createdAt": _TIME,
                "updatedAt": _TIME,
                "decidedAt": {**_TIME, "description": "Present once the refund is decided."},
            },
        },
        "Error": {"type": "object", "required": ["message"], "properties": {"message": _MESSAGE}},
        "InvalidRequest": {
            "type": "object",
            "required": ["message"],
            "description": (
                "The gateway's model names its findings in validationErrors; the receiver, which "
                "also checks what the model cannot (two decimals, the trimmed reason, repeated "
                "keys, the headers), lists them by field in errors."
            ),
            "properties": {
                "message": _MESSAGE,
                "validationErrors": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": _MESSAGE},
                    },
                },
            },
        },
    }


def _refusals(*codes: int, unavailable: str) -> dict[str, Any]:
    described = {
        400: ("InvalidRequest", "The request breaks the contract; nothing was stored."),
        403: ("Error", "No API key, a wrong one, or a path the API does not have."),
        404: ("Error", "No refund has this id."),
        409: ("Error", "The Idempotency-Key was already used with a different request."),
        429: ("Error", "The API key's rate or daily quota is used up; retry later."),
        503: ("Error", unavailable),
    }
    return {str(code): _json(*described[code]) for code in codes}


def _operation(
    operation_id: str,
    summary: str,
    parameter: str,
    responses: dict[str, Any],
    **more: Any,
) -> dict[str, Any]:
    """One operation; every one requires the API key, as every method of the REST API does."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "security": [{API_KEY_SCHEME: []}],
        "parameters": [{"$ref": f"#/components/parameters/{parameter}"}],
        **more,
        "responses": responses,
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Refund API",
            "version": "1.0.0",
            "description": (
                "Asynchronous refunds: POST /refunds stores a refund as PENDING and answers 202; "
                "the processor then approves it (amounts up to 1000) or rejects it (above 1000). "
                "GET /refunds/{refundId} reads its status."
            ),
        },
        "servers": [
            {
                "url": "http://127.0.0.1:3000",
                "description": (
                    "The local system (make local). A deployed stage's URL is the ApiUrl output "
                    "of its stateless stack."
                ),
            }
        ],
        "security": [{API_KEY_SCHEME: []}],
        "paths": {
            "/refunds": {
                "post": _operation(
                    "requestRefund",
                    "Ask for a refund",
                    "IdempotencyKey",
                    {
                        "202": {
                            **_json("RefundAccepted", "Stored as PENDING and queued."),
                            "headers": {
                                "Location": {
                                    "description": "/refunds/{refundId}, relative to the host.",
                                    "schema": {"type": "string"},
                                }
                            },
                        },
                        **_refusals(
                            400,
                            403,
                            409,
                            429,
                            503,
                            unavailable=(
                                "The table or the queue was unavailable. Retrying with the same "
                                "Idempotency-Key cannot create a second refund."
                            ),
                        ),
                    },
                    requestBody={
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RefundRequest"}
                            }
                        },
                    },
                )
            },
            "/refunds/{refundId}": {
                "get": _operation(
                    "getRefund",
                    "Read a refund's status",
                    "RefundId",
                    {
                        "200": _json("Refund", "The refund as stored."),
                        **_refusals(
                            400,
                            403,
                            404,
                            429,
                            503,
                            unavailable="The table was unavailable; reading again is safe.",
                        ),
                    },
                )
            },
        },
        "components": {
            "securitySchemes": {
                API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Names one refund request per API key: a retry with the same key and "
                        "body returns the same refund and creates nothing."
                    ),
                    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                },
                "RefundId": {
                    "name": "refundId",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": REFUND_ID_ANY_CASE_PATTERN},
                },
            },
            "schemas": _schemas(),
        },
    }


def render(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.openapi")
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = render(document())
    if args.check:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH} is out of date: python -m reliability.openapi", file=sys.stderr)
            return 1
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
