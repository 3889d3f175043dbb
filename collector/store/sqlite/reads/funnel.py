"""Funnels: ordered steps per visitor within a window, counted at each visitor's furthest step."""

from __future__ import annotations

import sqlite3
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np

from collector.errors import ClientError
from collector.query.funnel import Step, furthest_attempt  # noqa: F401 - tests import it here
from collector.query.funnel_columns import ColumnCount, Instants, Ints, column
from collector.query.scope import Scope
from collector.store.sqlite.connection import tuples
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import scope_sql
from collector.wire import EVENT_TYPES


def _beyond_type(step: Step) -> tuple[str | None, list[object]]:
    """SQL true for an event `e` of the step's type that is this step (None: every such event)."""
    if step.type not in EVENT_TYPES:
        raise ClientError(400, f"unknown step type {step.type!r}; types are {', '.join(EVENT_TYPES)}")
    parts: list[str] = []
    args: list[object] = []
    if step.url is not None:
        match, match_args = url_match(step.url, "e")
        parts.append(match)
        args += match_args
    if step.name is not None:
        parts.append("e.name = ?")
        args.append(step.name)
    return (" AND ".join(parts) or None), args


def step_clause(step: Step) -> tuple[str, list[object]]:
    """SQL true for an event `e` that is this step."""
    sql, args = _beyond_type(step)
    return (f"(e.type = ? AND {sql})" if sql else "(e.type = ?)"), [step.type, *args]


def mask_sql(steps: list[Step]) -> tuple[str, list[object]]:
    """SQL for an event `e`'s step mask (bit i: it is step i), its type compared once: at a few
    hundred thousand events, comparing it again in each step's test costs a tenth of the read."""
    by_type: dict[str, list[tuple[int, str | None, list[object]]]] = {}
    for i, step in enumerate(steps):
        by_type.setdefault(step.type, []).append((1 << i, *_beyond_type(step)))
    sql, args = "CASE e.type", list[object]()
    for kind, tests in by_type.items():
        always = sum(bit for bit, match, _ in tests if match is None)
        terms = [f"(CASE WHEN {match} THEN {bit} ELSE 0 END)" for bit, match, _ in tests if match is not None]
        sql += " WHEN ? THEN " + " | ".join([*terms, str(always)] if always or not terms else terms)
        args += [kind, *(a for _, match, match_args in tests if match is not None for a in match_args)]
    return f"{sql} ELSE 0 END", args


def funnel(conn: sqlite3.Connection, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions."""
    clauses = [step_clause(step) for step in steps]
    where, args = scope_sql(scope)
    # The scope's sessions, from the covering index sessions_visitors, each visitor numbered in
    # order of appearance. Built with C-level maps: at a hundred thousand sessions a Python loop
    # here costs more than the read.
    sessions = tuples(conn, f"SELECT s.id, s.visitor_id FROM sessions s WHERE {where}", args)
    names = list(dict.fromkeys(map(itemgetter(1), sessions)))
    number = dict(zip(names, range(len(names)), strict=True))
    visitor_of = dict(zip(map(itemgetter(0), sessions), map(number.__getitem__, map(itemgetter(1), sessions)),
                          strict=True))
    types = sorted({step.type for step in steps})
    mask, mask_args = mask_sql(steps)
    # The step events, read in one pass over the covering index events_type_ts_session: every
    # event of a session lies at or after the session's start, so `ts >= start` loses none.
    # Joining the sessions here instead would cost one index seek per session. Each event's
    # time and step mask come packed in one integer (the mask in the low bits, fewer than 11),
    # one column fewer to carry per row.
    rows = tuples(
        conn,
        f"SELECT e.session_id, e.ts << {len(steps)} | ({mask}) FROM events e WHERE e.site_id = ?"
        f" AND e.type IN ({', '.join('?' for _ in types)}) AND e.ts >= ?"
        f" AND ({' OR '.join(sql for sql, _ in clauses)})",
        [*mask_args, scope.site_id, *types, scope.start, *(a for _, args in clauses for a in args)],
    )
    visitor = column(map(visitor_of.get, map(itemgetter(0), rows), repeat(-1)), len(rows))
    kept = visitor >= 0
    events = np.flatnonzero(kept)
    packed = column(map(itemgetter(1), rows), len(rows))[kept]
    instants = Instants(visitor[kept], packed >> len(steps), packed & ((1 << len(steps)) - 1))
    count = ColumnCount(names, instants, len(steps), window_s)
    shown = [
        _dropped_sessions(conn, scope, j, count.shown(j), number, instants, rows, events, packed, len(steps))
        for j in range(len(steps))
    ]
    return count.answer(steps, window_s, shown)


def _dropped_sessions(
    conn: sqlite3.Connection, scope: Scope, step: int, visitors: list[tuple[str, int]], number: dict[str, int],
    instants: Instants, rows: list[tuple[str, int]], events: Ints, packed: Ints, steps: int,
) -> list[dict[str, Any]]:
    """The session of each dropped visitor's last step event (the first by id of those at that
    instant), with its replay flag read in one query. `packed` holds the time and mask of the
    kept events, `events` their rows."""
    found: dict[str, str] = {}
    for visitor, ts in visitors:
        mine = instants.events_of(number[visitor])
        last = mine[(packed[mine] >> steps == ts) & (packed[mine] >> step & 1 == 1)]
        found[visitor] = min(rows[i][0] for i in events[last].tolist())
    if not found:
        return []
    ids = sorted(set(found.values()))
    # By the index sessions_key: with the site first, SQLite would walk all of the site's sessions
    # looking for these few.
    replay = dict(conn.execute(
        f"SELECT id, has_replay FROM sessions INDEXED BY sessions_key"
        f" WHERE id IN ({', '.join('?' for _ in ids)}) AND site_id = ?",
        [*ids, scope.site_id],
    ).fetchall())
    return sorted(
        ({"id": session_id, "visitor_id": visitor, "has_replay": bool(replay[session_id])}
         for visitor, session_id in found.items()),
        key=lambda d: (d["id"], d["visitor_id"]),
    )
