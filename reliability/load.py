"""`make load`: a spike of refund requests against the local system with faults on, then proof.

    python -m reliability.load --requests 2000 --concurrency 50

It starts the local system from cdk.out on free ports, with the processor's fault knobs set,
sends the spike, waits for the refund queue to drain, then judges the invariant
(reliability.invariant) and prints a report. The exit status is 1 when a rule is broken or the
queue does not drain in time.
"""

import argparse
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from local.assembly import AssemblyError
from local.settings import SettingsError
from local.system import LocalSystem, Settings, running
from reliability import REPOSITORY
from reliability.evidence import (
    ProcessorLog,
    dead_letters,
    processor_log_path,
    read_processor_log,
    stored_refunds,
)
from reliability.invariant import PENDING_IN_DLQ, Rule, Verdict, check
from reliability.progress import status_line
from reliability.queues import depth
from reliability.spike import SpikeResult, send_all
from reliability.workload import REFUSED_BY_GATEWAY, REFUSED_BY_RECEIVER, PlannedRequest, plan

DEFAULT_FAULTS = {"GATEWAY_TIMEOUT_RATE": "0.2", "PROCESSOR_CRASH_RATE": "0.05"}
# The refund queue's 180 s visibility timeout becomes 9 s. Under the spike a message can wait a
# few seconds in its batch before the processor reaches it; at make local's 3 s it would come back
# while still waiting, spending receives that on AWS (180 s, six function timeouts) it never does.
DEFAULT_TIME_SCALE = 20.0
LOAD_DIR = REPOSITORY / ".local" / "load"
_DRAIN_POLL_SECONDS = 0.2
_SHOWN_PER_RULE = 5


@dataclass(frozen=True)
class LoadOptions:
    requests: int = 2000
    concurrency: int = 50
    invalid_share: float = 0.1
    retry_share: float = 0.05
    seed: int = 2026
    drain_timeout: float = 600.0
    show_progress: bool = True
    # A separate process keeps the clients off the local gateway's interpreter lock.
    clients_in_own_process: bool = True


@dataclass(frozen=True)
class LoadReport:
    options: LoadOptions
    faults: Mapping[str, str]
    planned: list[PlannedRequest]
    spike: SpikeResult
    drain_seconds: float | None
    final_counts: Counter[str]
    dead_letter_total: int
    verdict: Verdict
    log: ProcessorLog
    response_rules: list[Rule] = field(default_factory=list)
    time_scale: float | None = None
    log_dir: Path | None = None
    # One-minute load averages before the spike and after the drain: the machine may be shared.
    load_averages: tuple[float, float] | None = None

    @property
    def passed(self) -> bool:
        drained = self.drain_seconds is not None
        return drained and self.verdict.passed and all(r.holds for r in self.response_rules)

    @property
    def by_status(self) -> Counter[int]:
        return Counter(answer.status for answer in self.spike.answers)

    def render(self) -> str:
        return "\n".join(_render(self)) + "\n"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of all at or below."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def accepted_refunds(planned: list[PlannedRequest], spike: SpikeResult) -> dict[str, Decimal]:
    """Refund id -> the amount its request sent, for every 202."""
    accepted: dict[str, Decimal] = {}
    for answer in spike.answers:
        amount = planned[answer.index].amount
        if answer.status == 202 and answer.refund_id is not None and amount is not None:
            accepted[answer.refund_id] = amount
    return accepted


def response_rules(planned: list[PlannedRequest], spike: SpikeResult) -> list[Rule]:
    not_accepted: list[str] = []
    not_refused: list[str] = []
    retried_elsewhere: list[str] = []
    by_index = {answer.index: answer for answer in spike.answers}
    for answer in spike.answers:
        request = planned[answer.index]
        label = f"request {answer.index} answered {answer.status or answer.error}"
        if request.valid and answer.status != 202:
            not_accepted.append(label)
        if not request.valid and answer.status != 400:
            not_refused.append(label)
        if request.retry_of is not None and answer.status == 202:
            first = by_index[request.retry_of]
            if first.status == 202 and first.refund_id != answer.refund_id:
                retried_elsewhere.append(f"request {answer.index} named {answer.refund_id}")
    return [
        Rule("every valid request is accepted (202)", not_accepted),
        Rule("every invalid request is refused by validation (400)", not_refused),
        Rule("a retry with the same Idempotency-Key names the first refund", retried_elsewhere),
    ]


def wait_until_drained(
    system: LocalSystem, timeout: float, show_progress: bool, stream: TextIO | None = None
) -> float | None:
    """Seconds until the refund queue is empty (twice in a row); None if it never was in time."""
    sqs = system.client("sqs")
    started = time.monotonic()
    empty_reads = 0
    shown_at = 0.0
    interactive = (stream or sys.stderr).isatty()
    while True:
        waited = time.monotonic() - started
        remaining = depth(sqs, system.queue_url)
        empty_reads = empty_reads + 1 if remaining == 0 else 0
        if show_progress and (waited - shown_at >= (0.5 if interactive else 5.0) or empty_reads):
            shown_at = waited
            dlq = depth(sqs, system.dead_letter_queue_url)
            status_line(f"draining: {remaining} in the queue, {dlq} in the DLQ, {waited:.0f} s")
        if empty_reads >= 2:
            if show_progress and interactive:
                (stream or sys.stderr).write("\n")
            return waited
        if waited > timeout:
            return None
        time.sleep(_DRAIN_POLL_SECONDS)


def run_load(
    system: LocalSystem,
    options: LoadOptions,
    faults: Mapping[str, str],
    time_scale: float | None = None,
) -> LoadReport:
    """Spike the running system, wait for the queue to drain, and judge what it stored."""
    load_before = os.getloadavg()[0]
    sqs = system.client("sqs")
    dynamodb = system.client("dynamodb")
    stored_before = frozenset(stored_refunds(dynamodb, system.table_name))
    planned = plan(options.requests, options.invalid_share, options.retry_share, options.seed)

    spike = send_all(
        system.api_url,
        system.api_key,
        planned,
        options.concurrency,
        options.show_progress,
        own_process=options.clients_in_own_process,
    )
    accepted = accepted_refunds(planned, spike)

    drain_seconds = wait_until_drained(system, options.drain_timeout, options.show_progress)

    refunds = stored_refunds(dynamodb, system.table_name)
    letters = dead_letters(sqs, system.dead_letter_queue_url)
    log = read_processor_log(processor_log_path(system.log_dir, system.functions))
    verdict = check(accepted, refunds, letters, log, stored_before)
    final_counts = Counter(
        refunds[refund_id].status.value for refund_id in accepted if refund_id in refunds
    )
    return LoadReport(
        options=options,
        faults=dict(faults),
        planned=planned,
        spike=spike,
        drain_seconds=drain_seconds,
        final_counts=final_counts,
        dead_letter_total=sum(letters.values()),
        verdict=verdict,
        log=log,
        response_rules=response_rules(planned, spike),
        time_scale=time_scale,
        log_dir=system.log_dir,
        load_averages=(load_before, os.getloadavg()[0]),
    )


def _render(report: LoadReport) -> list[str]:
    options, spike = report.options, report.spike
    answers = spike.answers
    accepted = [a for a in answers if a.status == 202]
    refunds = {a.refund_id for a in accepted}
    refused = [a for a in answers if a.status == 400]
    by_layer = Counter(a.refused_by for a in refused)
    latencies = [a.latency_ms for a in answers if a.status]
    statuses = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(report.by_status.items()))
    faults = " ".join(f"{name}={value}" for name, value in report.faults.items()) or "none"
    scale = f" (local time scale {report.time_scale:g})" if report.time_scale else ""
    drain = (
        f"{report.drain_seconds:.1f} s after the last answer"
        if report.drain_seconds is not None
        else f"did not drain within {options.drain_timeout:.0f} s"
    )
    final = ", ".join(
        f"{status} {report.final_counts[status]}" for status in ("APPROVED", "REJECTED", "PENDING")
    )
    pending_in_dlq = report.verdict.ends[PENDING_IN_DLQ]
    log = report.log
    lines = [
        f"Load run: {options.requests} requests from {options.concurrency} concurrent clients, "
        f"seed {options.seed}",
        f"Faults: {faults}{scale}",
        *_machine(report),
        "",
        "Requests",
        f"  sent                          {len(answers)} in {spike.seconds:.1f} s "
        f"({len(answers) / max(spike.seconds, 1e-9):.0f} requests/s)",
        f"  accepted (202)                {len(accepted)} ({len(refunds)} refunds; "
        f"{len(accepted) - len(refunds)} retries named an earlier refund)",
        f"  refused by validation (400)   {len(refused)} (gateway model "
        f"{by_layer[REFUSED_BY_GATEWAY]}, receiver {by_layer[REFUSED_BY_RECEIVER]})",
        f"  responses by status code      {statuses}",
        f"  POST latency                  p50 {percentile(latencies, 0.50):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms, "
        f"max {max(latencies, default=0):.0f} ms",
        "",
        "Processing",
        f"  time to drain                 {drain}",
        f"  final counts by status        {final}",
        f"  messages in the DLQ           {report.dead_letter_total} ({pending_in_dlq} of PENDING "
        f"refunds; {report.verdict.decided_with_dead_letter} of refunds already decided, which "
        "a redrive only confirms)",
        f"  faults seen in the log        {log.gateway_failures} gateway timeouts, "
        f"{log.crashes} processor crashes",
        f"  redeliveries absorbed         {sum(log.already_decided.values())} found the refund "
        f"already decided, {sum(log.decided_concurrently.values())} lost the race to another "
        "delivery",
        "",
        "Invariant",
    ]
    for rule in [*report.response_rules, *report.verdict.rules]:
        if rule.holds:
            lines.append(f"  ok      {rule.name}")
            continue
        shown = ", ".join(rule.broken_by[:_SHOWN_PER_RULE])
        more = len(rule.broken_by) - _SHOWN_PER_RULE
        lines.append(
            f"  BROKEN  {rule.name}: {len(rule.broken_by)} ({shown}{', ...' * (more > 0)})"
        )
    if report.drain_seconds is None:
        lines.append("  BROKEN  the refund queue drains")
    lines += ["", f"Result: {'PASS' if report.passed else 'FAIL'}"]
    if report.log_dir is not None:
        lines.append(f"Function logs: {report.log_dir}")
    return lines


def _machine(report: LoadReport) -> list[str]:
    if report.load_averages is None:
        return []
    before, after = report.load_averages
    return [
        f"Machine: {os.cpu_count()} cores, load average {before:.1f} before the spike and "
        f"{after:.1f} after the drain"
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    defaults = LoadOptions()
    parser = argparse.ArgumentParser(
        prog="python -m reliability.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--requests", type=int, default=defaults.requests)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument(
        "--gateway-timeout-rate",
        type=float,
        default=float(DEFAULT_FAULTS["GATEWAY_TIMEOUT_RATE"]),
        help="fraction of payment gateway calls that time out (0 to 1)",
    )
    parser.add_argument(
        "--processor-crash-rate",
        type=float,
        default=float(DEFAULT_FAULTS["PROCESSOR_CRASH_RATE"]),
        help="chance that a processor invocation crashes part-way through its batch (0 to 1)",
    )
    parser.add_argument("--invalid-share", type=float, default=defaults.invalid_share)
    parser.add_argument("--retry-share", type=float, default=defaults.retry_share)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--drain-timeout", type=float, default=defaults.drain_timeout)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help="divides the queue's visibility timeout, as LOCAL_TIME_SCALE does for make local",
    )
    parser.add_argument("--cloud-assembly", type=Path, default=Settings().cloud_assembly)
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    options = LoadOptions(
        requests=args.requests,
        concurrency=args.concurrency,
        invalid_share=args.invalid_share,
        retry_share=args.retry_share,
        seed=args.seed,
        drain_timeout=args.drain_timeout,
        show_progress=not args.no_progress,
    )
    faults = {
        "GATEWAY_TIMEOUT_RATE": f"{args.gateway_timeout_rate:g}",
        "PROCESSOR_CRASH_RATE": f"{args.processor_crash_rate:g}",
    }
    # Each run starts from nothing, so the logs hold this run's lines only.
    log_dir = LOAD_DIR / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    logging.basicConfig(
        filename=LOAD_DIR / "local.log",
        filemode="w",
        level=logging.INFO,
        format="%(asctime)s %(name)-15s %(message)s",
    )
    status_line("starting the local system ...")
    try:
        settings = Settings(
            cloud_assembly=args.cloud_assembly,
            port=0,
            aws_port=0,
            time_scale=args.time_scale,
            faults=faults,
            log_dir=log_dir,
        )
        with running(settings) as system:
            report = run_load(system, options, faults, time_scale=args.time_scale)
            status_line("stopping the local system ...")
    except (AssemblyError, SettingsError, RuntimeError, OSError) as error:
        print(f"cannot run the load: {error}", file=sys.stderr)
        return 2
    text = report.render()
    (LOAD_DIR / "report.txt").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
