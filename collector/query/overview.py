"""The overview's arithmetic, engine-neutral: session sums by day and breakdown in, the answer out.

Each store engine runs its own SQL for the rows (`Figures` takes them as plain tuples) and for the
pageviews by path; the ratios, the series, the ranking and the comparison live here once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from collector.query.params import DAY_MS
from collector.query.scope import Scope

TOP = 10
BREAKDOWNS = {
    "channels": "channel", "campaigns": "utm_campaign", "devices": "device",
    "browsers": "browser", "countries": "country",
}
SUMS = ("sessions", "pageviews", "viewed", "bounces", "duration_ms", "carts", "abandoned", "revenue", "orders")


def ratio(part: float, whole: float) -> float:
    """part / whole, 0.0 for an empty whole (an empty range shows zeros, never NaN)."""
    return part / whole if whole else 0.0


def change(value: float, previous: float) -> float | None:
    """Relative change against the previous period; None when there is nothing to compare."""
    return (value - previous) / previous if previous else None


def day_name(day: int) -> str:
    return dt.datetime.fromtimestamp(day * 86400, dt.UTC).date().isoformat()


def days_of(scope: Scope) -> range:
    """The UTC day numbers of a bounded range (the API keeps ranges under MAX_DAYS)."""
    return range(scope.start // DAY_MS, (scope.end - 1) // DAY_MS + 1)


class Figures:
    """Session sums by day and by breakdown value, from rows of
    (day, *one value per BREAKDOWNS, *one sum per SUMS), with the visitor counts beside them."""

    def __init__(
        self, rows: Iterable[Sequence[Any]], visitors: int, converted: int, day_visitors: dict[int, int]
    ) -> None:
        self.days: dict[int, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.breakdowns: dict[str, Counter[str]] = {name: Counter() for name in BREAKDOWNS}
        width = len(BREAKDOWNS)
        for row in rows:
            sums = dict(zip(SUMS, row[1 + width:], strict=True))
            self.days.setdefault(row[0], Counter()).update(sums)
            self.totals.update(sums)
            for index, name in enumerate(BREAKDOWNS):
                self.breakdowns[name][row[1 + index] or "(none)"] += sums["sessions"]
        self.visitors, self.converted, self.day_visitors = visitors, converted, day_visitors

    def metrics(self) -> dict[str, float]:
        sums = self.totals
        return {
            "visitors": self.visitors,
            "sessions": sums["sessions"],
            "pageviews": sums["pageviews"],
            "bounce_rate": ratio(sums["bounces"], sums["viewed"]),
            "avg_duration_s": ratio(sums["duration_ms"], sums["sessions"]) / 1000,
            "conversion_rate": ratio(self.converted, self.visitors),
            "cart_abandonment_rate": ratio(sums["abandoned"], sums["carts"]),
            "revenue": float(sums["revenue"]),
            "orders": sums["orders"],
            "aov": ratio(sums["revenue"], sums["orders"]),
        }

    def series(self, scope: Scope) -> list[dict[str, Any]]:
        series = []
        for day in days_of(scope):
            sums = self.days.get(day, Counter())
            series.append({
                "date": day_name(day),
                "visitors": self.day_visitors.get(day, 0),
                "sessions": sums["sessions"],
                "pageviews": sums["pageviews"],
                "bounce_rate": ratio(sums["bounces"], sums["viewed"]),
                "revenue": float(sums["revenue"]),
                "orders": sums["orders"],
            })
        return series


def pages(rows: Iterable[tuple[str | None, int]]) -> Counter[str]:
    """Pageviews by path from (path, count) rows; an empty path shows as "(none)"."""
    return Counter({path or "(none)": n for path, n in rows})


def compare(current: Counter[str], previous: Counter[str], key: str) -> list[dict[str, Any]]:
    ranked = sorted(current.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [{"name": name, key: n, "previous": previous.get(name, 0)} for name, n in ranked]


def answer(
    scope: Scope, now: Figures, before: Figures, pages_now: Counter[str], pages_before: Counter[str]
) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it."""
    metrics, previous = now.metrics(), before.metrics()
    result: dict[str, Any] = {
        "range": {"from": scope.start, "to": scope.end},
        "previous_range": {"from": scope.previous.start, "to": scope.previous.end},
        "metrics": {
            name: {"value": value, "previous": previous[name], "change": change(value, previous[name])}
            for name, value in metrics.items()
        },
        "series": now.series(scope),
        "pages": compare(pages_now, pages_before, "pageviews"),
        # Whether this looks like a shop: cart adds or orders now or in the period compared with.
        "commerce_seen": any(f.totals["carts"] or f.totals["orders"] for f in (now, before)),
    }
    for name in BREAKDOWNS:
        result[name] = compare(now.breakdowns[name], before.breakdowns[name], "sessions")
    return result
