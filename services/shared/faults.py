"""Fault injection settings: off unless the stage enables it, and then only what is asked for."""

from collections.abc import Mapping
from dataclasses import dataclass


def fault_injection_enabled(environ: Mapping[str, str]) -> bool:
    return environ.get("FAULT_INJECTION_ENABLED", "false") == "true"


@dataclass(frozen=True)
class FaultSettings:
    enabled: bool = False
    # Fractions from 0 to 1; honoured only when fault injection is enabled.
    gateway_timeout_rate: float = 0.0
    processor_crash_rate: float = 0.0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "FaultSettings":
        if not fault_injection_enabled(environ):
            return cls()
        return cls(
            enabled=True,
            gateway_timeout_rate=_rate(environ, "GATEWAY_TIMEOUT_RATE"),
            processor_crash_rate=_rate(environ, "PROCESSOR_CRASH_RATE"),
        )


def _rate(environ: Mapping[str, str], name: str) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return 0.0
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be a number from 0 to 1, not {text!r}")
    return rate
