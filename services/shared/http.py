"""API Gateway proxy glue, and the one place where domain errors become HTTP answers."""

import base64
import binascii
import functools
from collections.abc import Callable
from typing import Any

from shared.errors import (
    FieldError,
    IdempotencyConflictError,
    InvalidRequestError,
    PublishFailedError,
    RefundError,
    RefundNotFoundError,
    StorageUnavailableError,
)
from shared.json_codec import dumps
from shared.observability import logger

Event = dict[str, Any]
Response = dict[str, Any]
Handler = Callable[[Event, Any], Response]

STATUS_CODES: dict[type[RefundError], int] = {
    InvalidRequestError: 400,
    RefundNotFoundError: 404,
    IdempotencyConflictError: 409,
    PublishFailedError: 503,
    StorageUnavailableError: 503,
}


def json_response(
    status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return {
        "statusCode": status_code,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": dumps(body),
    }


def error_response(error: RefundError) -> Response:
    status_code = next((c for kind, c in STATUS_CODES.items() if isinstance(error, kind)), 500)
    body: dict[str, Any] = {"message": error.message}
    if isinstance(error, InvalidRequestError):
        body["errors"] = [{"field": e.field, "message": e.message} for e in error.errors]
        logger.info(error.log_message, fields=[e.field for e in error.errors])
    elif status_code >= 500:
        logger.error(error.log_message, status_code=status_code, exc_info=error)
    else:
        logger.info(error.log_message, status_code=status_code)
    return json_response(status_code, body)


def answers_errors(handler: Handler) -> Handler:
    """Turn a domain error into its answer, and anything unexpected into a logged 500."""

    @functools.wraps(handler)
    def wrapper(event: Event, context: Any) -> Response:
        try:
            return handler(event, context)
        except RefundError as error:
            return error_response(error)
        except Exception:
            logger.exception("unexpected failure")
            return json_response(500, {"message": "Internal error."})

    return wrapper


def header_values(event: Event, name: str) -> list[str]:
    """Every value the client sent for a header, matched case-insensitively.

    REST proxy events keep the client's spelling of header names, and list repeated headers only
    in multiValueHeaders.
    """
    wanted = name.lower()
    multi = event.get("multiValueHeaders") or {}
    values = [v for key, vs in multi.items() if key.lower() == wanted for v in (vs or [])]
    if values:
        return values
    single = event.get("headers") or {}
    return [v for key, v in single.items() if key.lower() == wanted and v is not None]


def body_text(event: Event) -> str | None:
    """The request body as text, base64-decoded when the gateway says so; valid UTF-8 or a 400."""
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise InvalidRequestError([FieldError("body", "must be text")])
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidRequestError([FieldError("body", "must be valid base64")]) from error
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRequestError([FieldError("body", "must be UTF-8 text")]) from error
    try:
        body.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRequestError([FieldError("body", "must be UTF-8 text")]) from error
    return body


def request_id(event: Event) -> str:
    return str((event.get("requestContext") or {}).get("requestId") or "")


def api_key_id(event: Event) -> str:
    identity = (event.get("requestContext") or {}).get("identity") or {}
    return str(identity.get("apiKeyId") or "")
