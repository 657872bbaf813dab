"""POST /refunds through the local system, against the receiver's two boto3 calls sent straight.

Both sides run at the same concurrency against the same moto server of one local system, after
a warm-up that starts the receiver's workers. Between the phases the processor drains the queue,
so that neither side pays for the other's backlog.
"""

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.figures import Figure, Goal, percentile
from bench.items import accept
from local.aws import client
from local.system import LocalSystem, Settings, running

GOAL = Goal(limit=2.0)
_BODY = '{"orderId": "order-1001", "amount": 30.40, "reason": "Item arrived damaged"}'
_REQUEST_TIMEOUT_SECONDS = 30
_DRAIN_DEADLINE_SECONDS = 60


@dataclass(frozen=True)
class Load:
    latencies_ms: list[float]
    seconds: float

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds


def _load(make_sender: Callable[[], Callable[[], None]], clients: int, requests_total: int) -> Load:
    """Each client sends its share one after another; all start together."""
    per_client = requests_total // clients
    senders = [make_sender() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def run(send: Callable[[], None]) -> list[float]:
        latencies = []
        start.wait()
        for _ in range(per_client):
            began = time.perf_counter()
            send()
            latencies.append((time.perf_counter() - began) * 1000)
        return latencies

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(run, send) for send in senders]
        start.wait()
        began = time.perf_counter()
        results = [future.result() for future in futures]
        seconds = time.perf_counter() - began
    return Load(latencies_ms=[ms for result in results for ms in result], seconds=seconds)


def _http_sender(system: LocalSystem) -> Callable[[], None]:
    session = requests.Session()
    url = f"{system.api_url}/refunds"
    headers = {"x-api-key": system.api_key, "Content-Type": "application/json"}

    def send() -> None:
        response = session.post(url, data=_BODY, headers=headers, timeout=_REQUEST_TIMEOUT_SECONDS)
        if response.status_code != 202:
            raise RuntimeError(f"POST /refunds answered {response.status_code}: {response.text}")

    return send


def _boto3_sender(system: LocalSystem) -> Callable[[], None]:
    dynamodb = client("dynamodb", system.aws_endpoint, system.region)
    sqs = client("sqs", system.aws_endpoint, system.region)

    def send() -> None:
        accept(dynamodb, sqs, system.table_name, system.queue_url, str(uuid.uuid4()))

    return send


def _drain(system: LocalSystem) -> None:
    """Waits until the processor has taken every message off the queue."""
    sqs = system.client("sqs")
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + _DRAIN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        attributes = sqs.get_queue_attributes(QueueUrl=system.queue_url, AttributeNames=names)
        if all(attributes["Attributes"][name] == "0" for name in names):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the processor did not drain the queue in {_DRAIN_DEADLINE_SECONDS} s")


def measure(cloud_assembly: Path, log_dir: Path, clients: int, requests_total: int) -> list[Figure]:
    settings = Settings(cloud_assembly=cloud_assembly, port=0, aws_port=0, log_dir=log_dir)
    with running(settings) as system:
        _load(lambda: _http_sender(system), clients, 2 * clients)
        _drain(system)
        local = _load(lambda: _http_sender(system), clients, requests_total)
        _drain(system)
        direct = _load(lambda: _boto3_sender(system), clients, requests_total)
    return [
        Figure(
            name="local_post",
            value=local.throughput,
            baseline=direct.throughput,
            unit="req/s (ratio = baseline / value)",
            goal=GOAL,
            higher_is_better=True,
        ),
        Figure(
            name="local_post_p99",
            value=percentile(local.latencies_ms, 0.99),
            baseline=percentile(direct.latencies_ms, 0.99),
            unit="ms",
            goal=GOAL,
        ),
    ]
