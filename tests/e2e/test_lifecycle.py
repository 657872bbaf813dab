"""`python -m local` as a person runs it: it says where the API is, and stopping it ends everything.

Ctrl-C reaches the whole process group and SIGTERM only the main process; either way no moto
server or function worker may outlive it.
"""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc"),
]

REPOSITORY = Path(__file__).resolve().parents[2]
START_DEADLINE = 60.0
STOP_DEADLINE = 20.0
EXIT_GRACE = 5.0


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may itself hold spaces.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _descendants(root: int) -> set[int]:
    parents = {
        int(entry.name): _parent_of(int(entry.name))
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit()
    }
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _survivors(pids: set[int]) -> list[str]:
    """The command lines of those still running a moment after the runner exited.

    The moment is there for multiprocessing's resource tracker, which ends only once it sees the
    runner's end, a few milliseconds later.
    """
    give_up = time.monotonic() + EXIT_GRACE
    running = [pid for pid in pids if _running(pid)]
    while running and time.monotonic() < give_up:
        time.sleep(0.05)
        running = [pid for pid in running if _running(pid)]
    return [_command_line(pid) for pid in running]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def _lines(stream: IO[str], into: "queue.Queue[str]") -> None:
    for line in stream:
        into.put(line)


def _wait_for_banner(lines: "queue.Queue[str]") -> str:
    """The API URL, once the system says it is ready."""
    give_up = time.monotonic() + START_DEADLINE
    api_url = None
    while time.monotonic() < give_up:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        found = re.match(r"\s*API_URL=(\S+)", line)
        if found:
            api_url = found.group(1)
        if "Ctrl-C stops everything" in line and api_url:
            return api_url
    raise AssertionError("the local system did not say it was ready")


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
    environment = {
        **os.environ,
        "LOCAL_PORT": "0",
        "LOCAL_AWS_PORT": "0",
        "LOCAL_CLOUD_ASSEMBLY": str(cloud_assembly),
        "LOCAL_LOG_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        api_url = _wait_for_banner(lines)
        answer = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{api_url}/refunds"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        children = _descendants(process.pid)

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
    assert _survivors(children) == []
