"""Sessions on ClickHouse: the newest-first list with cursor pagination, and one session with its events."""

from __future__ import annotations

from typing import Any

import msgspec

from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import filters_sql, sessions_in
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES
from collector.store.clickhouse.transaction import Db
from collector.store.sqlite.reads.sessions import decode_cursor, encode_cursor

SESSION_SELECT = ", ".join(f"s.{c}" for c in SESSION_NAMES)
EVENT_SELECT = ", ".join(f"e.{c}" for c in EVENT_NAMES)
_decode_data = msgspec.json.Decoder(dict[str, Any])


def session_dict(row: list[Any]) -> dict[str, Any]:
    return dict(zip(SESSION_NAMES, row, strict=True))


def event_dict(row: list[Any]) -> dict[str, Any]:
    """A stored event as the API shows it: its columns with its type-specific fields."""
    event = dict(zip(EVENT_NAMES, row, strict=True))
    data = _decode_data.decode(event.pop("data"))
    return {**event, **data}


def list_in_scope(db: Db, scope: Scope, *, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the scope's sessions (filters and segment applied), newest first."""
    clauses = [
        f"s.site_id = {lit(scope.site_id)}", f"s.first_ts >= {lit(scope.start)}", f"s.first_ts < {lit(scope.end)}",
        *filters_sql(db.layout, scope.site_id, scope.filters, scope.goal),
    ]
    if not scope.include_bots:
        clauses.append("s.is_bot = 0")
    if cursor:
        ts, session_id = decode_cursor(cursor)
        clauses.append(f"(s.first_ts < {lit(ts)} OR (s.first_ts = {lit(ts)} AND s.id < {lit(session_id)}))")
    rows = db.rows(
        f"SELECT {SESSION_SELECT} FROM {sessions_in(db.layout)} WHERE {' AND '.join(clauses)}"
        f" ORDER BY s.first_ts DESC, s.id DESC LIMIT {int(limit) + 1}"
    )
    page = [session_dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {
        "sessions": page,
        "next": encode_cursor(page[-1]["first_ts"], page[-1]["id"]) if more else None,
    }


def events_of(db: Db, site_id: str, where: str) -> list[dict[str, Any]]:
    """Events of a site matching `where` over `e`, in stored order (time, then arrival)."""
    rows = db.rows(
        f"SELECT {EVENT_SELECT} FROM {db.t('events')} AS e WHERE e.site_id = {lit(site_id)} AND ({where})"
        " ORDER BY e.ts, e.seq"
    )
    return [event_dict(r) for r in rows]


def get_session(db: Db, session_id: str, site_id: str | None = None) -> dict[str, Any] | None:
    """One session with its events in order, or None."""
    clause = f"s.id = {lit(session_id)}" + (f" AND s.site_id = {lit(site_id)}" if site_id else "")
    rows = db.rows(f"SELECT {SESSION_SELECT} FROM {sessions_in(db.layout)} WHERE {clause} LIMIT 1")
    if not rows:
        return None
    session = session_dict(rows[0])
    return {**session, "events": events_of(db, session["site_id"], f"e.session_id = {lit(session_id)}")}
