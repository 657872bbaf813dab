"""The child processes figures run: make with its output logged, and Python printing JSON."""

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TIMEOUT_SECONDS = 900
_PYTHON_TIMEOUT_SECONDS = 300
_TAIL_CHARACTERS = 3000


@dataclass(frozen=True)
class Timed:
    seconds: float
    returncode: int
    tail: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0


def make(*arguments: str, cwd: Path, log: Path) -> Timed:
    """`make <arguments>` in cwd, its output in log (a failure's tail is kept for the report)."""
    executable = shutil.which("make")
    if executable is None:
        raise RuntimeError("make is not on PATH")
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as output:
        completed = subprocess.run(  # noqa: S603 (make, with this repository's Makefile)
            [executable, "--no-print-directory", *arguments],
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    seconds = time.perf_counter() - started
    tail = "" if completed.returncode == 0 else log.read_text(encoding="utf-8")[-_TAIL_CHARACTERS:]
    return Timed(seconds=seconds, returncode=completed.returncode, tail=tail)


def python_json(arguments: list[str], cwd: Path, env: Mapping[str, str]) -> Any:
    """Run this interpreter with arguments; its last line of output, read as JSON."""
    completed = subprocess.run(  # noqa: S603 (this interpreter, with the bench's own code)
        [sys.executable, *arguments],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=_PYTHON_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the child process failed:\n{completed.stderr[-_TAIL_CHARACTERS:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
