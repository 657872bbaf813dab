"""JSON read strictly, every number an exact Decimal; JSON written with Decimals as numbers."""

import json
from decimal import Decimal
from typing import Any

from shared.errors import shown_name


class JsonRejectedError(ValueError):
    """The text is not JSON this service accepts; the message says why, in client words."""


def _reject_constant(name: str) -> Any:
    raise JsonRejectedError(f"must not contain {name}: JSON numbers are finite")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonRejectedError(f"has the key {json.dumps(shown_name(key))} more than once")
        result[key] = value
    return result


def loads_exact(text: str) -> Any:
    """Parse JSON text. Numbers become Decimal (never float); NaN, Infinity, duplicate keys and
    nesting too deep to parse raise JsonRejectedError."""
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except JsonRejectedError:
        raise
    except RecursionError as error:
        raise JsonRejectedError("is nested too deeply") from error
    except ValueError as error:
        raise JsonRejectedError("must be valid JSON") from error


def dumps(value: Any) -> str:
    """Serialize dicts, lists, strings, booleans, None, ints and finite Decimals to JSON text.

    A Decimal is written as the number it is (30.40 stays 30.40): the standard encoder can only
    write it by way of float or as a string.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON has no representation for a non-finite number")
        return format(value, "f")
    if isinstance(value, dict):
        members = (f"{json.dumps(str(key))}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if value is None or isinstance(value, str | bool | int):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
