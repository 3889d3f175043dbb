"""Paths on ClickHouse: the pageviews of the sessions that saw a page, walked by the shared rule."""

from __future__ import annotations

from typing import Any

from collector.query import paths as shared
from collector.query.definitions import day_of
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import human_event_sql, scope_sql, sessions_in, url_match
from collector.store.clickhouse.transaction import Db


def top_page(db: Db, scope: Scope) -> str | None:
    """The most viewed path of human pageviews in the scope's days (whole UTC days, as the SQLite
    engine's page_days rollup counts them, where the site's zone is at UTC)."""
    if scope.calendar.zero_offset(scope.start, scope.end):
        days = f"e.day >= {lit(day_of(scope.start))} AND e.day <= {lit(day_of(scope.end - 1))}"
    else:
        days = f"e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)}"
    rows = db.rows(
        f"SELECT e.path FROM {db.t('events')} AS e WHERE e.site_id = {lit(scope.site_id)} AND e.type = 'pageview'"
        f" AND {days}"
        f" AND e.path != '' AND {human_event_sql(db.layout, scope.site_id, 'e')}"
        " GROUP BY e.path ORDER BY count() DESC, e.path LIMIT 1"
    )
    return rows[0][0] if rows else None


def paths(db: Db, scope: Scope, from_url: str, depth: int = 3) -> dict[str, Any]:
    """From the first pageview matching `from_url` in each session: the pages after and before."""
    site = lit(scope.site_id)
    rows = db.rows(
        f"SELECT e.session_id, e.ts, e.path, if({url_match(from_url, 'e')}, 1, 0) FROM {db.t('events')} AS e"
        f" WHERE e.site_id = {site} AND e.type = 'pageview'"
        f" AND e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)})"
        f" AND e.session_id IN (SELECT m.session_id FROM {db.t('events')} AS m WHERE m.site_id = {site}"
        f" AND m.type = 'pageview' AND {url_match(from_url, 'm')})"
        # The SQLite engine reads a session's pageviews by its (session, type, ts, path) index.
        " ORDER BY e.session_id, e.ts, e.path ASC NULLS FIRST, e.seq"
    )
    by_session: dict[str, list[shared.View]] = {}
    for session_id, ts, path, is_hit in rows:
        by_session.setdefault(session_id, []).append((int(ts), path or "(none)", int(is_hit)))
    return shared.answer(from_url, by_session.values(), depth)
