"""What `python -m bench` writes, on a tiny real run, and how a figure turns into a ratio."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.figures import Figure, Goal, percentile
from tests.infrastructure.synth import REPO_ROOT, default_synthesis


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One figure, the status reader's cold start, from two fresh processes on each side."""
    output = tmp_path_factory.mktemp("bench") / "results.json"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--only",
        "cold_start_status",
        "--samples",
        "2",
        "--cloud-assembly",
        str(default_synthesis().directory),
        "--output",
        str(output),
    ]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    written: list[dict[str, Any]] = json.loads(Path(output).read_text())
    return written


def test_a_run_writes_one_result_per_figure_it_measured(results: list[dict[str, Any]]) -> None:
    assert [result["name"] for result in results] == ["cold_start_status"]


def test_a_result_holds_exactly_name_value_baseline_ratio_and_unit(
    results: list[dict[str, Any]],
) -> None:
    assert list(results[0]) == ["name", "value", "baseline", "ratio", "unit"]


def test_a_cold_start_is_in_milliseconds_and_positive(results: list[dict[str, Any]]) -> None:
    (result,) = results
    assert result["unit"] == "ms"
    assert result["value"] > 0
    assert result["baseline"] > 0


def test_the_written_ratio_is_the_value_over_the_baseline(results: list[dict[str, Any]]) -> None:
    (result,) = results
    assert result["ratio"] == pytest.approx(result["value"] / result["baseline"], abs=1e-4)


def test_a_throughput_ratio_is_the_baseline_over_the_value_so_above_one_is_worse() -> None:
    figure = Figure("local_post", 50.0, 100.0, "req/s", Goal(2.0), higher_is_better=True)

    assert figure.ratio == 2.0
    assert figure.passed


def test_a_ratio_goal_is_missed_just_above_its_limit() -> None:
    figure = Figure("cold_start_status", 131.0, 100.0, "ms", Goal(1.3))

    assert figure.ratio == 1.31
    assert not figure.passed


def test_an_asset_budget_is_on_the_value_and_excludes_the_limit() -> None:
    budget = Goal(65536, on_value=True, strict=True)

    assert Figure("asset_status", 65535, 1000, "bytes", budget).passed
    assert not Figure("asset_status", 65536, 1000, "bytes", budget).passed


def test_the_p99_of_a_hundred_samples_is_the_ninety_ninth_smallest() -> None:
    assert percentile([float(n) for n in range(100, 0, -1)], 0.99) == 99.0
