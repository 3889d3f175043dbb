"""Weekly retention on ClickHouse: cohorts and their returns counted in SQL; the answer is shaped
in collector/query/retention.py."""

from __future__ import annotations

from typing import Any

from collector.query import retention as shared
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import day_sql, scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db


def retention(db: Db, scope: Scope, weeks: int = 8, now: int | None = None) -> dict[str, Any]:
    """Cohorts of visitors whose first session (ever) started in the range; their later weeks:
    each visitor's first start and the weeks of their sessions, counted per (cohort, week)."""
    low, high = shared.bounds(scope, weeks)

    def week(column: str) -> str:
        return shared.week_sql(day_sql(scope.calendar.local_sql(column, low, high)), lambda a, b: f"intDiv({a}, {b})")

    cohort = week("first")
    rows = db.rows(
        f"SELECT {cohort} AS cohort, {week('first_ts')} - cohort AS k, uniqExact(visitor_id)"
        " FROM (SELECT s.visitor_id, s.first_ts, min(s.first_ts) OVER (PARTITION BY s.visitor_id) AS first"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope.during(0, 1 << 62))})"
        f" WHERE first >= {lit(scope.start)} AND first < {lit(scope.end)} AND first_ts < {lit(high)}"
        f" GROUP BY cohort, k HAVING k < {int(weeks)}"
    )
    return shared.from_counts(scope, rows, weeks, now)
