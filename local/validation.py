"""The gateway's request body validation: a JSON-schema model, with API Gateway's wording.

API Gateway validates with a draft 4 validator and reports errors in that validator's words
(`object has missing required properties (["amount"])`); the local gateway validates with the
`jsonschema` package and words its findings the same way, so a client sees the same 400 body.
"""

import json
from decimal import Decimal
from typing import Any

from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError


class InvalidJsonError(ValueError):
    """The body is not JSON; API Gateway's parser rejects NaN and Infinity as well."""


class _LongInteger(Decimal):
    """An integer literal longer than int() converts (it refuses, since its cost grows with the
    square of the length): kept exact as a Decimal, and still an integer to the model."""


def _integer(text: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:
        return _LongInteger(text)


def _is_integer(checker: Any, instance: Any) -> bool:
    return isinstance(instance, _LongInteger) or Draft4Validator.TYPE_CHECKER.is_type(
        instance, "integer"
    )


_Validator = validators.extend(
    Draft4Validator, type_checker=Draft4Validator.TYPE_CHECKER.redefine("integer", _is_integer)
)


def parse_json(text: str) -> Any:
    """The body as the model sees it: exact numbers however long; too deep a nesting is
    refused, as API Gateway's parser bounds it too, rather than overflowing the stack."""

    def reject_constant(name: str) -> Any:
        raise InvalidJsonError(f"non-standard token {name}")

    try:
        return json.loads(
            text, parse_float=Decimal, parse_int=_integer, parse_constant=reject_constant
        )
    except json.JSONDecodeError as error:
        raise InvalidJsonError(error.msg) from error
    except RecursionError as error:
        raise InvalidJsonError("nested too deeply") from error


def _type_name(instance: Any) -> str:
    if instance is None:
        return "null"
    if isinstance(instance, bool):
        return "boolean"
    if isinstance(instance, int | _LongInteger):
        return "integer"
    if isinstance(instance, Decimal | float):
        return "number"
    if isinstance(instance, str):
        return "string"
    if isinstance(instance, list):
        return "array"
    return "object"


def _quote(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _names(names: Any) -> str:
    return "[" + ",".join(_quote(name) for name in sorted(names)) + "]"


def _message(error: ValidationError) -> str:
    schema, instance = error.schema, error.instance
    keyword = error.validator
    if keyword == "required":
        present = instance if isinstance(instance, dict) else {}
        missing = [name for name in error.validator_value if name not in present]
        return f"object has missing required properties ({_names(missing)})"
    if keyword == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        extra = [name for name in instance if name not in allowed]
        return (
            f"object instance has properties which are not allowed by the schema: {_names(extra)}"
        )
    if keyword == "type":
        types = error.validator_value
        return (
            f"instance type ({_type_name(instance)}) does not match any allowed primitive type "
            f"(allowed: {_names([types] if isinstance(types, str) else types)})"
        )
    if keyword == "minLength":
        return (
            f"string {_quote(instance)} is too short "
            f"(length: {len(instance)}, required minimum: {error.validator_value})"
        )
    if keyword == "maxLength":
        return (
            f"string {_quote(instance)} is too long "
            f"(length: {len(instance)}, maximum allowed: {error.validator_value})"
        )
    if keyword == "pattern":
        return (
            f"ECMA 262 regex {_quote(error.validator_value)} does not match input string "
            f"{_quote(instance)}"
        )
    if keyword == "minimum":
        if schema.get("exclusiveMinimum"):
            return (
                "numeric instance is not strictly greater than the required minimum "
                f"{error.validator_value}"
            )
        return (
            "numeric instance is lower than the required minimum "
            f"(minimum: {error.validator_value}, found: {instance})"
        )
    if keyword == "maximum":
        if schema.get("exclusiveMaximum"):
            return (
                "numeric instance is not strictly lower than the required maximum "
                f"{error.validator_value}"
            )
        return (
            "numeric instance is greater than the required maximum "
            f"(maximum: {error.validator_value}, found: {instance})"
        )
    if keyword == "enum":
        return (
            f"instance value ({_quote(instance)}) not found in enum "
            f"(possible values: {_quote(error.validator_value)})"
        )
    return error.message


def body_errors(schema: dict[str, Any], body: str) -> list[str]:
    """Every way the body fails the model, in a stable order; empty when it conforms.

    An empty body is checked as an empty object, so the message names the missing fields.
    """
    try:
        instance = parse_json(body) if body.strip() else {}
    except InvalidJsonError as error:
        return [f"Invalid JSON: {error}"]
    try:
        errors = list(_Validator(schema).iter_errors(instance))
    except RecursionError:
        # Parsed, but too deep for the validator to walk with the model at hand.
        return ["Invalid JSON: nested too deeply"]
    ordered = sorted(errors, key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)))
    return [_message(error) for error in ordered]


def validation_error_string(messages: list[str]) -> str:
    """$context.error.validationErrorString: the list, quotes escaped to sit inside a string."""
    return json.dumps("[" + ", ".join(messages) + "]", ensure_ascii=False)[1:-1]
