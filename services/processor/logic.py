"""Deciding queued refunds: one record at a time, each failure reported without hiding the rest."""

import enum
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from processor.decision import decide
from processor.payment_gateway import PaymentGateway, PaymentGatewayError
from shared.errors import RefundNotFoundError
from shared.json_codec import JsonRejectedError, loads_exact
from shared.observability import logger, metrics
from shared.ports import RefundStore
from shared.refund import Status, is_refund_id, utc_now

DECISION_METRICS = {Status.APPROVED: "RefundsApproved", Status.REJECTED: "RefundsRejected"}


@dataclass(frozen=True)
class Delivery:
    """One queue message, taken out of the SQS event."""

    message_id: str
    body: str | None
    correlation_id: str


class Outcome(enum.Enum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already decided"
    # Another delivery of the same refund stored its decision between our read and our write.
    DECIDED_CONCURRENTLY = "decided concurrently"


class UnreadableMessageError(Exception):
    pass


class SimulatedCrashError(RuntimeError):
    """Raised on purpose, so the whole invocation fails the way a crashed Lambda does."""


def read_refund_id(body: str | None) -> str:
    try:
        document = loads_exact(body or "")
    except JsonRejectedError as error:
        raise UnreadableMessageError(f"body {error}") from error
    refund_id = document.get("refundId") if isinstance(document, dict) else None
    if not isinstance(refund_id, str) or not is_refund_id(refund_id):
        raise UnreadableMessageError("body must be an object whose refundId is a refund id")
    return refund_id


def process_refund(
    refund_id: str,
    store: RefundStore,
    gateway: PaymentGateway,
    now: Callable[[], str] = utc_now,
) -> Outcome:
    """Decide one refund, pay it if approved, and store the decision unless one already is."""
    refund = store.get(refund_id)
    if refund is None:
        raise RefundNotFoundError(refund_id)
    if refund.status is not Status.PENDING:
        logger.info("refund already decided", status=refund.status)
        return Outcome.ALREADY_DECIDED

    decision = decide(refund.amount)
    payment_reference = None
    if decision is Status.APPROVED:
        payment_reference = gateway.refund(
            refund.refund_id, refund.amount, simulated_failure=refund.simulated_failure
        )

    if not store.record_decision(refund_id, decision, now(), payment_reference):
        logger.info("refund decided concurrently")
        return Outcome.DECIDED_CONCURRENTLY
    logger.info("refund decided", status=decision)
    metrics.add_metric(name=DECISION_METRICS[decision], unit=MetricUnit.Count, value=1)
    return Outcome.DECIDED


def process_batch(
    deliveries: list[Delivery],
    store: RefundStore,
    gateway: PaymentGateway,
    crash_at: int | None = None,
) -> list[str]:
    """Process every delivery and return the message ids that failed and must come back.

    `crash_at` is fault injection: the index of the delivery at which the invocation crashes.
    """
    failed: list[str] = []
    for index, delivery in enumerate(deliveries):
        if index == crash_at:
            logger.error("processor crash simulated", processed=index, batch_size=len(deliveries))
            raise SimulatedCrashError(f"simulated crash after {index} of {len(deliveries)} records")

        logger.append_keys(correlation_id=delivery.correlation_id, message_id=delivery.message_id)
        try:
            refund_id = read_refund_id(delivery.body)
            logger.append_keys(refund_id=refund_id)
            process_refund(refund_id, store, gateway)
        except PaymentGatewayError as error:
            failed.append(delivery.message_id)
            logger.warning("gateway failed", error=str(error))
        except (UnreadableMessageError, RefundNotFoundError) as error:
            failed.append(delivery.message_id)
            logger.warning("message failed", error=str(error))
        except Exception:
            failed.append(delivery.message_id)
            logger.exception("message failed")
        finally:
            logger.remove_keys(["correlation_id", "message_id", "refund_id"])
    if failed:
        metrics.add_metric(name="RefundsFailed", unit=MetricUnit.Count, value=len(failed))
    return failed
