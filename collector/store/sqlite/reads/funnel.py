"""Funnels: ordered steps per visitor within a window, counted at each visitor's furthest step."""

from __future__ import annotations

import sqlite3
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from collector.errors import ClientError
from collector.query.funnel import Step, furthest_attempt  # noqa: F401 - tests import it here
from collector.query.funnel_columns import ColumnCount, Instants, column
from collector.query.scope import Scope
from collector.store.sqlite.connection import tuples
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import scope_sql
from collector.wire import EVENT_TYPES


def step_clause(step: Step) -> tuple[str, list[object]]:
    """SQL true for an event `e` that is this step."""
    if step.type not in EVENT_TYPES:
        raise ClientError(400, f"unknown step type {step.type!r}; types are {', '.join(EVENT_TYPES)}")
    sql, args = "e.type = ?", list[object]([step.type])
    if step.url is not None:
        match, match_args = url_match(step.url, "e")
        sql, args = f"{sql} AND {match}", args + match_args
    if step.name is not None:
        sql, args = f"{sql} AND e.name = ?", args + [step.name]
    return f"({sql})", args


def funnel(conn: sqlite3.Connection, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions."""
    clauses = [step_clause(step) for step in steps]
    mask_sql = " | ".join(f"(CASE WHEN {sql} THEN {1 << i} ELSE 0 END)" for i, (sql, _) in enumerate(clauses))
    mask_args = [a for _, args in clauses for a in args]
    where, args = scope_sql(scope)
    # The scope's sessions, from the covering index sessions_visitors. Visitors are numbered in
    # the order of their ids, so that the dropped visitors, listed by number, come in the order
    # the answer shows them. Built from columns with C-level maps: at a hundred thousand
    # sessions a Python loop here costs more than the read.
    sessions = tuples(conn, f"SELECT s.id, s.visitor_id FROM sessions s WHERE {where}", args)
    names = sorted(set(map(itemgetter(1), sessions)))
    number = dict(zip(names, range(len(names)), strict=True))
    visitor_of = dict(zip(map(itemgetter(0), sessions), map(number.__getitem__, map(itemgetter(1), sessions)),
                          strict=True))
    any_step = " OR ".join(sql for sql, _ in clauses)
    types = sorted({step.type for step in steps})
    # The step events, read in one pass over the covering index events_type_ts_session: every
    # event of a session lies at or after the session's start, so `ts >= start` loses none.
    # Joining the sessions here instead would cost one index seek per session.
    rows = tuples(
        conn,
        f"SELECT e.session_id, e.ts, {mask_sql} FROM events e WHERE e.site_id = ?"
        f" AND e.type IN ({', '.join('?' for _ in types)}) AND e.ts >= ? AND ({any_step})",
        [*mask_args, scope.site_id, *types, scope.start, *mask_args],
    )
    visitor = column(map(visitor_of.get, map(itemgetter(0), rows), repeat(-1)), len(rows))
    kept = visitor >= 0
    events = np.flatnonzero(kept)
    instants = Instants(visitor[kept], column(map(itemgetter(1), rows), len(rows))[kept],
                        column(map(itemgetter(2), rows), len(rows))[kept])
    count = ColumnCount(names, instants, len(steps), window_s)
    shown = [
        _dropped_sessions(conn, scope, j, count.shown(j), number, instants, events, rows)
        for j in range(len(steps))
    ]
    return count.answer(steps, window_s, shown)


def _dropped_sessions(
    conn: sqlite3.Connection, scope: Scope, step: int, visitors: list[tuple[str, int]], number: dict[str, int],
    instants: Instants, events: Any, rows: list[tuple[str, int, int]],
) -> list[dict[str, Any]]:
    """The session of each dropped visitor's last step event (the first by id of those at that
    instant), with its replay flag read in one query."""
    found: dict[str, str] = {}
    for visitor, ts in visitors:
        mine = (rows[i] for i in events[instants.events_of(number[visitor])].tolist())
        found[visitor] = min(session_id for session_id, at, mask in mine if at == ts and mask >> step & 1)
    if not found:
        return []
    ids = sorted(set(found.values()))
    replay = dict(conn.execute(
        f"SELECT id, has_replay FROM sessions WHERE site_id = ? AND id IN ({', '.join('?' for _ in ids)})",
        [scope.site_id, *ids],
    ).fetchall())
    return sorted(
        ({"id": session_id, "visitor_id": visitor, "has_replay": bool(replay[session_id])}
         for visitor, session_id in found.items()),
        key=lambda d: (d["id"], d["visitor_id"]),
    )
