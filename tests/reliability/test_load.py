"""`make load` in small: 100 requests from 10 clients with faults on, and nothing lost."""

from collections import Counter

import pytest

from local.system import LocalSystem
from reliability.load import DEFAULT_FAULTS, LoadOptions, LoadReport, percentile, run_load
from reliability.workload import BOUNDARY_AMOUNTS, REFUSED_BY_GATEWAY, REFUSED_BY_RECEIVER, plan

REQUESTS = 100
OPTIONS = LoadOptions(
    requests=REQUESTS, concurrency=10, drain_timeout=60, show_progress=False, seed=7
)


@pytest.fixture(scope="module")
def report(faulty_system: LocalSystem) -> LoadReport:
    return run_load(faulty_system, OPTIONS, DEFAULT_FAULTS)


@pytest.mark.e2e
def test_a_small_spike_with_faults_keeps_the_invariant(report: LoadReport) -> None:
    assert report.passed, report.render()


@pytest.mark.e2e
def test_every_valid_request_is_accepted_and_every_invalid_one_refused(
    report: LoadReport,
) -> None:
    planned = plan(REQUESTS, OPTIONS.invalid_share, OPTIONS.retry_share, OPTIONS.seed)
    invalid = sum(1 for request in planned if not request.valid)

    assert report.by_status == Counter({202: REQUESTS - invalid, 400: invalid})


@pytest.mark.e2e
def test_every_accepted_refund_ends_decided_or_pending_in_the_dlq(report: LoadReport) -> None:
    refunds = len({a.refund_id for a in report.spike.answers if a.status == 202})

    assert sum(report.verdict.ends.values()) == refunds
    assert report.drain_seconds is not None


@pytest.mark.e2e
def test_the_faults_were_really_injected(report: LoadReport) -> None:
    assert report.log.gateway_failures > 0


def test_a_plan_holds_the_boundary_amounts_retries_and_both_kinds_of_invalid_body() -> None:
    planned = plan(400, invalid_share=0.1, retry_share=0.05, seed=1)

    amounts = {request.amount for request in planned}
    assert set(BOUNDARY_AMOUNTS) <= amounts
    assert any(request.retry_of is not None for request in planned)
    assert {request.refused_by for request in planned} == {
        None,
        REFUSED_BY_GATEWAY,
        REFUSED_BY_RECEIVER,
    }


def test_a_plan_is_the_same_for_the_same_seed() -> None:
    assert plan(50, 0.1, 0.05, seed=3) == plan(50, 0.1, 0.05, seed=3)


def test_a_retry_repeats_the_body_and_key_of_the_request_it_retries() -> None:
    planned = plan(400, invalid_share=0.1, retry_share=0.05, seed=1)

    for request in planned:
        if request.retry_of is not None:
            first = planned[request.retry_of]
            assert (request.body, request.idempotency_key) == (first.body, first.idempotency_key)
            assert request.idempotency_key is not None


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (
        50.0,
        95.0,
        99.0,
    )
