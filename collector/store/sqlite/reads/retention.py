"""Weekly retention on SQLite: cohorts and their returns counted in SQL; the answer is shaped in
collector/query/retention.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query import retention as shared
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import day_sql, scope_sql


def retention(conn: sqlite3.Connection, scope: Scope, weeks: int = 8, now: int | None = None) -> dict[str, Any]:
    """Cohorts of visitors whose first session (ever) started in the range; their later weeks.

    Each session the filters let count (over all time) carries its visitor's first start (a
    window over the visitor's sessions, read from the covering index sessions_visitors); the
    sessions of visitors first seen in the range are then counted per (cohort, week).
    """
    where, args = scope_sql(scope.during(0, 1 << 62))
    low, high = shared.bounds(scope, weeks)

    def week(column: str) -> str:
        return shared.week_sql(day_sql(scope.calendar.local_sql(column, low, high)), lambda a, b: f"({a}) / {b}")

    cohort = week("first")
    rows = conn.execute(
        f"SELECT {cohort} AS cohort, {week('first_ts')} - {cohort} AS k, count(DISTINCT visitor_id)"
        " FROM (SELECT s.visitor_id, s.first_ts, min(s.first_ts) OVER (PARTITION BY s.visitor_id) AS first"
        f" FROM sessions s INDEXED BY sessions_visitors WHERE {where})"
        " WHERE first >= ? AND first < ? AND first_ts < ? GROUP BY 1, 2 HAVING k < ?",
        [*args, scope.start, scope.end, high, weeks],
    )
    return shared.from_counts(scope, rows, weeks, now)
