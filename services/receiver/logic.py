"""Accepting a refund: validate the request, store it once, queue it, and answer a replay alike."""

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from receiver.request import RefundRequest, read_refund_request
from shared.errors import IdempotencyConflictError, PublishFailedError, QueueUnavailableError
from shared.observability import logger, metrics
from shared.ports import RefundQueue, RefundStore
from shared.refund import Refund, Status, utc_now

# Fixed forever: refund ids derived from Idempotency-Keys depend on it.
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1a52-8d0e-4c55-9b7e-2f4a0d3c9e61")


@dataclass(frozen=True)
class Submission:
    """What the client sent, taken out of the gateway event."""

    body: str | None
    idempotency_keys: list[str]
    simulate_failure_values: list[str]
    api_key_id: str
    correlation_id: str


@dataclass(frozen=True)
class Acceptance:
    refund_id: str
    status: Status
    replayed: bool


def refund_id_for(idempotency_key: str | None, api_key_id: str) -> str:
    """A new random id, or the one id an (API key, Idempotency-Key) pair always names."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{api_key_id}:{idempotency_key}"))


def request_fingerprint(request: RefundRequest) -> str:
    """A digest of the validated request, so 1e3 and 1000.00 count as the same request."""
    canonical = {
        "orderId": request.order_id,
        "amount": str(request.amount),
        "reason": request.reason,
        "simulateFailure": request.simulated_failure,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def accept_refund(
    submission: Submission,
    store: RefundStore,
    queue: RefundQueue,
    fault_injection_enabled: bool,
    now: Callable[[], str] = utc_now,
) -> Acceptance:
    """Store the refund as PENDING and queue it; with a known Idempotency-Key, replay instead.

    The receiver may only put items and send messages, so idempotency rests on the id: the same
    key always names the same refund, and the put succeeds only for a new id.
    """
    request = read_refund_request(
        submission.body,
        submission.idempotency_keys,
        submission.simulate_failure_values,
        fault_injection_enabled,
    )

    refund_id = refund_id_for(request.idempotency_key, submission.api_key_id)
    logger.append_keys(refund_id=refund_id)
    created_at = now()
    refund = Refund(
        refund_id=refund_id,
        order_id=request.order_id,
        amount=request.amount,
        reason=request.reason,
        status=Status.PENDING,
        created_at=created_at,
        updated_at=created_at,
        request_fingerprint=request_fingerprint(request),
        simulated_failure=request.simulated_failure,
    )
    stored = store.create(refund)

    if stored is None:
        _queue(refund, submission, request, queue)
        logger.info("refund accepted")
        metrics.add_metric(name="RefundsAccepted", unit=MetricUnit.Count, value=1)
        return Acceptance(refund_id, Status.PENDING, replayed=False)

    if stored.request_fingerprint != refund.request_fingerprint:
        raise IdempotencyConflictError()
    # A refund still PENDING may be one whose first message never left: sending again is safe,
    # because the processor decides each refund once.
    if stored.status is Status.PENDING:
        _queue(stored, submission, request, queue)
    logger.info("refund replayed", status=stored.status)
    return Acceptance(stored.refund_id, stored.status, replayed=True)


def _queue(
    refund: Refund, submission: Submission, request: RefundRequest, queue: RefundQueue
) -> None:
    try:
        queue.publish(refund.refund_id, submission.correlation_id)
    except QueueUnavailableError as error:
        raise PublishFailedError(refund.refund_id, request.idempotency_key is not None) from error
