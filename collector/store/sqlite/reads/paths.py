"""Paths: the pages visitors see before and after a page, a few steps deep."""

from __future__ import annotations

import itertools
import operator
import sqlite3
from typing import Any

from collector.query import paths as shared
from collector.query.definitions import day_of
from collector.query.scope import Scope
from collector.store.sqlite.connection import tuples
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
    in_scope = set(map(_session, tuples(conn, f"SELECT s.id FROM sessions s WHERE {where}", args)))
    # The sessions that saw the page come from the covering index events_type_ts_session (a
    # session's events all lie at or after its start), as a sorted list SQLite then seeks one by
    # one in the session index: each one's pageviews arrive together, ordered by time, then
    # path, then arrival (the paths' own order). One pass over the range's pageviews probing a
    # set per pageview instead cost half as much again.
    rows = tuples(
        conn,
        f"SELECT e.session_id, e.ts, e.path, {hit} FROM events e INDEXED BY events_session_type"
        " WHERE e.site_id = ? AND e.type = 'pageview' AND e.session_id IN"
        " (SELECT h.session_id FROM events h INDEXED BY events_type_ts_session WHERE h.site_id = ?"
        f" AND h.type = 'pageview' AND h.ts >= ? AND {seen})",
        [*hit_args, scope.site_id, scope.site_id, scope.start, *seen_args],
    )
    sessions = (
        [(ts, path or "(none)", is_hit) for _, ts, path, is_hit in views]
        for session_id, views in itertools.groupby(rows, _session) if session_id in in_scope
    )
    return shared.answer(from_url, sessions, depth, width)


_session = operator.itemgetter(0)
