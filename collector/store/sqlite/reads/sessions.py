"""Sessions: the newest-first list with cursor pagination, and one session with its events."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.query.sessions import SORTS, causal_order, decode_cursor, encode_cursor
from collector.store.sqlite import paths
from collector.store.sqlite.reads.scope import filters_sql, human_sql
from collector.wire import json_decoder


def list_sessions(
    conn: sqlite3.Connection,
    site_id: str,
    start: int,
    end: int,
    *,
    where: list[str] | None = None,
    params: list[object] | None = None,
    limit: int = 50,
    cursor: str | None = None,
    include_bots: bool = False,
    sort: str = "time",
    descending: bool = True,
) -> dict[str, Any]:
    """A page of sessions that started in [start, end) in the asked order, the total and the next cursor."""
    clauses = ["s.site_id = ?", "s.first_ts >= ?", "s.first_ts < ?", *(where or [])]
    args: list[object] = [site_id, start, end, *(params or [])]
    if not include_bots:
        clauses.append(human_sql("s"))
    (total,) = conn.execute(f"SELECT COUNT(*) FROM sessions s WHERE {' AND '.join(clauses)}", args).fetchone()
    column = SORTS[sort]
    # The session id breaks ties, so that a page boundary inside equal values loses and repeats nothing.
    before, direction = ("<", "DESC") if descending else (">", "ASC")
    if cursor:
        value, session_id = decode_cursor(cursor, sort)
        clauses.append(f"(s.{column} {before} ? OR (s.{column} = ? AND s.id {before} ?))")
        args += [value, value, session_id]
    rows = conn.execute(
        f"SELECT s.* FROM sessions s WHERE {' AND '.join(clauses)}"
        f" ORDER BY s.{column} {direction}, s.id {direction} LIMIT ?",
        [*args, limit + 1],
    ).fetchall()
    page = [paths.shown(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {
        "sessions": page,
        "total": total,
        "next": encode_cursor(page[-1][column], page[-1]["id"]) if more else None,
    }


def list_in_scope(
    conn: sqlite3.Connection, scope: Scope, *, limit: int = 50, cursor: str | None = None,
    sort: str = "time", descending: bool = True,
) -> dict[str, Any]:
    """A page of the scope's sessions (filters and segment applied), newest first by default."""
    where, args = filters_sql(scope.filters, scope.goal, scope.site_id)
    return list_sessions(
        conn, scope.site_id, scope.start, scope.end, where=where,
        params=args, limit=limit, cursor=cursor, include_bots=scope.include_bots,
        sort=sort, descending=descending,
    )


def event_dict(row: sqlite3.Row) -> dict[str, Any]:
    """A stored event as the API shows it: its columns with its type-specific fields."""
    event = dict(row)
    data = json_decoder.decode(event.pop("data"))
    del event["rowid"]
    return {**event, **data}


def get_session(conn: sqlite3.Connection, session_id: str, site_id: str | None = None) -> dict[str, Any] | None:
    """One session with its events in order, or None."""
    clause, args = ("id = ? AND site_id = ?", [session_id, site_id]) if site_id else ("id = ?", [session_id])
    row = conn.execute(f"SELECT * FROM sessions WHERE {clause} LIMIT 1", args).fetchone()
    if row is None:
        return None
    events = conn.execute(
        "SELECT * FROM events WHERE session_id = ? AND site_id = ? ORDER BY ts, rowid",
        (session_id, row["site_id"]),
    ).fetchall()
    return {**paths.shown(row), "events": [event_dict(e) for e in causal_order(events)]}


