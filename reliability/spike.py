"""The spike: planned requests sent by concurrent clients, every answer timed and classified.

The clients run in a process of their own, so that they do not share an interpreter lock with
the local gateway and poller, and the latencies measured are those of the system under load.
"""

import json
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import requests

from reliability.progress import ProgressBar
from reliability.workload import REFUSED_BY_GATEWAY, REFUSED_BY_RECEIVER, PlannedRequest

# Generous on purpose: the local gateway queues requests for its few receiver workers and has no
# 29 s integration timeout, so a client that gave up sooner would leave a refund stored that no
# answer named, and the run would report a loss that is only the client's impatience.
REQUEST_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Answer:
    """What one request got back. Status 0 means no HTTP answer at all (refused, timed out)."""

    index: int
    status: int
    latency_ms: float
    refund_id: str | None = None
    # For a 400: which layer refused it, read from the shape of its body.
    refused_by: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class SpikeResult:
    answers: list[Answer]
    seconds: float


def _refused_by(text: str) -> str | None:
    # The gateway's refusal names validationErrors; the receiver's lists errors by field.
    if '"validationErrors"' in text:
        return REFUSED_BY_GATEWAY
    if '"errors"' in text:
        return REFUSED_BY_RECEIVER
    return None


def _refund_id(text: str) -> str | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    refund_id = document.get("refundId") if isinstance(document, dict) else None
    return refund_id if isinstance(refund_id, str) else None


def _send(
    session: requests.Session, url: str, api_key: str, index: int, request: PlannedRequest
) -> Answer:
    headers = {"x-api-key": api_key, **request.headers()}
    started = time.perf_counter()
    try:
        response = session.post(
            url, data=request.body.encode(), headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(index, 0, elapsed, error=type(error).__name__)
    elapsed = (time.perf_counter() - started) * 1000
    text = response.text
    return Answer(
        index=index,
        status=response.status_code,
        latency_ms=elapsed,
        refund_id=_refund_id(text) if response.status_code == 202 else None,
        refused_by=_refused_by(text) if response.status_code == 400 else None,
    )


def send_all(
    api_url: str,
    api_key: str,
    planned: list[PlannedRequest],
    concurrency: int,
    show_progress: bool = True,
    own_process: bool = False,
) -> SpikeResult:
    """Every planned request, `concurrency` at a time; answers in plan order."""
    if own_process:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as process:
            arguments = (api_url, api_key, planned, concurrency, show_progress)
            return process.submit(send_all, *arguments).result()

    url = f"{api_url}/refunds"
    local = threading.local()

    def send(index: int) -> Answer:
        # One connection per client, kept alive, as a client that sends many requests would.
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return _send(local.session, url, api_key, index, planned[index])

    progress = ProgressBar("requests", len(planned)) if show_progress else None
    answers: list[Answer] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="client") as clients:
        for future in as_completed([clients.submit(send, i) for i in range(len(planned))]):
            answers.append(future.result())
            if progress is not None:
                progress.advance()
    seconds = time.monotonic() - started
    if progress is not None:
        progress.finish()
    return SpikeResult(sorted(answers, key=lambda answer: answer.index), seconds)
