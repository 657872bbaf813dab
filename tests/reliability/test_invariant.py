"""The load run's judge: it passes a run where nothing was lost, and names each kind of loss."""

from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from reliability.evidence import ProcessorLog
from reliability.invariant import PENDING_IN_DLQ, Rule, check
from shared.refund import Refund, Status

APPROVED_ID = "00000000-0000-4000-8000-000000000001"
REJECTED_ID = "00000000-0000-4000-8000-000000000002"
PENDING_ID = "00000000-0000-4000-8000-000000000003"
UNACCEPTED_ID = "00000000-0000-4000-8000-000000000009"
ACCEPTED = {
    APPROVED_ID: Decimal("1000.00"),
    REJECTED_ID: Decimal("1000.01"),
    PENDING_ID: Decimal("12.50"),
}


def refund(refund_id: str, status: Status, reference: str | None = None) -> Refund:
    return Refund(
        refund_id=refund_id,
        order_id="order-1",
        amount=ACCEPTED.get(refund_id, Decimal("1.00")),
        reason="Arrived damaged",
        status=status,
        created_at="2026-12-04T10:00:00.000Z",
        updated_at="2026-12-04T10:00:01.000Z",
        payment_reference=reference,
    )


def stored() -> dict[str, Refund]:
    return {
        APPROVED_ID: refund(APPROVED_ID, Status.APPROVED, "sim-1"),
        REJECTED_ID: refund(REJECTED_ID, Status.REJECTED),
        PENDING_ID: refund(PENDING_ID, Status.PENDING),
    }


def decisions() -> ProcessorLog:
    return ProcessorLog(decisions={APPROVED_ID: ["APPROVED"], REJECTED_ID: ["REJECTED"]})


def broken(rules: list[Rule], name_part: str) -> list[str]:
    (rule,) = [rule for rule in rules if name_part in rule.name]
    return list(rule.broken_by)


def test_a_run_where_every_refund_ended_as_the_rule_says_passes() -> None:
    verdict = check(ACCEPTED, stored(), Counter({PENDING_ID: 1}), decisions())

    assert verdict.passed
    assert verdict.ends == Counter({"APPROVED": 1, "REJECTED": 1, PENDING_IN_DLQ: 1})


def test_an_accepted_refund_missing_from_the_table_is_lost() -> None:
    refunds = stored()
    del refunds[REJECTED_ID]

    verdict = check(ACCEPTED, refunds, Counter({PENDING_ID: 1}), decisions())

    assert not verdict.passed
    assert broken(verdict.rules, "accepted refund is stored") == [REJECTED_ID]


def test_a_pending_refund_without_its_message_in_the_dlq_is_stuck() -> None:
    verdict = check(ACCEPTED, stored(), Counter(), decisions())

    assert broken(verdict.rules, "PENDING refund has its message") == [PENDING_ID]


def test_a_refund_decided_against_the_rule_is_named() -> None:
    refunds = stored()
    refunds[REJECTED_ID] = refund(REJECTED_ID, Status.APPROVED, "sim-2")
    log = ProcessorLog(decisions={APPROVED_ID: ["APPROVED"], REJECTED_ID: ["APPROVED"]})

    verdict = check(ACCEPTED, refunds, Counter({PENDING_ID: 1}), log)

    assert broken(verdict.rules, "APPROVED up to 1000") == [REJECTED_ID]


def test_two_decision_lines_for_one_refund_are_a_double_decision() -> None:
    log = decisions()
    log.decisions[APPROVED_ID].append("APPROVED")

    verdict = check(ACCEPTED, stored(), Counter({PENDING_ID: 1}), log)

    assert broken(verdict.rules, "decided twice") == [APPROVED_ID]


def test_a_stored_decision_without_its_line_is_named() -> None:
    log = decisions()
    del log.decisions[REJECTED_ID]

    verdict = check(ACCEPTED, stored(), Counter({PENDING_ID: 1}), log)

    assert broken(verdict.rules, "lines name the stored status") == [REJECTED_ID]


@pytest.mark.parametrize(
    ("refund_id", "status", "reference"),
    [(APPROVED_ID, Status.APPROVED, None), (REJECTED_ID, Status.REJECTED, "sim-2")],
)
def test_a_payment_reference_belongs_to_approvals_only(
    refund_id: str, status: Status, reference: str | None
) -> None:
    refunds = stored()
    refunds[refund_id] = refund(refund_id, status, reference)

    verdict = check(ACCEPTED, refunds, Counter({PENDING_ID: 1}), decisions())

    assert broken(verdict.rules, "payment reference") == [refund_id]


def test_a_stored_amount_other_than_the_one_sent_is_named() -> None:
    refunds = stored()
    refunds[APPROVED_ID] = replace(refunds[APPROVED_ID], amount=Decimal("100.00"))

    verdict = check(ACCEPTED, refunds, Counter({PENDING_ID: 1}), decisions())

    assert broken(verdict.rules, "amount its request sent") == [APPROVED_ID]


def test_a_refund_stored_without_a_202_is_named_unless_it_was_there_before() -> None:
    refunds = {**stored(), UNACCEPTED_ID: refund(UNACCEPTED_ID, Status.PENDING)}
    letters = Counter({PENDING_ID: 1})

    assert broken(check(ACCEPTED, refunds, letters, decisions()).rules, "no 202") == [UNACCEPTED_ID]
    before = frozenset({UNACCEPTED_ID})
    assert check(ACCEPTED, refunds, letters, decisions(), stored_before=before).passed


def test_a_decided_refund_whose_message_also_reached_the_dlq_still_passes() -> None:
    letters = Counter({PENDING_ID: 1, APPROVED_ID: 1})

    verdict = check(ACCEPTED, stored(), letters, decisions())

    assert verdict.passed
    assert verdict.decided_with_dead_letter == 1
