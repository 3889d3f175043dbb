"""Paths on SQLite: the pageviews of the sessions that saw a page; collector/query/paths.py walks them."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from collector.query import paths as shared
from collector.query.scope import Scope
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import scope_sql


def top_page(conn: sqlite3.Connection, scope: Scope) -> str | None:
    """The most viewed path of human pageviews in the scope's days (the page_days rollup)."""
    found = conn.execute(
        "SELECT path FROM page_days WHERE site_id = ? AND day >= ? AND day <= ? AND path != ''"
        " GROUP BY path ORDER BY sum(pageviews) DESC, path LIMIT 1",
        (scope.site_id, scope.start // 86_400_000, (scope.end - 1) // 86_400_000),
    ).fetchone()
    return found[0] if found else None


def paths(conn: sqlite3.Connection, scope: Scope, from_url: str, depth: int = 3) -> dict[str, Any]:
    """From the first pageview matching `from_url` in each session: the pages after and before."""
    where, args = scope_sql(scope)
    match, match_args = url_match(from_url, "m")
    hit, hit_args = url_match(from_url, "e")
    rows = conn.execute(
        f"SELECT e.session_id, e.ts, e.path, {hit} FROM sessions s"
        " JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id AND e.type = 'pageview'"
        f" WHERE {where} AND EXISTS (SELECT 1 FROM events m WHERE m.site_id = s.site_id"
        f" AND m.session_id = s.id AND m.type = 'pageview' AND {match})",
        [*hit_args, *args, *match_args],
    )
    by_session: dict[str, list[shared.View]] = defaultdict(list)
    for session_id, ts, path, is_hit in rows:
        by_session[session_id].append((ts, path or "(none)", is_hit))
    return shared.answer(from_url, by_session.values(), depth)
