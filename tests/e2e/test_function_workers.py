"""A function's worker processes: one that died while idle is replaced before anyone notices,
as Lambda starts a fresh environment; one that dies during an invocation fails that invocation."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.functions import FunctionDefinition, FunctionPool

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc"),
]

HANDLER = """
import os


def lambda_handler(event, context):
    if event.get("exit"):
        os._exit(1)
    return {"pid": os.getpid()}
"""


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionPool]:
    """One worker at most, so the next invocation can only go to the worker a test left."""
    folder = tmp_path_factory.mktemp("probe")
    (folder / "probe.py").write_text(HANDLER)
    definition = FunctionDefinition(
        logical_id="Probe",
        function_name="probe",
        handler="probe.lambda_handler",
        code_root=folder,
        environment={},
        memory_mb=128,
        timeout_seconds=10,
        region="eu-west-1",
        account="111111111111",
    )
    pool = FunctionPool(definition, environment={}, concurrency=1, log_path=folder / "probe.log")
    pool.start()
    yield pool
    pool.close()


def test_an_idle_worker_that_died_is_replaced_and_the_invocation_succeeds(
    pool: FunctionPool,
) -> None:
    idle_pid = pool.invoke({}).result["pid"]
    os.kill(idle_pid, signal.SIGKILL)
    while not _gone(idle_pid):
        time.sleep(0.01)

    answer = pool.invoke({})

    assert answer.error is None
    assert answer.result["pid"] != idle_pid


def test_a_worker_that_dies_during_an_invocation_fails_it_with_runtime_exit_error(
    pool: FunctionPool,
) -> None:
    answer = pool.invoke({"exit": True})

    assert answer.error is not None
    assert answer.error["errorType"] == "Runtime.ExitError"
