"""The overview: headline metrics, breakdowns and a daily series, beside the previous period."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from typing import Any

from collector.query.params import DAY_MS
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import goal_sql, scope_sql

TOP = 10
BREAKDOWNS = {
    "channels": "channel", "campaigns": "utm_campaign", "devices": "device",
    "browsers": "browser", "countries": "country",
}

SUMS = ("sessions", "pageviews", "viewed", "bounces", "duration_ms", "carts", "abandoned", "revenue", "orders")
_DIMS = ", ".join(f"s.{c}" for c in BREAKDOWNS.values())

# Straight from the sessions table: the same figures as the session_days rollup holds.
_GROUPED = f"""
SELECT s.first_ts / 86400000 AS day, {_DIMS},
       count(*), sum(s.pageviews), sum(s.pageviews > 0), sum(s.pageviews = 1), sum(s.duration_ms),
       sum(s.cart_adds > 0), sum(s.cart_adds > 0 AND s.purchases = 0), sum(s.revenue), sum(s.purchases)
FROM sessions s WHERE {{where}} GROUP BY day, {_DIMS}
"""
_ROLLUP = f"""
SELECT day, {", ".join(BREAKDOWNS.values())}, {", ".join(SUMS)} FROM session_days
WHERE site_id = ? AND day >= ? AND day < ? AND is_bot = 0 AND sessions != 0
"""


def ratio(part: float, whole: float) -> float:
    """part / whole, 0.0 for an empty whole (an empty range shows zeros, never NaN)."""
    return part / whole if whole else 0.0


def day_name(day: int) -> str:
    return dt.datetime.fromtimestamp(day * 86400, dt.UTC).date().isoformat()


def days_of(scope: Scope) -> range:
    """The UTC day numbers of a bounded range (the API keeps ranges under MAX_DAYS)."""
    return range(scope.start // DAY_MS, (scope.end - 1) // DAY_MS + 1)


class Figures:
    """Session sums by day and by breakdown value, from the rollup or the sessions table."""

    def __init__(self, conn: sqlite3.Connection, scope: Scope, *, daily: bool = True) -> None:
        if scope.rolled_up:
            rows = conn.execute(_ROLLUP, (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS))
        else:
            where, args = scope_sql(scope)
            rows = conn.execute(_GROUPED.format(where=where), args)
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
        self.visitors, self.converted, self.day_visitors = _visitors(conn, scope, daily)

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


def _visitors(conn: sqlite3.Connection, scope: Scope, daily: bool) -> tuple[int, int, dict[int, int]]:
    """Distinct visitors, converted visitors, and distinct visitors per day (no rollup sums these)."""
    where, args = scope_sql(scope)
    goal, goal_args = goal_sql(scope.goal)
    visitors, converted = conn.execute(
        f"SELECT count(DISTINCT s.visitor_id), count(DISTINCT CASE WHEN {goal}"
        f" THEN s.visitor_id END) FROM sessions s WHERE {where}",
        [*goal_args, *args],
    ).fetchone()
    if not daily:
        return visitors, converted, {}
    by_day = dict(conn.execute(
        f"SELECT s.first_ts / 86400000 AS day, count(DISTINCT s.visitor_id) FROM sessions s"
        f" WHERE {where} GROUP BY day",
        args,
    ).fetchall())
    return visitors, converted, by_day


def _pages(conn: sqlite3.Connection, scope: Scope) -> Counter[str]:
    """Pageviews by path that happened in the range (by their own time, unlike sessions)."""
    if scope.rolled_up:
        rows = conn.execute(
            "SELECT path, sum(pageviews) FROM page_days WHERE site_id = ? AND day >= ? AND day < ?"
            " GROUP BY path HAVING sum(pageviews) != 0",
            (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS),
        )
    else:
        where, args = scope_sql(scope, started=False)
        rows = conn.execute(
            "SELECT coalesce(e.path, ''), count(*) FROM events e JOIN sessions s"
            " ON s.site_id = e.site_id AND s.id = e.session_id"
            f" WHERE e.site_id = ? AND e.type = 'pageview' AND e.ts >= ? AND e.ts < ? AND {where}"
            " GROUP BY 1",
            [scope.site_id, scope.start, scope.end, *args],
        )
    return Counter({path or "(none)": n for path, n in rows})


def _compare(current: Counter[str], previous: Counter[str], key: str) -> list[dict[str, Any]]:
    ranked = sorted(current.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [{"name": name, key: n, "previous": previous.get(name, 0)} for name, n in ranked]


def change(value: float, previous: float) -> float | None:
    """Relative change against the previous period; None when there is nothing to compare."""
    return (value - previous) / previous if previous else None


def overview(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it."""
    now, before = Figures(conn, scope), Figures(conn, scope.previous, daily=False)
    metrics, previous = now.metrics(), before.metrics()
    result: dict[str, Any] = {
        "range": {"from": scope.start, "to": scope.end},
        "previous_range": {"from": scope.previous.start, "to": scope.previous.end},
        "metrics": {
            name: {"value": value, "previous": previous[name], "change": change(value, previous[name])}
            for name, value in metrics.items()
        },
        "series": now.series(scope),
        "pages": _compare(_pages(conn, scope), _pages(conn, scope.previous), "pageviews"),
        # Whether this looks like a shop: cart adds or orders now or in the period compared with.
        "commerce_seen": any(f.totals["carts"] or f.totals["orders"] for f in (now, before)),
    }
    for name in BREAKDOWNS:
        result[name] = _compare(now.breakdowns[name], before.breakdowns[name], "sessions")
    return result
