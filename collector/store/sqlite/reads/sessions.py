"""Sessions: the newest-first list with cursor pagination, and one session with its events."""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

import msgspec

from collector.errors import ClientError
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import filters_sql

# The session column each `sort` of /api/sessions (query/params.py SESSION_SORTS) orders by.
SORTS = {"time": "first_ts", "duration": "duration_ms", "pages": "pageviews", "revenue": "revenue"}


def encode_cursor(value: float, session_id: str) -> str:
    return base64.urlsafe_b64encode(f"{value!r}:{session_id}".encode()).decode()


def decode_cursor(cursor: str, sort: str = "time") -> tuple[float, str]:
    try:
        text, _, session_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return (float(text) if sort == "revenue" else int(text)), session_id
    except (ValueError, UnicodeDecodeError):
        raise ClientError(400, "bad cursor: pass back `next` with the sort and order it came from") from None


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
        clauses.append("s.is_bot = 0")
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
    page = [dict(r) for r in rows[:limit]]
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
    data = msgspec.json.decode(event.pop("data"))
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
    return {**dict(row), "events": [event_dict(e) for e in causal_order(events)]}


# Two batches of one browser get clock offsets (received_at - sent_at) that differ by their
# network delays; offsets closer than this are taken as one clock.
SAME_CLOCK_MS = 2_000
# On one client millisecond a cause comes first: the click (held by the SDK until it knows
# whether the click was dead, so sent after) before the cart add its handler made.
CAUSE_RANK = {"pageview": 0, "click": 1, "page_leave": 3}


def causal_order(events: list[sqlite3.Row]) -> list[sqlite3.Row]:
    """Events in the order they happened: by time on one offset per client clock, causes first.

    The stored `ts` is each batch's client time moved by that batch's own offset, so a cart add
    sent at once and its click sent a second later can swap by a few milliseconds. Events whose
    offsets agree within SAME_CLOCK_MS share the offset of the first of them, which keeps one
    client's own order (its `client_ts`) while events of another clock (a backend) stay where
    their corrected time puts them.
    """
    clocks: list[int] = []
    keyed = []
    for event in events:
        offset = event["ts"] - event["client_ts"]
        base = next((c for c in clocks if abs(c - offset) <= SAME_CLOCK_MS), None)
        if base is None:
            clocks.append(offset)
            base = offset
        keyed.append(((event["client_ts"] + base, CAUSE_RANK.get(event["type"], 2), event["rowid"]), event))
    return [event for _, event in sorted(keyed, key=lambda pair: pair[0])]
