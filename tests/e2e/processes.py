"""`python -m local` as a child process, and what the process table says of it and its children."""

import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPOSITORY = Path(__file__).resolve().parents[2]
START_DEADLINE = 60.0
STOP_DEADLINE = 20.0
EXIT_GRACE = 5.0
BANNER_END = "Ctrl-C stops everything"


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may itself hold spaces.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> set[int]:
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


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def survivors(pids: set[int]) -> list[str]:
    """The command lines of those still running a moment after the runner exited.

    The moment is there for multiprocessing's resource tracker, which ends only once it sees the
    runner's end, a few milliseconds later.
    """
    give_up = time.monotonic() + EXIT_GRACE
    running = [pid for pid in pids if is_running(pid)]
    while running and time.monotonic() < give_up:
        time.sleep(0.05)
        running = [pid for pid in running if is_running(pid)]
    return [_command_line(pid) for pid in running]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def _forward(stream: IO[str], into: "queue.Queue[str]") -> None:
    for line in stream:
        into.put(line)


@dataclass
class LocalRun:
    """`python -m local` in a session of its own, its output read line by line as it comes."""

    process: "subprocess.Popen[str]"
    lines: "queue.Queue[str]" = field(default_factory=queue.Queue)
    _banner: list[str] = field(default_factory=list)

    def wait_until_ready(self) -> list[str]:
        """The lines up to the one that says the system is ready."""
        give_up = time.monotonic() + START_DEADLINE
        while not self._banner or BANNER_END not in self._banner[-1]:
            if time.monotonic() > give_up:
                raise AssertionError("the local system did not say it was ready")
            try:
                self._banner.append(self.lines.get(timeout=1))
            except queue.Empty:
                continue
        return self._banner

    def shown(self, pattern: str) -> str:
        """The first group of the pattern in the banner, such as the API URL after API_URL=."""
        for line in self.wait_until_ready():
            found = re.search(pattern, line)
            if found:
                return found.group(1)
        raise AssertionError(f"the banner shows nothing like {pattern}")


def start_local(cloud_assembly: Path, log_dir: Path, stderr: int = subprocess.STDOUT) -> LocalRun:
    """Starts the system on free ports; the caller stops it, or kills its session."""
    environment = {
        **os.environ,
        "LOCAL_PORT": "0",
        "LOCAL_AWS_PORT": "0",
        "LOCAL_CLOUD_ASSEMBLY": str(cloud_assembly),
        "LOCAL_LOG_DIR": str(log_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        start_new_session=True,
    )
    run = LocalRun(process)
    assert process.stdout is not None
    threading.Thread(target=_forward, args=(process.stdout, run.lines), daemon=True).start()
    return run
