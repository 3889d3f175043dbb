"""Paths: the pages visitors see before and after a page, a few steps deep."""

from __future__ import annotations

import itertools
import json
import operator
import sqlite3
from collections.abc import Iterator
from typing import Any

from collector.query import paths as shared
from collector.query.definitions import day_of
from collector.query.patterns import page_tests
from collector.query.scope import NONE, Scope
from collector.store.sqlite import paths as session_paths
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
    (collector/query/paths.py walks them). A pattern on the path alone is matched against each
    session's pages as its row keeps them (`sessions.paths`, in the session's order of views); a
    URL or a route template needs the events themselves."""
    tests = page_tests(from_url)
    if any(name != "path" for name, _ in tests):
        return _from_events(conn, scope, from_url, depth, width)
    ((_, test),) = tests
    where, args = scope_sql(scope)
    rows = tuples(conn, f"SELECT s.id, s.paths FROM sessions s WHERE {where}", args)
    exact = "*" not in from_url

    def walks() -> Iterator[shared.Walk]:
        for _, text in rows:
            if not text or (exact and from_url not in text):  # NULL (not known) is read below
                continue
            pages = session_paths.split(text)
            if exact:
                if from_url in pages:
                    yield pages, pages.index(from_url)
            else:
                at = next((i for i, page in enumerate(pages) if test(page)), None)
                if at is not None:
                    yield pages, at
        unknown = [session for session, text in rows if text is None]
        if unknown:
            yield from shared.walks(views for _, views in _session_views(
                conn, scope.site_id, from_url, "SELECT value FROM json_each(?)", [json.dumps(unknown)]))

    return shared.answer_of_walks(from_url, walks(), depth, width)


def _from_events(conn: sqlite3.Connection, scope: Scope, from_url: str, depth: int, width: int) -> dict[str, Any]:
    """`paths` read from the events: their URLs and routes are not on the sessions' rows."""
    where, args = scope_sql(scope)
    seen, seen_args = url_match(from_url, "h")
    in_scope = set(map(_session, tuples(conn, f"SELECT s.id FROM sessions s WHERE {where}", args)))
    # The sessions that saw the page come from the covering index events_type_ts_session (a
    # session's events all lie at or after its start), as a sorted list SQLite then seeks one by
    # one in the session index. One pass over the range's pageviews probing a set per pageview
    # instead cost half as much again.
    sessions = _session_views(
        conn, scope.site_id, from_url,
        "SELECT h.session_id FROM events h INDEXED BY events_type_ts_session WHERE h.site_id = ?"
        f" AND h.type = 'pageview' AND h.ts >= ? AND {seen}",
        [scope.site_id, scope.start, *seen_args],
    )
    return shared.answer(from_url, (views for session_id, views in sessions if session_id in in_scope), depth, width)


def _session_views(
    conn: sqlite3.Connection, site_id: str, from_url: str, sessions_sql: str, sessions_args: list[object],
) -> Iterator[tuple[str, list[shared.View]]]:
    """The pageviews of the sessions `sessions_sql` selects, per session: each one's arrive
    together off the session index, ordered by time, then path, then arrival (the paths' own
    order), as (ts, path or "(none)", whether it matches `from_url`)."""
    hit, hit_args = url_match(from_url, "e")
    rows = tuples(
        conn,
        f"SELECT e.session_id, e.ts, e.path, {hit} FROM events e INDEXED BY events_session_type"
        f" WHERE e.site_id = ? AND e.type = 'pageview' AND e.session_id IN ({sessions_sql})",
        [*hit_args, site_id, *sessions_args],
    )
    for session_id, views in itertools.groupby(rows, _session):
        yield session_id, [(ts, path or NONE, is_hit) for _, ts, path, is_hit in views]


_session = operator.itemgetter(0)
