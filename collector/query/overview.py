"""The overview's arithmetic, engine-neutral: session sums by day and breakdown in, the answer out.

Each store engine runs its own SQL for the rows (`Figures` takes them as plain tuples) and for the
pageviews by path; the ratios, the series, the ranking and the comparison live here once.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from collector.query import breakdowns
from collector.query.params import DAY_MS
from collector.query.scope import Scope

TOP = 10
BREAKDOWNS = {
    "channels": "channel", "campaigns": "utm_campaign", "devices": "device",
    "browsers": "browser", "countries": "country",
}
_EPOCH = dt.date(1970, 1, 1).toordinal()
SUMS = ("sessions", "pageviews", "viewed", "bounces", "duration_ms", "carts", "abandoned", "revenue", "orders")


def ratio(part: float, whole: float) -> float:
    """part / whole, 0.0 for an empty whole (an empty range shows zeros, never NaN)."""
    return part / whole if whole else 0.0


def change(value: float, previous: float) -> float | None:
    """Relative change against the previous period; None when there is nothing to compare."""
    return (value - previous) / previous if previous else None


def day_name(day: int) -> str:
    """A day number's date (numbers are the same in every time zone: collector/query/days.py)."""
    return dt.date.fromordinal(day + _EPOCH).isoformat()


def days_of(scope: Scope, width: int = DAY_MS) -> range:
    """The site-local day (or hour) numbers of a bounded range (the API keeps ranges under MAX_DAYS)."""
    return scope.calendar.buckets(scope.start, scope.end, width)


def _added(values: Sequence[Any]) -> Any:
    """The values added in order, from the first one as it is (-0.0 alone stays -0.0)."""
    return functools.reduce(operator.add, values)


class Figures:
    """Session sums by day (or hour: `width`) and by breakdown value, from rows of
    (bucket, *one value per BREAKDOWNS, *one sum per SUMS), with the visitor counts beside them."""

    def __init__(
        self, rows: Iterable[Sequence[Any]], visitors: int, converted: int, day_visitors: dict[int, int],
        *, width: int = DAY_MS, breakdowns: dict[str, Counter[str]] | None = None,
    ) -> None:
        """`breakdowns`, when a store counted sessions by each BREAKDOWNS value apart: the rows are
        then (bucket, *one sum per SUMS)."""
        self.width = width
        self.days: dict[int, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.breakdowns: dict[str, Counter[str]] = (
            {name: Counter() for name in BREAKDOWNS} if breakdowns is None else breakdowns
        )
        dims = 0 if breakdowns is not None else len(BREAKDOWNS)
        self.visitors, self.converted, self.day_visitors = visitors, converted, day_visitors
        columns = list(zip(*rows, strict=True))  # thousands of rows: summed by column, not row by row
        if not columns:
            return
        sums = columns[1 + dims:]
        # Each sum adds its values in row order from the first, as adding the rows one by one did
        # (so a float total is the same to the last bit); a day's rows keep their order in the sort.
        self.totals.update(dict(zip(SUMS, map(_added, sums), strict=True)))
        buckets = columns[0]
        for bucket, group in itertools.groupby(sorted(range(len(buckets)), key=buckets.__getitem__),
                                               key=buckets.__getitem__):
            rows_of = list(group)
            added = (_added([column[i] for i in rows_of]) for column in sums)
            self.days[bucket] = Counter(dict(zip(SUMS, added, strict=True)))
        for index, name in enumerate(BREAKDOWNS if breakdowns is None else ()):
            by_value: dict[Any, int] = {}
            for value, n in zip(columns[1 + index], sums[0], strict=True):
                by_value[value] = by_value.get(value, 0) + n
            for value, n in by_value.items():
                self.breakdowns[name][value or "(none)"] += n

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
        for day in days_of(scope, self.width):
            sums = self.days.get(day, Counter())
            series.append({
                **scope.calendar.bucket_label(day, self.width),
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


SOURCES = ("referrers", "entry_pages", "exit_pages", "regions")


def sources(rows: Iterable[Sequence[Any]]) -> dict[str, Counter[str]]:
    """Sessions by referrer host, entry page, exit page and region, from rows of
    (referrer, entry_url, exit_url, country, region, sessions)."""
    rows = list(rows)
    return sources_apart([(r[0], r[5]) for r in rows], [(r[1], r[5]) for r in rows],
                         [(r[2], r[5]) for r in rows], [(r[3], r[4], r[5]) for r in rows])


def sources_apart(
    referrers: Iterable[tuple[str | None, int]], entries: Iterable[tuple[str | None, int]],
    exits: Iterable[tuple[str | None, int]], regions: Iterable[tuple[str | None, str | None, int]],
) -> dict[str, Counter[str]]:
    """The same from each source's own rows: (referrer, sessions), (entry URL, sessions), (exit
    URL, sessions) and (country, region, sessions)."""
    found = {
        "referrers": breakdowns.fold(referrers, breakdowns.host),
        "entry_pages": breakdowns.fold(entries, breakdowns.page),
        "exit_pages": breakdowns.fold(exits, breakdowns.page),
        "regions": Counter[str](),
    }
    for country, region, n in regions:
        found["regions"][breakdowns.region_key(country, region)] += n
    return found


class Period:
    """One period's inputs to the overview: its figures, pageviews by path, sources and the
    (visitors, sessions) that reached each goal asked about."""

    def __init__(
        self, figures: Figures, pages: Counter[str], sources: dict[str, Counter[str]],
        goals: Sequence[tuple[int, int]] = (),
    ) -> None:
        self.figures, self.pages, self.sources, self.goals = figures, pages, sources, list(goals)


def answer(
    scope: Scope, now: Period, before: Period, goals: Sequence[tuple[int, str]] = (),
) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it.

    `goals`: (id, name) of the goals whose conversions each period counted, in the same order.
    """
    width = now.figures.width
    metrics, previous = now.figures.metrics(), before.figures.metrics()
    result: dict[str, Any] = {
        "range": {"from": scope.start, "to": scope.end},
        "previous_range": {"from": scope.previous.start, "to": scope.previous.end},
        "metrics": {
            name: {"value": value, "previous": previous[name], "change": change(value, previous[name])}
            for name, value in metrics.items()
        },
        "interval": "day" if width == DAY_MS else "hour",
        "series": now.figures.series(scope),
        # the period before, bucket for bucket, to draw beside the series
        "previous_series": before.figures.series(scope.previous),
        "pages": compare(now.pages, before.pages, "pageviews"),
        # Whether this looks like a shop: cart adds or orders now or in the period compared with.
        "commerce_seen": any(f.totals["carts"] or f.totals["orders"] for f in (now.figures, before.figures)),
    }
    for name in BREAKDOWNS:
        result[name] = compare(now.figures.breakdowns[name], before.figures.breakdowns[name], "sessions")
    for name in SOURCES:
        result[name] = compare(now.sources[name], before.sources[name], "sessions")
    for row in result["regions"]:
        row["country"], row["region"] = breakdowns.split_region(row["name"])
    result["goals"] = []
    for (goal_id, name), (visitors, sessions), (before_visitors, _) in zip(goals, now.goals, before.goals, strict=True):
        result["goals"].append({
            "id": goal_id, "name": name, "visitors": visitors, "sessions": sessions,
            "conversion_rate": ratio(visitors, now.figures.visitors), "previous": before_visitors,
            "previous_rate": ratio(before_visitors, before.figures.visitors),
        })
    return result
