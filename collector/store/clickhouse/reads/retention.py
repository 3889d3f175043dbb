"""Weekly retention on ClickHouse: each visitor's session starts, grouped by the shared rule."""

from __future__ import annotations

from typing import Any

from collector.query import retention as shared
from collector.query.scope import Scope
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db


def retention(db: Db, scope: Scope, weeks: int = 8, now: int | None = None) -> dict[str, Any]:
    """Cohorts of visitors whose first session (ever) started in the range; their later weeks."""
    rows = db.rows(
        f"SELECT s.visitor_id, s.first_ts FROM {sessions_in(db.layout)}"
        f" WHERE {scope_sql(db.layout, scope.during(0, 1 << 62))}"
    )
    return shared.answer(scope, ((visitor, int(ts)) for visitor, ts in rows), weeks, now)
