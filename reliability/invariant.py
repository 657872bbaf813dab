"""The invariant of a run: every accepted refund decided once by the rule, or waiting in the DLQ.

Each rule lists the refunds that break it; the run passes when every list is empty. The expected
decision comes from the processor's own rule (processor.decision), the one place it is written;
the unit tests pin that rule's values, this check pins that the system applied it to every
refund, with the amount the client sent.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from processor.decision import decide
from reliability.evidence import ProcessorLog
from shared.refund import Refund, Status

PENDING_IN_DLQ = "PENDING, message in the DLQ"


@dataclass(frozen=True)
class Rule:
    name: str
    broken_by: list[str]

    @property
    def holds(self) -> bool:
        return not self.broken_by


@dataclass(frozen=True)
class Verdict:
    rules: list[Rule]
    # How each accepted refund ended: APPROVED, REJECTED, or PENDING with its message in the DLQ.
    ends: Counter[str] = field(default_factory=Counter)
    # Decided refunds whose message also reached the DLQ: a crash after the decision was stored.
    decided_with_dead_letter: int = 0

    @property
    def passed(self) -> bool:
        return all(rule.holds for rule in self.rules)


def check(
    accepted: Mapping[str, Decimal],
    refunds: Mapping[str, Refund],
    dead_letters: Counter[str],
    log: ProcessorLog,
    stored_before: frozenset[str] = frozenset(),
) -> Verdict:
    """Judge the run. `accepted` maps each refund id a 202 named to the amount its request sent;
    `stored_before` holds the refunds that were in the table before the run began."""
    lost: list[str] = []
    wrong_amount: list[str] = []
    wrong_decision: list[str] = []
    stuck: list[str] = []
    decided_twice: list[str] = []
    misreported: list[str] = []
    wrong_reference: list[str] = []
    ends: Counter[str] = Counter()
    decided_with_dead_letter = 0

    for refund_id, amount in sorted(accepted.items()):
        refund = refunds.get(refund_id)
        if refund is None:
            lost.append(refund_id)
            continue
        if refund.amount != amount:
            wrong_amount.append(refund_id)
        decisions = log.decisions.get(refund_id, [])
        if len(decisions) > 1:
            decided_twice.append(refund_id)

        if refund.status is Status.PENDING:
            if dead_letters[refund_id]:
                ends[PENDING_IN_DLQ] += 1
            else:
                stuck.append(refund_id)
            if decisions:
                misreported.append(refund_id)
            if refund.payment_reference is not None:
                wrong_reference.append(refund_id)
            continue

        ends[refund.status.value] += 1
        if dead_letters[refund_id]:
            decided_with_dead_letter += 1
        if refund.status is not decide(amount):
            wrong_decision.append(refund_id)
        if not decisions or decisions[0] != refund.status.value:
            misreported.append(refund_id)
        has_reference = refund.payment_reference is not None
        if has_reference != (refund.status is Status.APPROVED):
            wrong_reference.append(refund_id)

    unaccepted = sorted(set(refunds) - set(accepted) - stored_before)
    rules = [
        Rule("every accepted refund is stored", lost),
        Rule("every stored refund has the amount its request sent", wrong_amount),
        Rule("every decided refund is APPROVED up to 1000 and REJECTED above", wrong_decision),
        Rule("every PENDING refund has its message in the DLQ", stuck),
        Rule("no refund is decided twice (one 'refund decided' line at most)", decided_twice),
        Rule("the 'refund decided' lines name the stored status, none when PENDING", misreported),
        Rule("APPROVED refunds, and only they, carry a payment reference", wrong_reference),
        Rule("nothing is stored that no 202 accepted", unaccepted),
    ]
    return Verdict(rules=rules, ends=ends, decided_with_dead_letter=decided_with_dead_letter)
