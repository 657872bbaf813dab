"""The interfaces the refund logic talks to; shared.repository and shared.publisher fit them."""

from typing import Protocol

from shared.refund import Refund, Status


class RefundStore(Protocol):
    def create(self, refund: Refund) -> Refund | None:
        """Store a new refund. If its id is taken, store nothing and return the refund stored."""
        ...

    def get(self, refund_id: str) -> Refund | None: ...

    def record_decision(
        self, refund_id: str, status: Status, decided_at: str, payment_reference: str | None
    ) -> bool:
        """Store the decision if the refund is still PENDING; False if it no longer is."""
        ...


class RefundQueue(Protocol):
    def publish(self, refund_id: str, correlation_id: str) -> None:
        """Hand the refund to the processor; raise QueueUnavailableError if the queue refused."""
        ...
