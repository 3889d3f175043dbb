"""Funnels on ClickHouse: each visitor's step events as one array, counted by the shared rule."""

from __future__ import annotations

from typing import Any

from collector.errors import ClientError
from collector.query.funnel import Count, Step
from collector.query.scope import Scope
from collector.schema import EVENT_TYPES
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, url_match
from collector.store.clickhouse.transaction import Db


def step_clause(step: Step) -> str:
    """SQL true for an event `e` that is this step."""
    if step.type not in EVENT_TYPES:
        raise ClientError(400, f"unknown step type {step.type!r}; types are {', '.join(EVENT_TYPES)}")
    sql = f"e.type = {lit(step.type)}"
    if step.url is not None:
        sql += f" AND {url_match(step.url, 'e')}"
    if step.name is not None:
        sql += f" AND e.name = {lit(step.name)}"
    return f"({sql})"


def _scoped_events(db: Db, scope: Scope, types: list[str], where: str) -> str:
    """FROM ... WHERE over the scope's sessions `s` joined to their events `e` of some types."""
    return (
        f" FROM {db.t('events')} AS e INNER JOIN (SELECT s.id, s.visitor_id, s.has_replay"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s ON e.session_id = s.id"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.type IN {lits(types)} AND ({where})"
    )


def funnel(db: Db, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions.

    The furthest-attempt rule (collector/query/funnel.py) is applied to each visitor's array of
    (time, step mask): windowFunnel counts one attempt per visitor and gives no step times.
    """
    clauses = [step_clause(step) for step in steps]
    mask = " + ".join(f"if({sql}, {1 << i}, 0)" for i, sql in enumerate(clauses))
    types = sorted({step.type for step in steps})
    rows = db.rows(
        f"SELECT s.visitor_id, groupArray((e.ts, {mask}))"
        f"{_scoped_events(db, scope, types, ' OR '.join(clauses))} GROUP BY s.visitor_id"
    )
    count = Count({visitor: [(int(ts), int(m)) for ts, m in events] for visitor, events in rows}, len(steps), window_s)
    shown = [_dropped_sessions(db, scope, clauses[j], step.type, count.shown(j)) for j, step in enumerate(steps)]
    return count.answer(steps, window_s, shown)


def _dropped_sessions(
    db: Db, scope: Scope, clause: str, kind: str, visitors: list[tuple[str, int]]
) -> list[dict[str, Any]]:
    """The session of each dropped visitor's last step event, found again by its time."""
    if not visitors:
        return []
    pairs = ", ".join(f"({lit(v)}, {lit(ts)})" for v, ts in visitors)
    rows = db.rows(
        f"SELECT s.visitor_id, e.ts, min(s.id), argMin(s.has_replay, s.id)"
        f"{_scoped_events(db, scope, [kind], clause)} AND (s.visitor_id, e.ts) IN ({pairs})"
        " GROUP BY s.visitor_id, e.ts"
    )
    return [{"id": sid, "visitor_id": visitor, "has_replay": bool(replay)} for visitor, _ts, sid, replay in rows]
