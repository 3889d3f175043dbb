"""Weekly retention on SQLite: each visitor's session starts; the cohorts are counted in
collector/query/retention.py."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query import retention as shared
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import scope_sql


def retention(conn: sqlite3.Connection, scope: Scope, weeks: int = 8, now: int | None = None) -> dict[str, Any]:
    """Cohorts of visitors whose first session (ever) started in the range; their later weeks."""
    where, args = scope_sql(scope.during(0, 1 << 62))
    rows = conn.execute(f"SELECT s.visitor_id, s.first_ts FROM sessions s WHERE {where}", args)
    return shared.answer(scope, rows, weeks, now)
