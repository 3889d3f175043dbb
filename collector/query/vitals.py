"""Web Vitals at the 75th percentile with web.dev's good / needs-improvement / poor bands.

p75 is the nearest-rank percentile: the values sorted ascending, the one at rank ceil(0.75 * n)
(1-based). It is always a measured value, and every engine gets the same answer from the same
values (docs/metrics.md).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

# metric -> (good up to and including, poor above); ms, CLS unitless (web.dev/articles/vitals)
THRESHOLDS: dict[str, tuple[float, float]] = {
    "LCP": (2500, 4000), "INP": (200, 500), "CLS": (0.1, 0.25), "FCP": (1800, 3000), "TTFB": (800, 1800),
}
METRICS = tuple(THRESHOLDS)
TOP_PAGES = 50


def p75(values: list[float]) -> float | None:
    """Nearest-rank 75th percentile; None for no values."""
    return _p75_of(sorted(values)) if values else None


def _p75_of(ordered: list[float]) -> float:
    """The nearest-rank 75th percentile of values sorted ascending (at least one)."""
    return ordered[math.ceil(0.75 * len(ordered)) - 1]


def rating(metric: str, value: float) -> str:
    good, poor = THRESHOLDS[metric]
    return "good" if value <= good else "poor" if value > poor else "needs_improvement"


class Tally(NamedTuple):
    """One metric's values in a group, as an engine counts them: how many, the p75, and how many
    are good and poor (the rest need improvement)."""

    n: int
    p75: float
    good: int
    poor: int


def tally(metric: str, values: list[float]) -> Tally | None:
    if not values:
        return None
    good, poor = THRESHOLDS[metric]
    ordered = sorted(values)
    n = len(ordered)
    # the bands by bisection of the sorted values: up to good, and past poor
    return Tally(n, _p75_of(ordered), bisect_right(ordered, good), n - bisect_right(ordered, poor))


def summary(metric: str, counted: Tally | None) -> dict[str, Any]:
    """p75, the count and the share of each band."""
    if counted is None:
        return {"p75": None, "rating": None, "count": 0, "good": 0.0, "needs_improvement": 0.0, "poor": 0.0}
    n, found, good, poor = counted
    return {
        "p75": found, "rating": rating(metric, found), "count": n,
        "good": good / n, "needs_improvement": (n - good - poor) / n, "poor": poor / n,
    }


Tallies = dict[str, dict[str, Tally]]  # group (page, device) -> metric -> its tally


def report(rows: Iterable[tuple[str, str, str, float]]) -> dict[str, Any]:
    """From (metric, page, device, value) rows: every metric overall, by page and by device."""
    # Gathered once per (metric, page, device), a handful of cells, then joined per group: one
    # dict lookup per value instead of three.
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for metric, page, device, value in rows:
        cells[(metric, page, device)].append(value)
    overall: dict[str, list[float]] = defaultdict(list)
    by_page: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_device: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (metric, page, device), values in cells.items():
        if metric not in THRESHOLDS:
            continue
        overall[metric] += values
        by_page[page or "(none)"][metric] += values
        by_device[device or "(none)"][metric] += values

    def tallied(groups: dict[str, dict[str, list[float]]]) -> Tallies:
        return {name: {m: t for m, values in metrics.items() if (t := tally(m, values))}
                for name, metrics in groups.items()}

    return report_of({m: t for m, values in overall.items() if (t := tally(m, values))},
                     tallied(by_page), tallied(by_device))


def report_of(overall: dict[str, Tally], by_page: Tallies, by_device: Tallies) -> dict[str, Any]:
    """The report from tallies: every metric overall, and the pages and devices with the most values."""

    def table(groups: Tallies, key: str) -> list[dict[str, Any]]:
        counted = sorted(
            ((sum(t.n for t in metrics.values()), name, metrics) for name, metrics in groups.items()),
            key=lambda found: (-found[0], found[1]),
        )
        return [
            {key: name, "count": count, **{m: summary(m, metrics[m]) for m in METRICS if m in metrics}}
            for count, name, metrics in counted[:TOP_PAGES]
        ]

    return {
        "thresholds": {m: {"good": g, "poor": p} for m, (g, p) in THRESHOLDS.items()},
        "metrics": {m: summary(m, overall.get(m)) for m in METRICS},
        "pages": table(by_page, "page"),
        "devices": table(by_device, "device"),
    }
