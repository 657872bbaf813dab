"""What the end-to-end tests share: starting a local system, a plain HTTP client, waiting."""

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from local.system import LocalSystem, Settings, running

# The refund queue's 180 s visibility timeout becomes 1 s, so a message that always fails reaches
# the dead-letter queue within a few seconds.
TIME_SCALE = 180.0
DECISION_DEADLINE = 15.0
DLQ_DEADLINE = 30.0

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], deadline: float, interval: float = 0.1) -> T:
    """The first non-None answer of probe, asked again and again until the deadline passes."""
    give_up = time.monotonic() + deadline
    while True:
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > give_up:
            raise AssertionError(f"no answer within {deadline:.0f} s")
        time.sleep(interval)


def local_run(
    cloud_assembly: Path, log_dir: Path, **overrides: Any
) -> AbstractContextManager[LocalSystem]:
    settings = Settings(
        cloud_assembly=cloud_assembly,
        port=0,
        aws_port=0,
        time_scale=TIME_SCALE,
        concurrency=2,
        log_dir=log_dir,
        **overrides,
    )
    return running(settings)


@dataclass
class RefundApi:
    """The API as a client sees it: plain HTTP with the key, nothing from inside the system."""

    system: LocalSystem
    session: requests.Session

    def post(self, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.post(
            f"{self.system.api_url}/refunds",
            json=body,
            headers={"x-api-key": self.system.api_key, **(headers or {})},
            timeout=10,
        )

    def post_text(self, text: str) -> requests.Response:
        """POST /refunds with a body sent exactly as written, JSON or not."""
        return self.session.post(
            f"{self.system.api_url}/refunds",
            data=text.encode("utf-8"),
            headers={"x-api-key": self.system.api_key, "Content-Type": "application/json"},
            timeout=10,
        )

    def get(self, refund_id: str, headers: dict[str, str] | None = None) -> requests.Response:
        return self.session.get(
            f"{self.system.api_url}/refunds/{refund_id}",
            headers={"x-api-key": self.system.api_key, **(headers or {})},
            timeout=10,
        )

    def create(self, body: Any, headers: dict[str, str] | None = None) -> str:
        response = self.post(body, headers)
        assert response.status_code == 202, response.text
        return str(response.json()["refundId"])

    def decision(self, refund_id: str) -> dict[str, Any]:
        """The refund once it is no longer PENDING."""

        def decided() -> dict[str, Any] | None:
            refund: dict[str, Any] = self.get(refund_id).json()
            return None if refund["status"] == "PENDING" else refund

        return eventually(decided, DECISION_DEADLINE)


def dead_letter(system: LocalSystem, refund_id: str) -> dict[str, Any]:
    """The refund's message once it is in the dead-letter queue, left there for others to see."""
    sqs = system.client("sqs")

    def arrived() -> dict[str, Any] | None:
        messages = sqs.receive_message(
            QueueUrl=system.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        found = [m for m in messages if refund_id in m["Body"]]
        return found[0] if found else None

    return eventually(arrived, DLQ_DEADLINE, interval=0.25)
