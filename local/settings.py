"""What the local run lets one choose, and the range of each, checked before anything starts."""

import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.functions import SERVICES_DIR

REPOSITORY = Path(__file__).resolve().parent.parent
FAULT_FLAG = "FAULT_INJECTION_ENABLED"
# Processor fault knobs: passed to every function that has the fault flag, when set here.
FAULT_KNOBS = ("GATEWAY_TIMEOUT_RATE", "PROCESSOR_CRASH_RATE")
# API Gateway refuses a shorter API key value.
API_KEY_MIN_LENGTH = 20
_INTEGER = re.compile(r"[+-]?[0-9]+")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]*")


class SettingsError(ValueError):
    """A setting the local run cannot work with; the message names its variable and range."""


def _integer(text: str) -> int | None:
    return int(text) if _INTEGER.fullmatch(text.strip()) else None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_integer(value) or isinstance(value, float)) and math.isfinite(value)


@dataclass(frozen=True)
class _Rule:
    """One setting's range: its variable, the words for the range, the check, and the parsing."""

    variable: str
    allowed: str
    check: Callable[[Any], bool]
    parse: Callable[[str], Any]

    def read(self, text: str) -> Any:
        value = self.parse(text)
        if value is None or not self.check(value):
            raise self.refusal(text)
        return value

    def refusal(self, shown: Any) -> SettingsError:
        return SettingsError(f"{self.variable} must be {self.allowed}, not {shown!r}")


def _port_rule(variable: str) -> _Rule:
    return _Rule(
        variable,
        "an integer from 0 to 65535",
        lambda v: _is_integer(v) and 0 <= v <= 65535,
        _integer,
    )


# By Settings field; the fields without a rule are paths and names that loading the cloud
# assembly checks, with a message of its own.
_RULES = {
    "port": _port_rule("LOCAL_PORT"),
    "aws_port": _port_rule("LOCAL_AWS_PORT"),
    "time_scale": _Rule(
        "LOCAL_TIME_SCALE", "a number above 0", lambda v: _is_number(v) and v > 0, _number
    ),
    "concurrency": _Rule(
        "LOCAL_CONCURRENCY",
        "an integer of at least 1",
        lambda v: _is_integer(v) and v >= 1,
        _integer,
    ),
}


def _check_api_key(api_key: str | None) -> None:
    if api_key is None:
        return
    if len(api_key) < API_KEY_MIN_LENGTH:
        raise SettingsError(
            f"REFUNDS_API_KEY must be at least {API_KEY_MIN_LENGTH} characters long, as API "
            f"Gateway requires; it has {len(api_key)}"
        )
    if not _VISIBLE_ASCII.fullmatch(api_key):
        raise SettingsError(
            "REFUNDS_API_KEY must hold only visible ASCII characters (no spaces), to travel in "
            "the x-api-key header"
        )


def _check_faults(faults: Mapping[str, str]) -> None:
    """The processor's own rule for its fault rates, so the runner cannot accept what the
    processor then refuses on every batch; fault injection is always on locally."""
    unknown = [name for name in faults if name not in FAULT_KNOBS]
    if unknown:
        raise SettingsError(
            f"faults may set only {' and '.join(FAULT_KNOBS)}, not {', '.join(map(repr, unknown))}"
        )
    if str(SERVICES_DIR) not in sys.path:
        sys.path.append(str(SERVICES_DIR))
    from shared.faults import FaultSettings

    try:
        FaultSettings.from_environ({FAULT_FLAG: "true", **faults})
    except ValueError as error:
        raise SettingsError(str(error)) from None


@dataclass(frozen=True)
class Settings:
    """What the local run lets one choose; everything else comes from the templates."""

    cloud_assembly: Path = REPOSITORY / "cdk.out"
    stage: str = "Dev"
    port: int = 3000
    aws_port: int = 4566
    # Divides the queue's visibility timeout and the batching window: at 60, the 180 s visibility
    # timeout of the refund queue becomes 3 s, and a message that always fails reaches the DLQ
    # after three receives, within about 10 s.
    time_scale: float = 60.0
    concurrency: int = 4
    api_key: str | None = None
    faults: Mapping[str, str] = field(default_factory=dict)
    log_dir: Path = REPOSITORY / ".local" / "logs"

    def __post_init__(self) -> None:
        for name, rule in _RULES.items():
            value = getattr(self, name)
            if not rule.check(value):
                raise rule.refusal(value)
        _check_api_key(self.api_key)
        _check_faults(self.faults)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """The settings the variables choose; an empty variable counts as unset."""
        chosen: dict[str, Any] = {
            name: rule.read(environ[rule.variable])
            for name, rule in _RULES.items()
            if environ.get(rule.variable)
        }
        paths = {"cloud_assembly": "LOCAL_CLOUD_ASSEMBLY", "log_dir": "LOCAL_LOG_DIR"}
        chosen.update({name: Path(environ[var]) for name, var in paths.items() if environ.get(var)})
        if environ.get("LOCAL_STAGE"):
            chosen["stage"] = environ["LOCAL_STAGE"]
        return cls(
            **chosen,
            api_key=environ.get("REFUNDS_API_KEY") or None,
            faults={name: environ[name] for name in FAULT_KNOBS if environ.get(name)},
        )
