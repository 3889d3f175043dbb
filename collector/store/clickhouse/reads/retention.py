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
    each visitor's sessions grouped once, to their first start and the distinct weeks after it
    that they came back in, which count one visitor each (the shared query's window over every
    visitor's sessions and distinct count of visitors per week took twice as long at 5.1M events)."""
    high = shared.bounds(scope, weeks)[1]
    week = shared.week_sql(scope, weeks, day=day_sql, divide=lambda a, b: f"intDiv({a}, {b})")
    rows = db.rows(
        f"SELECT {week('first')} AS cohort, k, count() FROM (SELECT min(s.first_ts) AS first,"
        f" arrayDistinct(arrayMap(t -> {week('t')} - {week('first')},"
        # (the local days are spelled for times before `high`; later ones are past every k counted)
        f" arrayFilter(t -> t < {int(high)}, groupArray(s.first_ts)))) AS ks"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope.during(0, 1 << 62))}"
        f" GROUP BY s.visitor_id HAVING first >= {int(scope.start)} AND first < {int(scope.end)})"
        f" ARRAY JOIN ks AS k WHERE k < {int(weeks)} GROUP BY cohort, k"
    )
    return shared.from_counts(scope, rows, weeks, now)
