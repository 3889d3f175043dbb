"""Paths: the pages visitors see before and after a page, a few steps deep."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from collector.query import paths as shared
from collector.query.definitions import day_of
from collector.query.scope import Scope
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import human_sql, scope_sql


def top_page(conn: sqlite3.Connection, scope: Scope) -> str | None:
    """The most viewed path of human pageviews in the scope's days (the page_days rollup)."""
    if not scope.calendar.zero_offset(scope.start, scope.end):
        # page_days counts UTC days, not this site's: count the range's own pageviews
        found = conn.execute(
            "SELECT e.path FROM events e JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
            f" AND {human_sql('s')} WHERE e.site_id = ? AND e.type = 'pageview' AND e.ts >= ? AND e.ts < ?"
            " AND e.path != '' GROUP BY e.path ORDER BY count(*) DESC, e.path LIMIT 1",
            (scope.site_id, scope.start, scope.end),
        ).fetchone()
        return found[0] if found else None
    found = conn.execute(
        "SELECT path FROM page_days WHERE site_id = ? AND day >= ? AND day <= ? AND path != ''"
        " GROUP BY path ORDER BY sum(pageviews) DESC, path LIMIT 1",
        (scope.site_id, day_of(scope.start), day_of(scope.end - 1)),
    ).fetchone()
    return found[0] if found else None


def paths(
    conn: sqlite3.Connection, scope: Scope, from_url: str, depth: int = 3, width: int = shared.WIDTH,
) -> dict[str, Any]:
    """From the first pageview matching `from_url` in each session: the pages after and before
    (collector/query/paths.py walks them)."""
    where, args = scope_sql(scope)
    hit, hit_args = url_match(from_url, "e")
    seen, seen_args = url_match(from_url, "h")
    in_scope = {row[0] for row in conn.execute(f"SELECT s.id FROM sessions s WHERE {where}", args)}
    # One pass over the range's pageviews in the covering index events_type_ts_session (a
    # session's events all lie at or after its start): seeking each session's pageviews instead
    # costs an index descent per session, several times more when most sessions saw the page.
    # Only sessions that saw the page count: their ids are gathered first (a set SQLite probes
    # per entry), so the rest of the range's pageviews never reach Python. INDEXED BY keeps the
    # index's order, which breaks ties between views of one instant.
    rows = conn.execute(
        f"SELECT e.session_id, e.ts, e.path, {hit} FROM events e INDEXED BY events_type_ts_session"
        " WHERE e.site_id = ? AND e.type = 'pageview' AND e.ts >= ? AND e.session_id IN"
        f" (SELECT h.session_id FROM events h WHERE h.site_id = ? AND h.type = 'pageview' AND h.ts >= ?"
        f" AND {seen})",
        [*hit_args, scope.site_id, scope.start, scope.site_id, scope.start, *seen_args],
    )
    by_session: dict[str, list[shared.View]] = defaultdict(list)
    for session_id, ts, path, is_hit in rows:
        if session_id in in_scope:
            by_session[session_id].append((ts, path or "(none)", is_hit))
    return shared.answer(from_url, by_session.values(), depth, width)
