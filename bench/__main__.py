"""`python -m bench`: measure every figure against its baseline, print the table, write the file.

Figures run in a fixed order, cheapest first; `--only` keeps those whose name starts with one of
the given prefixes, and BENCH_SKIP_SUITE=1 leaves out the slowest, the whole test suite. A figure
that cannot be measured is reported and makes the run fail; a missed goal does not.
"""

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import assets, cold_start, handlers, local_post, suite, synth
from bench.figures import Figure, table, write_results
from bench.functions import CLOUD_ASSEMBLY, FUNCTIONS, REPOSITORY, BenchFunction, bench_functions

SKIP_SUITE_VARIABLE = "BENCH_SKIP_SUITE"


@dataclass
class Run:
    """What the figures measured so far, with the side notes and failures they reported."""

    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    name: str
    measure: Callable[[Run], None]


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX")
    parser.add_argument("--samples", type=int, default=10, help="fresh processes per cold start")
    parser.add_argument("--invocations", type=int, default=30, help="handler calls per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating handler rounds")
    parser.add_argument("--clients", type=int, default=8, help="concurrent POST clients")
    parser.add_argument("--requests", type=int, default=320, help="POSTs per side")
    parser.add_argument("--cloud-assembly", type=Path, default=CLOUD_ASSEMBLY)
    parser.add_argument("--output", type=Path, default=REPOSITORY / "bench" / "results.json")
    return parser.parse_args(argv)


def _jobs(
    options: argparse.Namespace, functions: Callable[[], dict[str, BenchFunction]]
) -> list[Job]:
    def asset(name: str) -> Callable[[Run], None]:
        return lambda run: run.figures.append(assets.measure(functions()[name]))

    def start(name: str) -> Callable[[Run], None]:
        def measure(run: Run) -> None:
            result = cold_start.measure(functions()[name], options.samples)
            run.figures.append(result.figure)
            spawn = result.interpreter_start_ms
            run.notes.append(f"{name}: interpreter start (spawn to first line) {spawn:.0f} ms")

        return measure

    def handler(name: str) -> Callable[[Run], None]:
        def measure(run: Run) -> None:
            result = handlers.measure(functions()[name], options.invocations, options.rounds)
            run.figures.append(result.figure)
            run.notes.append(
                f"{name}: {result.log_bytes_per_invocation:.0f} bytes logged per invocation"
            )

        return measure

    def post(run: Run) -> None:
        with tempfile.TemporaryDirectory(prefix="bench-local-") as logs:
            run.figures.extend(
                local_post.measure(
                    options.cloud_assembly, Path(logs), options.clients, options.requests
                )
            )

    def test_suite(run: Run) -> None:
        result = suite.measure()
        if result.failure:
            # The time of a suite that stopped early measures nothing; the row is left out.
            seconds = result.figure.value
            raise RuntimeError(f"make test failed after {seconds:.0f} s:\n{result.failure}")
        run.figures.append(result.figure)

    jobs = [Job(f"asset_{name}", asset(name)) for name in FUNCTIONS]
    jobs += [Job(f"cold_start_{name}", start(name)) for name in FUNCTIONS]
    jobs += [Job(f"handler_{name}", handler(name)) for name in FUNCTIONS]
    jobs += [
        Job("local_post", post),
        Job("synth", lambda run: run.figures.append(synth.measure())),
    ]
    if os.environ.get(SKIP_SUITE_VARIABLE) != "1":
        jobs.append(Job("test_suite", test_suite))
    if options.only:
        jobs = [job for job in jobs if job.name.startswith(tuple(options.only))]
    return jobs


def main(argv: list[str]) -> int:
    options = _arguments(argv)
    found: dict[str, BenchFunction] = {}

    def functions() -> dict[str, BenchFunction]:
        # Read once, on first use: the synth figure rewrites the cloud assembly later on.
        if not found:
            found.update(bench_functions(options.cloud_assembly))
        return found

    run = Run()
    started = time.monotonic()
    for job in _jobs(options, functions):
        print(f"[{time.monotonic() - started:5.0f} s] {job.name}", file=sys.stderr, flush=True)
        try:
            job.measure(run)
        except RuntimeError as error:
            # A child process or make failed; its message carries the end of its output.
            run.failures.append(f"{job.name}: {error}")
        except Exception as error:
            run.failures.append(f"{job.name}: {error}\n{traceback.format_exc()}")

    write_results(run.figures, options.output)
    print(table(run.figures))
    print()
    for note in run.notes:
        print(f"  {note}")
    print(f"\n{len(run.figures)} figures in {time.monotonic() - started:.0f} s -> {options.output}")
    for failure in run.failures:
        print(f"\nFAILED {failure}", file=sys.stderr)
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
