"""Funnels on ClickHouse: each visitor's step events as one array, counted by the shared rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from collector.errors import ClientError
from collector.query.funnel import Step
from collector.query.funnel_columns import ColumnCount, Instants, columns
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db
from collector.wire import EVENT_TYPES


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
        f" WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)} AND e.type IN {lits(types)}"
        f" AND ({where})"
    )


def funnel(db: Db, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions.

    The furthest-attempt rule (collector/query/funnel.py) is applied to each visitor's array of
    (time, step mask): windowFunnel counts one attempt per visitor and gives no step times. The
    events come back as one row of columns (visitor numbers from the grouping), so no Python runs
    per event; each also names its session, so a dropped visitor's session is found in the same
    answer.
    """
    clauses = [step_clause(step) for step in steps]
    mask = " + ".join(f"if({sql}, {1 << i}, 0)" for i, sql in enumerate(clauses))
    types = sorted({step.type for step in steps})
    by_visitor = (
        f"SELECT s.visitor_id AS visitor, groupArray(e.ts) AS ts, groupArray(toInt64({mask})) AS masks,"
        f" groupArray(s.id) AS sessions, groupArray(s.has_replay) AS replays"
        f"{_scoped_events(db, scope, types, ' OR '.join(clauses))} GROUP BY s.visitor_id"
    )
    ((names, counts, ts, masks, sessions, replays),) = db.rows(
        f"SELECT groupArray(visitor), groupArray(length(ts)), arrayFlatten(groupArray(ts)),"
        f" arrayFlatten(groupArray(masks)), arrayFlatten(groupArray(sessions)),"
        f" arrayFlatten(groupArray(replays)) FROM ({by_visitor})"
    )
    visitor = np.repeat(np.arange(len(names), dtype=np.int64), columns(counts))
    instants = Instants(visitor, columns(ts), columns(masks))
    count = ColumnCount(names, instants, len(steps), window_s)
    number = {name: n for n, name in enumerate(names)}
    shown = []
    for j in range(len(steps)):
        found = []
        for name, at in count.shown(j):
            # The session of the visitor's step-j event at that time (the least id if two).
            sid, replay = min(
                (sessions[i], replays[i]) for i in instants.events_of(number[name]).tolist()
                if ts[i] == at and masks[i] >> j & 1
            )
            found.append({"id": sid, "visitor_id": name, "has_replay": bool(replay)})
        shown.append(found)
    return count.answer(steps, window_s, shown)
