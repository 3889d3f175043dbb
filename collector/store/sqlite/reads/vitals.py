"""Web Vitals and JS errors of the sessions in scope, as plain rows: collector/query/vitals.py
does the percentile arithmetic, the same for every engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from collector.query.scope import Scope
from collector.store.sqlite.connection import tuples
from collector.store.sqlite.reads.scope import events_sql, scope_sql

TOP_ERRORS = 100
SAMPLE_SESSIONS = 5


def vital_values(conn: sqlite3.Connection, scope: Scope) -> Iterator[tuple[str, str, str, float]]:
    """(metric, page path, device, value) of every vital in scope.

    Two plain reads joined here: the scope's sessions and their devices, then the vitals from the
    range's start to its sessions' last event, off the covering index events_vital (a session's
    events lie between its first_ts, inside the range, and its last_ts). Joined in SQL each vital
    would cost two index descents to find its session's device.
    """
    where, args = scope_sql(scope)
    devices = dict(tuples(conn, f"SELECT s.id, coalesce(s.device, '') FROM sessions s WHERE {where}", args))
    if not devices:
        return
    rows = tuples(
        conn,
        "SELECT e.session_id, e.name, coalesce(e.path, ''), json_extract(e.data, '$.value')"
        " FROM events e INDEXED BY events_vital WHERE e.site_id = ? AND e.type = 'vital' AND e.ts >= ?"
        f" AND e.ts <= (SELECT max(s.last_ts) FROM sessions s WHERE {where})",
        [scope.site_id, scope.start, *args],
    )
    for session_id, name, path, value in rows:
        device = devices.get(session_id)
        if device is not None and isinstance(value, int | float):
            yield name, path, device, float(value)


def errors(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    """JS errors grouped by message and source: counts, affected sessions and a few of them
    (those with a replay first)."""
    raised, args = events_sql(scope, "error")
    source = "coalesce(json_extract(e.data, '$.source'), '')"
    groups = conn.execute(
        f"SELECT coalesce(e.name, ''), {source}, count(*), count(DISTINCT e.session_id),"
        f" count(DISTINCT s.visitor_id), min(e.ts), max(e.ts)"
        f" {raised} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?",
        [*args, TOP_ERRORS],
    ).fetchall()
    found = {
        (message, src): {
            "message": message, "source": src, "count": count, "sessions": sessions, "visitors": visitors,
            "first_seen": first, "last_seen": last, "examples": [],
        }
        for message, src, count, sessions, visitors, first, last in groups
    }
    if found:
        examples = conn.execute(
            f"SELECT coalesce(e.name, ''), {source}, e.session_id, s.has_replay, max(e.ts) AS at"
            f" {raised} GROUP BY 1, 2, 3"
            " ORDER BY s.has_replay DESC, at DESC, e.session_id",
            args,
        )
        for message, src, session_id, has_replay, at in examples:
            group = found.get((message, src))
            if group is not None and len(group["examples"]) < SAMPLE_SESSIONS:
                group["examples"].append({"session_id": session_id, "replay": bool(has_replay), "ts": at})
    return list(found.values())
