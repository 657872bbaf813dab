"""A figure, its baseline and its goal; the ratio arithmetic, the table and bench/results.json."""

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Goal:
    """A limit on the ratio, or on the value itself (asset sizes have an absolute budget)."""

    limit: float
    on_value: bool = False
    strict: bool = False

    def met(self, figure: "Figure") -> bool:
        measured = figure.value if self.on_value else figure.ratio
        return measured < self.limit if self.strict else measured <= self.limit

    def describe(self, unit: str) -> str:
        sign = "<" if self.strict else "<="
        if self.on_value:
            return f"value {sign} {self.limit:g} {unit}"
        return f"ratio {sign} {self.limit:g}"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    baseline: float
    unit: str
    goal: Goal
    # Throughput is better when higher; its ratio is inverted so that above 1 is always worse.
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.baseline / self.value
        return self.value / self.baseline

    @property
    def passed(self) -> bool:
        return self.goal.met(self)

    def as_result(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 6),
            "baseline": round(self.baseline, 6),
            "ratio": round(self.ratio, 4),
            "unit": self.unit,
        }


def median(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("a figure needs at least one sample")
    return statistics.median(samples)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample at or above that fraction of them."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(len(ordered) * fraction))
    return ordered[rank - 1]


def write_results(figures: Iterable[Figure], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    results = [figure.as_result() for figure in figures]
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def table(figures: Sequence[Figure]) -> str:
    """A Markdown table, so that one run's output can be pasted into the docs as it is."""
    header = ("figure", "value", "baseline", "unit", "ratio", "goal", "result")
    rows = [
        (
            figure.name,
            _number(figure.value),
            _number(figure.baseline),
            figure.unit,
            f"{figure.ratio:.2f}",
            figure.goal.describe(figure.unit),
            "PASS" if figure.passed else "MISS",
        )
        for figure in figures
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    separator = "| " + " | ".join("-" * width for width in widths) + " |"
    return "\n".join([line(header), separator, *(line(row) for row in rows)])
