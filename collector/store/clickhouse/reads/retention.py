"""Weekly retention on ClickHouse: cohorts and their returns counted in SQL; the answer is shaped
in collector/query/retention.py."""

from __future__ import annotations

from typing import Any

from collector.query import retention as shared
from collector.query.scope import Scope
from collector.store.clickhouse.reads.scope import day_sql, scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db


def retention(db: Db, scope: Scope, weeks: int = 8, now: int | None = None) -> dict[str, Any]:
    """Cohorts of visitors whose first session (ever) started in the range; their later weeks:
    each visitor's first start and the weeks of their sessions, counted per (cohort, week)."""
    sql = shared.counts_sql(
        scope, weeks, sessions=sessions_in(db.layout), where=scope_sql(db.layout, scope.during(0, 1 << 62)),
        day=day_sql, divide=lambda a, b: f"intDiv({a}, {b})", distinct="uniqExact({})",
    )
    return shared.from_counts(scope, db.rows(sql), weeks, now)
