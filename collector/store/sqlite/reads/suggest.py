"""Values a filter field can take in scope, most sessions first: the filter bar's suggestions."""

from __future__ import annotations

import sqlite3
from collections import Counter

from collector.query import breakdowns
from collector.query.scope import Scope
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
