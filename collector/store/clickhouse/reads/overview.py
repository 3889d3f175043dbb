"""The overview on ClickHouse: session sums grouped in one pass, pageviews by path in the range."""

from __future__ import annotations

from collections import Counter
from typing import Any

from collector.query.overview import BREAKDOWNS, Figures, answer, pages
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import goal_sql, scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db

_DIMS = ", ".join(f"s.{c}" for c in BREAKDOWNS.values())
_SUMS = (
    "count(), sum(s.pageviews), countIf(s.pageviews > 0), countIf(s.pageviews = 1), sum(s.duration_ms),"
    " countIf(s.cart_adds > 0), countIf(s.cart_adds > 0 AND s.purchases = 0), sum(s.revenue), sum(s.purchases)"
)


def figures(db: Db, scope: Scope, *, daily: bool = True) -> Figures:
    where = scope_sql(db.layout, scope)
    rows = db.rows(
        f"SELECT intDiv(s.first_ts, 86400000) AS day, {_DIMS}, {_SUMS} FROM {sessions_in(db.layout)}"
        f" WHERE {where} GROUP BY day, {_DIMS} ORDER BY day, {_DIMS}"
    )
    goal = goal_sql(db.layout, scope.site_id, scope.goal)
    ((visitors, converted),) = db.rows(
        f"SELECT uniqExact(s.visitor_id), uniqExactIf(s.visitor_id, {goal})"
        f" FROM {sessions_in(db.layout)} WHERE {where}"
    )
    by_day: dict[int, int] = {}
    if daily:
        by_day = {
            int(day): int(n) for day, n in db.rows(
                f"SELECT intDiv(s.first_ts, 86400000) AS day, uniqExact(s.visitor_id)"
                f" FROM {sessions_in(db.layout)} WHERE {where} GROUP BY day"
            )
        }
    return Figures(rows, int(visitors), int(converted), by_day)


def page_counts(db: Db, scope: Scope) -> Counter[str]:
    """Pageviews by path that happened in the range (by their own time, unlike sessions)."""
    if scope.filters:
        where = scope_sql(db.layout, scope, started=False)
        sessions = f"e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE {where})"
    elif scope.include_bots:
        sessions = "1"
    else:  # the humans: fewer ids to hold than all the sessions that are not bots
        sessions = (f"e.session_id NOT IN (SELECT s.id FROM {sessions_in(db.layout)}"
                    f" WHERE s.site_id = {lit(scope.site_id)} AND s.is_bot = 1)")
    rows = db.rows(
        f"SELECT coalesce(e.path, ''), count() FROM {db.t('events')} AS e"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.type = 'pageview'"
        f" AND e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)} AND {sessions} GROUP BY 1"
    )
    return pages((path, int(n)) for path, n in rows)


def overview(db: Db, scope: Scope) -> dict[str, Any]:
    return answer(
        scope, figures(db, scope), figures(db, scope.previous, daily=False),
        page_counts(db, scope), page_counts(db, scope.previous),
    )
