"""The requests of a load run: refunds on both sides of the rule, client retries, invalid bodies.

A plan is built from a seed, so two runs with the same options send the same requests.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from shared.json_codec import dumps

REFUSED_BY_GATEWAY = "gateway"
REFUSED_BY_RECEIVER = "receiver"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"

# Every run holds the amounts either side of the approval limit, whatever the seed.
BOUNDARY_AMOUNTS = (Decimal("1000.00"), Decimal("1000.01"), Decimal("0.01"))
BOUNDARY_EVERY = 25
# Of the valid requests, this share carries an Idempotency-Key, so that some can be retried.
KEYED_SHARE = 0.2
REASONS = ("Arrived damaged", "Wrong size", "Never delivered", "Changed my mind", "Double charge")


@dataclass(frozen=True)
class PlannedRequest:
    """One POST /refunds: its body, and what the system must answer to it."""

    body: str
    # The amount of a valid request, as the refund must store it.
    amount: Decimal | None = None
    idempotency_key: str | None = None
    # Which layer must refuse an invalid request: the gateway's model or the receiver.
    refused_by: str | None = None
    # The index of the earlier request this one retries, with the same key and body.
    retry_of: int | None = None

    @property
    def valid(self) -> bool:
        return self.refused_by is None

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.idempotency_key is not None:
            headers[IDEMPOTENCY_KEY_HEADER] = self.idempotency_key
        return headers


def _valid_fields(index: int, amount: Decimal, rng: random.Random) -> dict[str, object]:
    return {"orderId": f"load-{index:05d}", "amount": amount, "reason": rng.choice(REASONS)}


# Bodies the gateway's model refuses, and bodies only the receiver can refuse (the model cannot
# count decimals, measure a trimmed reason or see a repeated key).
def _invalid_bodies(index: int) -> list[tuple[str, str]]:
    order_id = f"load-{index:05d}"
    fields = {"orderId": order_id, "amount": Decimal("10.00"), "reason": "Arrived damaged"}
    return [
        (REFUSED_BY_GATEWAY, dumps({"orderId": order_id, "amount": Decimal("10.00")})),
        (REFUSED_BY_GATEWAY, dumps({**fields, "amount": "10.00"})),
        (REFUSED_BY_GATEWAY, dumps({**fields, "amount": Decimal("-5")})),
        (REFUSED_BY_GATEWAY, dumps({**fields, "currency": "EUR"})),
        (REFUSED_BY_GATEWAY, dumps({**fields, "orderId": f"load {index}"})),
        (REFUSED_BY_GATEWAY, f"orderId={order_id}&amount=10.00"),
        (REFUSED_BY_RECEIVER, dumps({**fields, "amount": Decimal("10.005")})),
        (REFUSED_BY_RECEIVER, dumps({**fields, "reason": "x" * 501})),
        # The same key twice: a JSON parser that keeps the last one sees a valid request.
        (REFUSED_BY_RECEIVER, dumps(fields).replace("{", '{"orderId":"load-first",', 1)),
    ]


def _amount(nth_valid: int, rng: random.Random) -> Decimal:
    if nth_valid % BOUNDARY_EVERY == 0:
        return BOUNDARY_AMOUNTS[(nth_valid // BOUNDARY_EVERY) % len(BOUNDARY_AMOUNTS)]
    # Half the refunds up to the limit, half above it, in whole cents.
    cents = rng.randint(1, 100_000) if rng.random() < 0.5 else rng.randint(100_001, 500_000)
    return Decimal(cents).scaleb(-2)


def plan(count: int, invalid_share: float, retry_share: float, seed: int) -> list[PlannedRequest]:
    """`count` requests: about `invalid_share` invalid, `retry_share` retries of keyed ones."""
    rng = random.Random(seed)  # noqa: S311 (test data, nothing secret)
    requests: list[PlannedRequest] = []
    keyed: list[int] = []
    new_refunds = 0
    for index in range(count):
        roll = rng.random()
        if roll < invalid_share:
            options = _invalid_bodies(index)
            refused_by, body = options[rng.randrange(len(options))]
            requests.append(PlannedRequest(body=body, refused_by=refused_by))
        elif roll < invalid_share + retry_share and keyed:
            original = rng.choice(keyed)
            requests.append(
                PlannedRequest(
                    body=requests[original].body,
                    amount=requests[original].amount,
                    idempotency_key=requests[original].idempotency_key,
                    retry_of=original,
                )
            )
        else:
            amount = _amount(new_refunds, rng)
            new_refunds += 1
            key = f"load-{seed}-{index}" if rng.random() < KEYED_SHARE else None
            if key is not None:
                keyed.append(index)
            body = dumps(_valid_fields(index, amount, rng))
            requests.append(PlannedRequest(body=body, amount=amount, idempotency_key=key))
    return requests
