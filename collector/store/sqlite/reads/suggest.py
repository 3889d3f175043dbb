"""Values a filter field can take in scope, most sessions first: the filter bar's suggestions."""

from __future__ import annotations

import json
import sqlite3
import string
from collections import Counter

from collector.query import breakdowns
from collector.query.scope import Scope
from collector.store.sqlite import paths
from collector.store.sqlite.connection import tuples
from collector.store.sqlite.reads.scope import events_sql, scope_sql

_COLUMNS = {
    "country": "s.country", "region": "s.region", "device": "s.device", "browser": "s.browser",
    "os": "s.os", "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
}
# Fields whose stored value is folded before it is shown (a URL into a path or a host).
_FOLDED = {"entry": ("s.entry_url", breakdowns.page), "exit": ("s.exit_url", breakdowns.page),
           "referrer": ("s.referrer", breakdowns.host)}
FIELDS = (*_COLUMNS, "page", *_FOLDED)


def suggest(conn: sqlite3.Connection, scope: Scope, field: str, contains: str, limit: int) -> list[tuple[str, int]]:
    """(value, sessions) pairs whose value contains `contains` (case-insensitive)."""
    where, args = scope_sql(scope)
    like = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if field in _COLUMNS:
        column = _COLUMNS[field]
        rows = conn.execute(
            f"SELECT {column}, count(*) FROM sessions s WHERE {where} AND {column} LIKE ? ESCAPE '\\'"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            [*args, like, limit],
        ).fetchall()
        return [(value, n) for value, n in rows]
    if field == "page" and contains:
        return _pages(conn, scope, contains, like, limit)
    if field == "page":
        viewed, view_args = events_sql(scope, "pageview")
        rows = conn.execute(
            f"SELECT e.path, count(DISTINCT s.id) {viewed} AND e.path LIKE ? ESCAPE '\\'"
            " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
            [*view_args, like, limit],
        ).fetchall()
        return [(value, n) for value, n in rows]
    column, fold = _FOLDED[field]
    counts: Counter[str] = breakdowns.fold(
        conn.execute(f"SELECT {column}, count(*) FROM sessions s WHERE {where} GROUP BY 1", args), fold,
    )
    wanted = contains.lower()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(value, n) for value, n in ranked if wanted in value.lower() and value != "(none)"][:limit]


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # LIKE's case folding


def _pages(conn: sqlite3.Connection, scope: Scope, contains: str, like: str, limit: int) -> list[tuple[str, int]]:
    """The viewed paths holding `contains` (as LIKE matches it: ASCII letters in either case), by
    sessions: from each session's paths as its row keeps them (the sessions whose row holds the
    text), and from the events for the sessions whose row does not know them."""
    where, args = scope_sql(scope)
    wanted = contains.translate(_ASCII_LOWER)
    known: set[str] = set()  # every path met, and those of them that hold the text
    holding: set[str] = set()
    found: list[str] = []  # each session's distinct paths that hold it
    unknown = []
    for session, text in tuples(
        conn, f"SELECT s.id, s.paths FROM sessions s WHERE {where} AND (s.paths IS NULL OR s.paths LIKE ? ESCAPE '\\')",
        [*args, like],
    ):
        if text is None:
            unknown.append(session)
            continue
        viewed = set(paths.split(text))
        for path in viewed - known:
            known.add(path)
            if wanted in path.translate(_ASCII_LOWER):
                holding.add(path)
        found.extend(viewed & holding)
    sessions = Counter(found)
    if unknown:
        sessions.update(dict(tuples(
            conn,
            "SELECT e.path, count(DISTINCT e.session_id) FROM events e INDEXED BY events_session_type"
            " WHERE e.site_id = ? AND e.type = 'pageview' AND e.session_id IN (SELECT value FROM json_each(?))"
            " AND e.path LIKE ? ESCAPE '\\' GROUP BY 1",
            [scope.site_id, json.dumps(unknown), like],
        )))
    return sorted(sessions.items(), key=lambda item: (-item[1], item[0]))[:limit]
