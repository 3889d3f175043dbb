"""The overview on SQLite: session sums from the day rollups or the sessions table, pageviews by path.

The arithmetic (ratios, series, ranking) is engine-neutral, in collector/query/overview.py.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from collector.query.overview import (  # noqa: F401 - ratio, day_name, days_of: used by the other reads
    BREAKDOWNS,
    SUMS,
    Figures,
    answer,
    day_name,
    days_of,
    pages,
    ratio,
)
from collector.query.params import DAY_MS
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import goal_sql, scope_sql

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


def figures(conn: sqlite3.Connection, scope: Scope, *, daily: bool = True) -> Figures:
    """Session sums by day and by breakdown value, from the rollup or the sessions table."""
    if scope.rolled_up:
        rows = conn.execute(_ROLLUP, (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS))
    else:
        where, args = scope_sql(scope)
        rows = conn.execute(_GROUPED.format(where=where), args)
    return Figures(rows, *_visitors(conn, scope, daily))


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
    return pages(rows)


def overview(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it."""
    return answer(
        scope, figures(conn, scope), figures(conn, scope.previous, daily=False),
        _pages(conn, scope), _pages(conn, scope.previous),
    )
