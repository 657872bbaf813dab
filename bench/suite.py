"""The test suite: `make test` wall time on this machine, against a fixed budget of 120 s."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.commands import make
from bench.figures import Figure, Goal
from bench.functions import REPOSITORY

BUDGET_SECONDS = 120.0
GOAL = Goal(limit=1.0, strict=True)


@dataclass(frozen=True)
class SuiteRun:
    figure: Figure
    # The end of the output when the suite failed, empty when it passed.
    failure: str


def measure() -> SuiteRun:
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as scratch:
        run = make("test", cwd=REPOSITORY, log=Path(scratch) / "make-test.log")
    figure = Figure(
        name="test_suite",
        value=run.seconds,
        baseline=BUDGET_SECONDS,
        unit="s (baseline: the budget)",
        goal=GOAL,
    )
    return SuiteRun(figure=figure, failure=run.tail)
