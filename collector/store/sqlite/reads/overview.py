"""The overview: headline metrics, breakdowns and a daily series, beside the previous period."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from typing import Any

from collector.query import breakdowns
from collector.query.params import DAY_MS
from collector.query.scope import Goal, Scope
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
SELECT s.first_ts / {{bucket}} AS day, {_DIMS},
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


def bucket_name(bucket: int, width: int) -> dict[str, str]:
    """A series point's label: `date` for a day, `hour` (ISO, UTC) for an hour."""
    if width == DAY_MS:
        return {"date": day_name(bucket)}
    return {"hour": dt.datetime.fromtimestamp(bucket * width / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")}


def days_of(scope: Scope, width: int = DAY_MS) -> range:
    """The UTC day (or hour) numbers of a bounded range (the API keeps ranges under MAX_DAYS)."""
    return range(scope.start // width, (scope.end - 1) // width + 1)


class Figures:
    """Session sums by day (or hour) and by breakdown value, from the rollup or the sessions table."""

    def __init__(
        self, conn: sqlite3.Connection, scope: Scope, *, daily: bool = True, width: int = DAY_MS,
    ) -> None:
        self.width = width
        if scope.rolled_up and width == DAY_MS:
            rows = conn.execute(_ROLLUP, (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS))
        else:
            where, args = scope_sql(scope)
            rows = conn.execute(_GROUPED.format(where=where, bucket=width), args)
        self.days: dict[int, Counter[str]] = {}
        self.totals: Counter[str] = Counter()
        self.breakdowns: dict[str, Counter[str]] = {name: Counter() for name in BREAKDOWNS}
        dims = len(BREAKDOWNS)
        for row in rows:
            sums = dict(zip(SUMS, row[1 + dims:], strict=True))
            self.days.setdefault(row[0], Counter()).update(sums)
            self.totals.update(sums)
            for index, name in enumerate(BREAKDOWNS):
                self.breakdowns[name][row[1 + index] or "(none)"] += sums["sessions"]
        self.visitors, self.converted, self.day_visitors = _visitors(conn, scope, daily, width)

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
                **bucket_name(day, self.width),
                "visitors": self.day_visitors.get(day, 0),
                "sessions": sums["sessions"],
                "pageviews": sums["pageviews"],
                "bounce_rate": ratio(sums["bounces"], sums["viewed"]),
                "revenue": float(sums["revenue"]),
                "orders": sums["orders"],
            })
        return series


def _visitors(
    conn: sqlite3.Connection, scope: Scope, daily: bool, width: int = DAY_MS,
) -> tuple[int, int, dict[int, int]]:
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
        f"SELECT s.first_ts / {int(width)} AS day, count(DISTINCT s.visitor_id) FROM sessions s"
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


def _sources(conn: sqlite3.Connection, scope: Scope) -> dict[str, Counter[str]]:
    """Sessions by referrer host, entry page, exit page and region (no rollup holds these).

    One pass over the range's sessions: four GROUP BYs would each look every session up again.
    """
    where, args = scope_sql(scope)
    found: dict[str, Counter[str]] = {name: Counter() for name in ("referrers", "entry_pages", "exit_pages", "regions")}
    rows = conn.execute(
        "SELECT s.referrer, s.entry_url, s.exit_url, s.country, s.region, count(*) FROM sessions s"
        f" WHERE {where} GROUP BY 1, 2, 3, 4, 5",
        args,
    )
    for referrer, entry, exit_, country, region, n in rows:
        found["referrers"][breakdowns.host(referrer)] += n
        found["entry_pages"][breakdowns.page(entry)] += n
        found["exit_pages"][breakdowns.page(exit_)] += n
        found["regions"][breakdowns.region_key(country, region)] += n
    return found


def goal_conversions(conn: sqlite3.Connection, scope: Scope, goals: list[Goal]) -> list[tuple[int, int]]:
    """Visitors and sessions of the scope that reached each goal, in one pass over its sessions."""
    if not goals:
        return []
    where, args = scope_sql(scope)
    columns: list[str] = []
    goal_args: list[object] = []
    for index, goal in enumerate(goals):
        sql, found_args = goal_sql(goal)
        columns.append(f"({sql}) AS g{index}")
        goal_args += found_args
    flags = ", ".join(f"count(DISTINCT CASE WHEN g{i} THEN visitor_id END), sum(g{i})" for i in range(len(goals)))
    row = conn.execute(
        f"SELECT {flags} FROM (SELECT s.visitor_id, {', '.join(columns)} FROM sessions s WHERE {where})",
        [*goal_args, *args],
    ).fetchone()
    return [(row[2 * i], row[2 * i + 1] or 0) for i in range(len(goals))]


def overview(
    conn: sqlite3.Connection, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it.

    `width`: the series' bucket (a day, or an hour for short ranges); `goals`: (id, name, goal)
    whose conversions are counted beside the headline figures.
    """
    now, before = Figures(conn, scope, width=width), Figures(conn, scope.previous, width=width)
    metrics, previous = now.metrics(), before.metrics()
    result: dict[str, Any] = {
        "range": {"from": scope.start, "to": scope.end},
        "previous_range": {"from": scope.previous.start, "to": scope.previous.end},
        "metrics": {
            name: {"value": value, "previous": previous[name], "change": change(value, previous[name])}
            for name, value in metrics.items()
        },
        "interval": "day" if width == DAY_MS else "hour",
        "series": now.series(scope),
        # the period before, bucket for bucket, to draw beside the series
        "previous_series": before.series(scope.previous),
        "pages": _compare(_pages(conn, scope), _pages(conn, scope.previous), "pageviews"),
        # Whether this looks like a shop: cart adds or orders now or in the period compared with.
        "commerce_seen": any(f.totals["carts"] or f.totals["orders"] for f in (now, before)),
    }
    for name in BREAKDOWNS:
        result[name] = _compare(now.breakdowns[name], before.breakdowns[name], "sessions")
    sources, sources_before = _sources(conn, scope), _sources(conn, scope.previous)
    for name, counts in sources.items():
        result[name] = _compare(counts, sources_before[name], "sessions")
    for row in result["regions"]:
        row["country"], row["region"] = breakdowns.split_region(row["name"])
    result["goals"] = []
    counted = zip(goals, goal_conversions(conn, scope, [g for _, _, g in goals]),
                  goal_conversions(conn, scope.previous, [g for _, _, g in goals]), strict=True)
    for (goal_id, name, _goal), (visitors, sessions), (before_visitors, _) in counted:
        result["goals"].append({
            "id": goal_id, "name": name, "visitors": visitors, "sessions": sessions,
            "conversion_rate": ratio(visitors, now.visitors), "previous": before_visitors,
            "previous_rate": ratio(before_visitors, before.visitors),
        })
    return result
