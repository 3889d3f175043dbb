"""Funnels: ordered steps per visitor within a window, counted at each visitor's furthest step."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from collector.errors import ClientError
from collector.query.funnel import Count, Step, furthest_attempt  # noqa: F401 - tests import it here
from collector.query.scope import Scope
from collector.schema import EVENT_TYPES
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import scope_sql


def step_clause(step: Step) -> tuple[str, list[object]]:
    """SQL true for an event `e` that is this step."""
    if step.type not in EVENT_TYPES:
        raise ClientError(400, f"unknown step type {step.type!r}; types are {', '.join(EVENT_TYPES)}")
    sql, args = "e.type = ?", [step.type]
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
    any_step = " OR ".join(sql for sql, _ in clauses)
    types = sorted({step.type for step in steps})
    # Few, narrow rows: their count is what this query costs. The type list lets the index
    # seek each session's events of those types only.
    rows = conn.execute(
        f"SELECT s.visitor_id, e.ts, {mask_sql}"
        " FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        f" AND e.type IN ({', '.join('?' for _ in types)})"
        f" WHERE {where} AND ({any_step})",
        [*mask_args, *types, *args, *mask_args],
    )
    by_visitor: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for visitor, ts, mask in rows:
        by_visitor[visitor].append((ts, mask))
    count = Count(by_visitor, len(steps), window_s)
    shown = [_dropped_sessions(conn, scope, clauses[j], count.shown(j)) for j in range(len(steps))]
    return count.answer(steps, window_s, shown)


def _dropped_sessions(
    conn: sqlite3.Connection, scope: Scope, clause: tuple[str, list[object]],
    visitors: list[tuple[str, int]],
) -> list[dict[str, Any]]:
    """The session of each dropped visitor's last step event, found again by its time."""
    sql, args = clause
    where, scope_args = scope_sql(scope)
    found = []
    for visitor, ts in visitors:
        row = conn.execute(
            "SELECT s.id, s.has_replay FROM sessions s JOIN events e"
            " ON e.site_id = s.site_id AND e.session_id = s.id"
            f" WHERE {where} AND s.visitor_id = ? AND e.ts = ? AND {sql} LIMIT 1",
            [*scope_args, visitor, ts, *args],
        ).fetchone()
        if row is not None:
            found.append({"id": row[0], "visitor_id": visitor, "has_replay": bool(row[1])})
    return found
