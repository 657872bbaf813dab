"""The payment gateway port, and the simulated adapter that stands in for a real gateway."""

import random
import uuid
from decimal import Decimal
from typing import Protocol

from shared.contract import SIMULATED_GATEWAY_TIMEOUT
from shared.faults import FaultSettings

# Fixed forever: simulated payment references are derived from refund ids with it.
PAYMENT_REFERENCE_NAMESPACE = uuid.UUID("0b7d3c5e-41a9-4f0e-a6d2-93c8e1f47b20")


class PaymentGatewayError(Exception):
    """The gateway did not confirm the payment; the refund must stay PENDING and be retried."""


class PaymentGatewayTimeoutError(PaymentGatewayError):
    pass


class PaymentGateway(Protocol):
    def refund(self, refund_id: str, amount: Decimal, simulated_failure: str | None = None) -> str:
        """Pay the refund and return the payment reference.

        The refund id is the idempotency key: paying the same refund again, even concurrently,
        returns the same reference and pays nothing twice. `simulated_failure` is the marker a
        demo request left on the refund; only a simulated gateway acts on it.
        """
        ...


class SimulatedPaymentGateway:
    """Pays instantly with a reference derived from the refund id; times out when told to."""

    def __init__(self, faults: FaultSettings, rng: random.Random) -> None:
        self._faults = faults
        self._rng = rng

    def refund(self, refund_id: str, amount: Decimal, simulated_failure: str | None = None) -> str:
        if self._faults.enabled and (
            simulated_failure == SIMULATED_GATEWAY_TIMEOUT
            or self._rng.random() < self._faults.gateway_timeout_rate
        ):
            raise PaymentGatewayTimeoutError(f"payment gateway timed out for refund {refund_id}")
        return f"sim-{uuid.uuid5(PAYMENT_REFERENCE_NAMESPACE, refund_id)}"
