"""Reading a refund's status: the stored refund as the client may see it, internals left out."""

from typing import Any

from shared.errors import FieldError, InvalidRequestError, RefundNotFoundError
from shared.ports import RefundStore
from shared.refund import Refund, is_refund_id


def read_refund(refund_id: str | None, store: RefundStore) -> dict[str, Any]:
    """The public view of one refund.

    Ids are issued in lowercase, and a UUID's hex digits mean the same in either case, so an
    uppercase id is read as its lowercase form.
    """
    normalized = (refund_id or "").lower()
    if not is_refund_id(normalized):
        raise InvalidRequestError([FieldError("refundId", "must be a refund id (a UUID)")])

    refund = store.get(normalized)
    if refund is None:
        raise RefundNotFoundError(normalized)
    return public_view(refund)


def public_view(refund: Refund) -> dict[str, Any]:
    view: dict[str, Any] = {
        "refundId": refund.refund_id,
        "orderId": refund.order_id,
        "amount": refund.amount,
        "reason": refund.reason,
        "status": refund.status.value,
        "createdAt": refund.created_at,
        "updatedAt": refund.updated_at,
    }
    if refund.decided_at is not None:
        view["decidedAt"] = refund.decided_at
    return view
