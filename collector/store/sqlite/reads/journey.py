"""The touches of the sessions in scope, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

import sqlite3

from collector.query.journey import EVERYTHING, Reading, Touch
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import scope_sql


def _kept(
    reading: Reading, bounds: tuple[str, str], goal: str, named: str, goal_args: list[object],
) -> tuple[str, list[object]]:
    """An AND clause true inside the reading's window (`bounds`: SQL for its start and its end,
    one ? each) or for the goal's events (`goal`: SQL whose last ? is the type, `{name}` where
    `named` goes when the goal names one); empty when the reading has no window."""
    inside: list[str] = []
    args: list[object] = []
    for condition, value in zip(bounds, (reading.since, reading.before), strict=True):
        if value is not None:
            inside.append(condition)
            args.append(value)
    if not inside:
        return "", []
    sql = " AND ".join(inside)
    if reading.goal_type is not None:
        name = [] if reading.goal_name is None else [reading.goal_name]
        sql = f"({sql} OR {goal.format(name=named if name else '')})"
        args += [*goal_args, reading.goal_type, *name]
    return f" AND {sql}", args


def window_sql(reading: Reading) -> tuple[str, list[object]]:
    """The events of a session that a reading keeps, as an AND clause over `e` (empty: all)."""
    return _kept(reading, ("e.ts >= ?", "e.ts < ?"), "(e.type = ?{name})", " AND e.name = ?", [])


def holding_sql(reading: Reading, scope: Scope) -> tuple[str, list[object]]:
    """The sessions that can hold an event the reading keeps, as an AND clause over `s` (empty:
    all): one with an event in the window began before its end and ended at or after its start
    (a session's events lie between its first_ts and last_ts); with the goal's events, also those
    that hold one, found off the type's index. The others' events are never looked up: each
    session costs a seek into the events index, most of the read when the window holds few."""
    goal = "s.id IN (SELECT g.session_id FROM events g WHERE g.site_id = ? AND g.ts >= ? AND g.type = ?{name})"
    return _kept(reading, ("s.last_ts >= ?", "s.first_ts < ?"), goal, " AND g.name = ?", [scope.site_id, scope.start])


# A field of an event's `data`, looked up in its row: only for the few events that have it, so that
# every other event is read from the session index alone (migration m028).
_DATA = "(SELECT d.data ->> '$.{}' FROM events d WHERE d.rowid = e.rowid)"
# The site's rage and dead clicks from the start of the range on, gathered once off their own index
# (migration m028): any other click is neither.
_FRICTION = (
    "e.type = 'click' AND e.rowid IN (SELECT f.rowid FROM events f INDEXED BY events_friction"
    " WHERE f.site_id = ? AND f.ts >= ? AND f.type = 'click' AND (f.data ->> '$.rage' OR f.data ->> '$.dead'))"
)


def touches(conn: sqlite3.Connection, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
    """The events of the sessions that started in scope, by person and time, with session facts."""
    where, args = scope_sql(scope)
    holding, holding_args = holding_sql(reading, scope)
    window, window_args = window_sql(reading)
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: a sqlite3.Row per event costs a second at a million
    rows = cursor.execute(
        "SELECT s.visitor_id, e.session_id, s.first_ts, e.ts, e.type, e.name, e.path,"
        f" {'e.route' if reading.route else 'NULL'}, {'e.url' if reading.url else 'NULL'},"
        f" e.touchpoint, {'s.channel' if reading.channel else 'NULL'}, s.has_replay,"
        f" CASE WHEN e.type = 'survey' THEN {_DATA.format('score')} END,"
        f" CASE WHEN e.type = 'survey' THEN {_DATA.format('scale')} END,"
        f" CASE WHEN {_FRICTION} THEN coalesce({_DATA.format('rage')}, 0) ELSE 0 END,"
        f" CASE WHEN {_FRICTION} THEN coalesce({_DATA.format('dead')}, 0) ELSE 0 END,"
        f" {'s.device' if reading.device else 'NULL'}"
        # CROSS JOIN keeps the sessions in range outside, each one's events read from the session
        # index; left to itself the planner walks every event of the site, whatever the range.
        " FROM sessions s CROSS JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        # With a window the scope's sessions are read by their start: ordered by the visitor index,
        # SQLite would visit every session of the site to keep the few that hold the window.
        f" WHERE {where}{holding}{window} ORDER BY {'+' if holding else ''}s.visitor_id, e.ts, e.rowid",
        [*([scope.site_id, scope.start] * 2), *args, *holding_args, *window_args],
    )
    # Plain tuples made in C (has_replay, rage and dead as 0 and 1): a million dataclasses cost seconds.
    return list(map(Touch._make, rows))
