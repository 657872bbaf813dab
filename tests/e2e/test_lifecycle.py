"""`python -m local` as a person runs it: it says where the API is, and stopping it ends everything.

Ctrl-C reaches the whole process group and SIGTERM only the main process; either way no moto
server or function worker may outlive it.
"""

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.processes import STOP_DEADLINE, descendants, start_local, survivors

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc"),
]


@pytest.mark.parametrize(
    "stop",
    [
        pytest.param(lambda process: process.send_signal(signal.SIGTERM), id="sigterm"),
        pytest.param(lambda process: os.killpg(process.pid, signal.SIGINT), id="ctrl-c"),
    ],
)
def test_stopping_the_local_system_leaves_no_process_behind(
    cloud_assembly: Path, tmp_path: Path, stop: Callable[[subprocess.Popen[str]], None]
) -> None:
    run = start_local(cloud_assembly, tmp_path)
    process = run.process
    try:
        api_url = run.shown(r"^\s*API_URL=(\S+)")
        answer = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{api_url}/refunds"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        children = descendants(process.pid)

        stop(process)
        exit_code = process.wait(timeout=STOP_DEADLINE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert answer.stdout == "403"
    # moto and one warm worker per function, at least.
    assert len(children) >= 4
    assert exit_code == 0
    assert survivors(children) == []
