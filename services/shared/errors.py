"""Domain errors, worded for the client; shared.http turns each into its one HTTP answer."""

from dataclasses import dataclass

_SHOWN_NAME_MAX_LENGTH = 64


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def shown_name(name: str) -> str:
    """A client-supplied name made safe to echo back: bounded in length and valid UTF-8."""
    text = name.encode("utf-8", "replace").decode("utf-8")
    if len(text) <= _SHOWN_NAME_MAX_LENGTH:
        return text
    return text[:_SHOWN_NAME_MAX_LENGTH] + "..."


class RefundError(Exception):
    """A failure the client is told about. `message` is safe to send; `log_message` is for logs."""

    log_message = "request failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(RefundError):
    log_message = "refund request rejected by validation"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("The request is invalid.")
        self.errors = errors


class RefundNotFoundError(RefundError):
    log_message = "refund not found"

    def __init__(self, refund_id: str) -> None:
        super().__init__(f"No refund has the id {refund_id}.")


class IdempotencyConflictError(RefundError):
    log_message = "idempotency key reused with a different request"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request. A key names one "
            "refund request: send the original request to see its refund, or a new key for a "
            "new refund."
        )


class PublishFailedError(RefundError):
    """The refund is stored as PENDING but its message never reached the queue."""

    def __init__(self, refund_id: str, idempotency_key_sent: bool) -> None:
        if idempotency_key_sent:
            advice = (
                "Retry the same request with the same Idempotency-Key: the retry queues this "
                "refund and cannot create a second one."
            )
            self.log_message = (
                "refund stored but not queued; client told to retry with the same idempotency key"
            )
        else:
            advice = (
                "Retry with an Idempotency-Key header, so that retries cannot create a second "
                "refund."
            )
            self.log_message = "refund stored but not queued; client told to retry"
        super().__init__(
            f"Refund {refund_id} was stored but could not be queued for processing. {advice}"
        )


class StorageUnavailableError(RefundError):
    """The table did not answer. Only a failed write needs the Idempotency-Key advice: a failed
    read changed nothing, so trying again is all there is to say."""

    log_message = "refund store unavailable"

    def __init__(self, *, reading: bool = False) -> None:
        if reading:
            super().__init__("The refund store is unavailable; try again shortly.")
            return
        super().__init__(
            "The refund store is unavailable. Retry the request; with the same Idempotency-Key "
            "a retry cannot create a second refund."
        )


class QueueUnavailableError(Exception):
    """The queue did not take a message; the receiver words the answer for the client."""
