"""Sessions on ClickHouse: the newest-first list with cursor pagination, and one session with its events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collector.query.definitions import day_of
from collector.query.scope import Scope
from collector.query.sessions import SORTS, causal_order, decode_cursor, encode_cursor
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES
from collector.store.clickhouse.transaction import Db
from collector.wire import object_decoder

SESSION_SELECT = ", ".join(f"s.{c}" for c in SESSION_NAMES)
EVENT_SELECT = ", ".join(f"e.{c}" for c in EVENT_NAMES)


def session_dict(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(SESSION_NAMES, row, strict=True))


def event_dict(row: Sequence[Any]) -> dict[str, Any]:
    """A stored event as the API shows it: its columns with its type-specific fields."""
    event = dict(zip(EVENT_NAMES, row, strict=True))
    data = object_decoder.decode(event.pop("data"))
    return {**event, **data}


def list_in_scope(
    db: Db, scope: Scope, *, limit: int = 50, cursor: str | None = None, sort: str = "time", descending: bool = True,
) -> dict[str, Any]:
    """A page of the scope's sessions (filters and segment applied) in the asked order, the total
    and the next cursor; the session id breaks ties, so a page boundary loses and repeats nothing."""
    where = scope_sql(db.layout, scope)
    column = SORTS[sort]
    before, direction = ("<", "DESC") if descending else (">", "ASC")
    after = "1"
    if cursor:
        value, session_id = decode_cursor(cursor, sort)
        after = f"(v.{column} {before} {lit(value)} OR (v.{column} = {lit(value)} AND v.id {before} {lit(session_id)}))"
    # The page's ids first, with the scope's total beside them, from the few columns the order and
    # the filters read; then those sessions' whole rows by key. Sorting whole rows (fifty columns
    # of every session in the range) to keep fifty cost more than both reads.
    found = db.rows(
        f"SELECT v.id, v.total FROM (SELECT s.id AS id, s.{column} AS {column}, count() OVER () AS total"
        f" FROM {sessions_in(db.layout)} WHERE {where}) AS v WHERE {after}"
        f" ORDER BY v.{column} {direction}, v.id {direction} LIMIT {int(limit) + 1}"
    )
    if found:
        total = found[0][1]
    else:  # no session after the cursor, or none at all: the total alone
        ((total,),) = db.rows(f"SELECT count() FROM {sessions_in(db.layout)} WHERE {where}") if cursor else ((0,),)
    ids = ", ".join(lit(session_id) for session_id, _ in found)
    rows = db.rows(
        f"SELECT {SESSION_SELECT} FROM {sessions_in(db.layout)} WHERE s.site_id = {lit(scope.site_id)}"
        f" AND s.id IN ({ids}) ORDER BY s.{column} {direction}, s.id {direction}"
    ) if found else []
    page = [session_dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return {
        "sessions": page,
        "total": int(total),
        "next": encode_cursor(page[-1][column], page[-1]["id"]) if more else None,
    }


def events_of(db: Db, site_id: str, where: str, *, causal: bool = False) -> list[dict[str, Any]]:
    """Events of a site matching `where` over `e`, in stored order (time, then arrival), or in
    the order they happened (collector/query/sessions.py causal_order)."""
    rows = db.rows(
        f"SELECT {EVENT_SELECT}, e.seq FROM {db.t('events')} AS e WHERE e.site_id = {lit(site_id)} AND ({where})"
        " ORDER BY e.ts, e.seq"
    )
    if causal:
        keyed = [{"ts": r[4], "client_ts": r[5], "type": r[3], "rowid": r[-1], "row": r} for r in rows]
        rows = [k["row"] for k in causal_order(keyed)]
    return [event_dict(r[:-1]) for r in rows]


def get_session(db: Db, session_id: str, site_id: str | None = None) -> dict[str, Any] | None:
    """One session with its events in order, or None."""
    clause = f"s.id = {lit(session_id)}" + (f" AND s.site_id = {lit(site_id)}" if site_id else "")
    rows = db.rows(f"SELECT {SESSION_SELECT} FROM {sessions_in(db.layout)} WHERE {clause} LIMIT 1")
    if not rows:
        return None
    session = session_dict(rows[0])
    where = f"{days_sql([session])} AND e.session_id = {lit(session_id)}"
    return {**session, "events": events_of(db, session["site_id"], where, causal=True)}


def days_sql(sessions: list[dict[str, Any]]) -> str:
    """True for an event `e` on a day that may hold these sessions' events: a session's events
    lie within its first and last times, so only those days of the events table are read."""
    days = sorted({d for s in sessions for d in range(day_of(s["first_ts"]), day_of(s["last_ts"]) + 1)})
    return f"e.day IN ({', '.join(map(str, days))})" if days else "0"

