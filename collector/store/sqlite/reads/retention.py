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
    sql = shared.counts_sql(
        scope, weeks, sessions="sessions s INDEXED BY sessions_visitors", where=where,
        day=day_sql, divide=lambda a, b: f"({a}) / {b}", distinct="count(DISTINCT {})",
    )
    return shared.from_counts(scope, conn.execute(sql, args), weeks, now)
