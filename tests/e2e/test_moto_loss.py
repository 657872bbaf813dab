"""Losing moto's server: the local run stops with one line saying why, and polls meanwhile fail
quietly, one short line per wait and a wait that grows."""

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from local.aws import LocalQueue
from local.poller import EventSourceMapping, Poller, retry_delay
from local.watchdog import Failure, Watchdog
from tests.e2e.processes import STOP_DEADLINE, descendants, start_local, survivors

pytestmark = pytest.mark.e2e

INTERVAL = 0.02


def _watch(exit_code: Any, accepts: Any, grace: float = 0.2) -> Failure:
    """A watchdog on stand-ins, given a moment to look; the failure it reported, if any."""
    failure = Failure()
    watchdog = Watchdog("moto", exit_code, accepts, failure.set, interval=INTERVAL, grace=grace)
    watchdog.start()
    failure.wait(1.0)
    watchdog.stop()
    return failure


def test_an_exited_moto_is_reported_at_once_with_its_exit_code() -> None:
    failure = _watch(lambda: -9, lambda: True)

    assert failure.reason == "moto exited with code -9"


def test_refused_connections_are_reported_once_they_last_the_grace_period() -> None:
    failure = _watch(lambda: None, lambda: False)

    assert failure.reason == "moto refused connections for 0 s"


def test_a_refusal_shorter_than_the_grace_period_is_not_reported() -> None:
    answers = iter([False, False, True])

    failure = _watch(lambda: None, lambda: next(answers, True), grace=0.5)

    assert failure.reason is None


def test_the_wait_after_failed_polls_doubles_from_one_second_to_thirty() -> None:
    assert [retry_delay(failures) for failures in range(7)] == [1, 2, 4, 8, 16, 30, 30]


class _NoFunction:
    concurrency = 4

    def invoke(self, event: Any, trace_id: str | None = None) -> Any:
        raise AssertionError("nothing was received, so nothing is invoked")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processor_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "local.processor"]


def test_polls_of_an_unreachable_queue_log_one_line_per_wait_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="local.processor")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    arn = "arn:aws:sqs:eu-west-1:111111111111:refunds"
    unreachable = LocalQueue("Q", "refunds", f"{endpoint}/111111111111/refunds", arn, 1, 3, None)
    mapping = EventSourceMapping("M", arn, "processor", 10, 0.0, True, 4, True)
    poller = Poller(mapping, unreachable, _NoFunction(), endpoint, "eu-west-1", 1.0)

    poller.start()
    give_up = time.monotonic() + 15
    while not _processor_records(caplog) and time.monotonic() < give_up:
        time.sleep(0.05)
    poller.stop()

    records = _processor_records(caplog)
    assert [(record.getMessage(), record.exc_info) for record in records] == [
        (
            "queue poll failed (EndpointConnectionError: Could not connect to the endpoint URL: "
            f'"{endpoint}/"); retrying in 1 s',
            None,
        )
    ]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_losing_moto_stops_make_local_with_one_line_and_leaves_no_process_behind(
    cloud_assembly: Path, tmp_path: Path
) -> None:
    run = start_local(cloud_assembly, tmp_path, stderr=subprocess.PIPE)
    process = run.process
    try:
        moto = int(run.shown(r"^moto runs as process (\d+)"))
        endpoint = run.shown(r"^Local AWS \(moto\) at (\S+),")
        children = descendants(process.pid)

        os.kill(moto, signal.SIGKILL)
        exit_code = process.wait(timeout=STOP_DEADLINE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.stderr is not None
    errors = process.stderr.read()
    assert exit_code == 1
    assert errors.splitlines()[-1] == (
        f"the local system stopped: moto's server (process {moto}, {endpoint}) exited with "
        f"code -9; its log is {tmp_path / 'moto.log'}"
    )
    assert "Traceback" not in errors
    assert survivors(children) == []
