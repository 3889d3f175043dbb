"""Funnels: ordered steps per visitor within a window, counted at each visitor's furthest step."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from itertools import repeat
from typing import Any

import msgspec
import numpy as np

from collector.errors import ClientError
from collector.query.funnel import Step, furthest_attempt  # noqa: F401 - tests import it here
from collector.query.funnel_columns import ColumnCount, Instants, Ints, column
from collector.query.scope import Scope
from collector.store.sqlite.connection import halved
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


def masks_by_type(steps: list[Step]) -> list[tuple[str, str, str | None, list[object], list[object]]]:
    """Per event type of the steps: SQL for an event `e`'s step mask (bit i: it is step i) and
    SQL true for an event that is some step (None: every event of the type), with their
    parameters. Read one type at a time, an event's type is never compared in SQL: at a few
    hundred thousand events each comparison costs a few per cent of the read."""
    by_type: dict[str, list[tuple[int, str | None, list[object]]]] = {}
    for i, step in enumerate(steps):
        by_type.setdefault(step.type, []).append((1 << i, *_beyond_type(step)))
    found: list[tuple[str, str, str | None, list[object], list[object]]] = []
    for kind, tests in by_type.items():
        always = sum(bit for bit, match, _ in tests if match is None)
        matched = [(bit, match, args) for bit, match, args in tests if match is not None]
        terms = [f"(CASE WHEN {match} THEN {bit} ELSE 0 END)" for bit, match, _ in matched]
        mask = " | ".join([*terms, str(always)] if always or not terms else terms)
        mask_args = [a for _, _, args in matched for a in args]
        if always:
            found.append((kind, mask, None, mask_args, []))
        else:
            found.append((kind, mask, " OR ".join(f"({match})" for _, match, _ in matched), mask_args, mask_args))
    return found


# Decoded once: the funnel's id columns arrive as one JSON array each (see `funnel`).
_IDS = msgspec.json.Decoder(list[str])


def funnel(conn: sqlite3.Connection, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions."""
    where, args = scope_sql(scope)
    # Each read answers in one row of aggregates, its columns as a JSON array of the ids
    # (exact for any string) and the numbers as text, in the same row order: handed over as
    # rows, the 433,000 rows cost more to make into Python tuples than SQLite takes to find them.
    # The scope's sessions come from the covering index sessions_visitors.
    ids: list[str] = []
    of_session: list[str] = []
    for session_ids, visitors in halved(
        conn, f"SELECT json_group_array(s.id), json_group_array(s.visitor_id) FROM sessions s WHERE {where}"
        " AND s.first_ts >= ? AND s.first_ts < ?", args, scope.start, scope.end,
    ):
        ids += _IDS.decode(session_ids)
        of_session += _IDS.decode(visitors)
    # Visitors numbered in order of appearance (`names[v]` is visitor v), each session's number
    # found through its visitor's last session: two dicts over the sessions and array lookups.
    last = dict(zip(of_session, range(len(of_session)), strict=True))
    names = list(last)
    number_at = np.full(len(ids), -1, dtype=np.int64)
    number_at[list(last.values())] = np.arange(len(names))
    visitor_of = number_at[column(map(last.__getitem__, of_session), len(ids))]
    position = dict(zip(ids, range(len(ids)), strict=True))
    # The step events of each type, read in one pass over the covering index
    # events_type_ts_session: every event of a session lies at or after the session's start, so
    # `ts >= start` loses none. Joining the sessions here instead would cost one index seek per
    # session. Each event's time and step mask come packed in one integer (the mask in the low
    # bits, fewer than 11).
    sessions: list[str] = []
    packed_texts: list[str] = []
    for kind, mask, match, mask_args, match_args in masks_by_type(steps):
        # The range's end, known, lets a read too long for one string be halved (connection.halved).
        latest = conn.execute("SELECT max(e.ts) FROM events e WHERE e.site_id = ? AND e.type = ?",
                              [scope.site_id, kind]).fetchone()[0]
        if latest is None or latest < scope.start:
            continue
        for events_json, packed_text in halved(
            conn, f"SELECT json_group_array(e.session_id), group_concat(e.ts << {len(steps)} | ({mask}), ' ')"
            " FROM events e WHERE e.site_id = ? AND e.type = ?" + (f" AND ({match})" if match else "")
            + " AND e.ts >= ? AND e.ts < ?",
            [*mask_args, scope.site_id, kind, *match_args], scope.start, latest + 1,
        ):
            sessions += _IDS.decode(events_json)
            if packed_text:  # NULL: none
                packed_texts.append(packed_text)
    at = column(map(position.get, sessions, repeat(-1)), len(sessions))  # -1: a session out of scope
    events = np.flatnonzero(at >= 0)
    visitor = visitor_of[at[events]]
    packed = np.fromstring(" ".join(packed_texts), dtype=np.int64, sep=" ")[events]
    instants = Instants(visitor, packed >> len(steps), packed & ((1 << len(steps)) - 1))
    count = ColumnCount(names, instants, len(steps), window_s)
    shown = [
        _dropped_sessions(conn, scope, j, count.shown(j), lambda name: int(number_at[last[name]]), instants,
                          sessions, events, packed, len(steps))
        for j in range(len(steps))
    ]
    return count.answer(steps, window_s, shown)


def _dropped_sessions(
    conn: sqlite3.Connection, scope: Scope, step: int, visitors: list[tuple[str, int]], number: Callable[[str], int],
    instants: Instants, sessions: list[str], events: Ints, packed: Ints, steps: int,
) -> list[dict[str, Any]]:
    """The session of each dropped visitor's last step event (the first by id of those at that
    instant), with its replay flag read in one query. `packed` holds the time and mask of the
    kept events, `events` their rows (`sessions[i]` is row i's session)."""
    found: dict[str, str] = {}
    for visitor, ts in visitors:
        mine = instants.events_of(number(visitor))
        last = mine[(packed[mine] >> steps == ts) & (packed[mine] >> step & 1 == 1)]
        found[visitor] = min(sessions[i] for i in events[last].tolist())
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
