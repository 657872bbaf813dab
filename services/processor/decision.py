"""The refund rule: an amount over 1000 is rejected, anything else (1000 included) is approved."""

from decimal import Decimal

from shared.refund import Status

APPROVAL_LIMIT = Decimal("1000")


def decide(amount: Decimal) -> Status:
    return Status.REJECTED if amount > APPROVAL_LIMIT else Status.APPROVED
