"""The overview: headline metrics, breakdowns and a daily series, beside the previous period."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from typing import Any

from collector.query.filters import Scope

DAY_MS = 86_400_000
MAX_DAYS = 1000  # a daily series longer than this is not a chart anyone reads
TOP = 10
BREAKDOWNS = {
    "channels": "channel", "campaigns": "utm_campaign", "devices": "device",
    "browsers": "browser", "countries": "country",
}

_DAILY = """
SELECT s.first_ts / 86400000 AS day,
       count(*) AS sessions,
       count(DISTINCT s.visitor_id) AS visitors,
       coalesce(sum(s.pageviews), 0) AS pageviews,
       coalesce(sum(s.pageviews > 0), 0) AS viewed,
       coalesce(sum(s.pageviews = 1), 0) AS bounces,
       coalesce(sum(s.duration_ms), 0) AS duration_ms,
       coalesce(sum(s.cart_adds > 0), 0) AS carts,
       coalesce(sum(s.cart_adds > 0 AND s.purchases = 0), 0) AS abandoned,
       coalesce(sum(s.revenue), 0) AS revenue,
       coalesce(sum(s.purchases), 0) AS orders
FROM sessions s WHERE {where} GROUP BY day
"""


def ratio(part: float, whole: float) -> float:
    """part / whole, 0.0 for an empty whole (an empty range shows zeros, never NaN)."""
    return part / whole if whole else 0.0


def day_name(day: int) -> str:
    return dt.datetime.fromtimestamp(day * 86400, dt.UTC).date().isoformat()


def _totals(conn: sqlite3.Connection, scope: Scope) -> tuple[dict[str, float], list[dict[str, Any]]]:
    where, args = scope.sql()
    days = [dict(r) for r in conn.execute(_DAILY.format(where=where), args)]
    sums: Counter[str] = Counter()
    for day in days:
        sums.update({k: v for k, v in day.items() if k not in ("day", "visitors")})
    goal_sql, goal_args = scope.goal.session_clause()
    visitors, converted = conn.execute(
        f"SELECT count(DISTINCT s.visitor_id), count(DISTINCT CASE WHEN {goal_sql}"
        f" THEN s.visitor_id END) FROM sessions s WHERE {where}",
        [*goal_args, *args],
    ).fetchone()
    totals = {
        "visitors": visitors,
        "sessions": sums["sessions"],
        "pageviews": sums["pageviews"],
        "bounce_rate": ratio(sums["bounces"], sums["viewed"]),
        "avg_duration_s": ratio(sums["duration_ms"], sums["sessions"]) / 1000,
        "conversion_rate": ratio(converted, visitors),
        "cart_abandonment_rate": ratio(sums["abandoned"], sums["carts"]),
        "revenue": float(sums["revenue"]),
        "orders": sums["orders"],
        "aov": ratio(sums["revenue"], sums["orders"]),
    }
    return totals, days


def days_of(scope: Scope) -> range:
    """The UTC day numbers of a bounded range (the API keeps ranges under MAX_DAYS)."""
    return range(scope.start // DAY_MS, (scope.end - 1) // DAY_MS + 1)


def _series(scope: Scope, days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_day = {d["day"]: d for d in days}
    series = []
    for day in days_of(scope):
        row = by_day.get(day, {})
        series.append({
            "date": day_name(day),
            "visitors": row.get("visitors", 0),
            "sessions": row.get("sessions", 0),
            "pageviews": row.get("pageviews", 0),
            "bounce_rate": ratio(row.get("bounces", 0), row.get("viewed", 0)),
            "revenue": float(row.get("revenue", 0)),
            "orders": row.get("orders", 0),
        })
    return series


def _breakdowns(conn: sqlite3.Connection, scope: Scope) -> dict[str, Counter[str]]:
    """Sessions by each breakdown column, from one grouped scan."""
    where, args = scope.sql()
    columns = ", ".join(f"s.{c}" for c in BREAKDOWNS.values())
    counts: dict[str, Counter[str]] = {name: Counter() for name in BREAKDOWNS}
    rows = conn.execute(
        f"SELECT {columns}, count(*) FROM sessions s WHERE {where} GROUP BY {columns}", args
    )
    for row in rows:
        for index, name in enumerate(BREAKDOWNS):
            counts[name][row[index] or "(none)"] += row[-1]
    return counts


def _pages(conn: sqlite3.Connection, scope: Scope) -> Counter[str]:
    where, args = scope.sql()
    rows = conn.execute(
        "SELECT e.path, count(*) FROM sessions s JOIN events e"
        " ON e.site_id = s.site_id AND e.session_id = s.id AND e.type = 'pageview'"
        f" WHERE {where} GROUP BY e.path",
        args,
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
    totals, days = _totals(conn, scope)
    before, _ = _totals(conn, scope.previous)
    breakdowns, breakdowns_before = _breakdowns(conn, scope), _breakdowns(conn, scope.previous)
    result: dict[str, Any] = {
        "range": {"from": scope.start, "to": scope.end},
        "previous_range": {"from": scope.previous.start, "to": scope.previous.end},
        "metrics": {
            name: {"value": value, "previous": before[name], "change": change(value, before[name])}
            for name, value in totals.items()
        },
        "series": _series(scope, days),
        "pages": _compare(_pages(conn, scope), _pages(conn, scope.previous), "pageviews"),
    }
    for name in BREAKDOWNS:
        result[name] = _compare(breakdowns[name], breakdowns_before[name], "sessions")
    return result
