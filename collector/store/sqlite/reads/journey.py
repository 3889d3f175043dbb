"""The touches of the sessions in scope, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

import sqlite3

from collector.query.journey import EVERYTHING, Reading, Touch
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import scope_sql


def window_sql(reading: Reading) -> tuple[str, list[object]]:
    """The events of a session that a reading keeps, as an AND clause over `e` (empty: all)."""
    inside: list[str] = []
    args: list[object] = []
    for condition, value in (("e.ts >= ?", reading.since), ("e.ts < ?", reading.before)):
        if value is not None:
            inside.append(condition)
            args.append(value)
    if not inside:
        return "", []
    sql = " AND ".join(inside)
    if reading.goal_type is not None:
        goal = "e.type = ?" + (" AND e.name = ?" if reading.goal_name is not None else "")
        args += [reading.goal_type] + ([reading.goal_name] if reading.goal_name is not None else [])
        sql = f"({sql} OR {goal})"
    return f" AND {sql}", args


def holding_sql(reading: Reading, scope: Scope) -> tuple[str, list[object]]:
    """The sessions that can hold an event the reading keeps, as an AND clause over `s` (empty:
    all): one with an event in the window began before its end and ended at or after its start
    (a session's events lie between its first_ts and last_ts); with the goal's events, also those
    that hold one, found off the type's index. The others' events are never looked up: each
    session costs a seek into the events index, most of the read when the window holds few."""
    inside: list[str] = []
    args: list[object] = []
    for condition, value in (("s.last_ts >= ?", reading.since), ("s.first_ts < ?", reading.before)):
        if value is not None:
            inside.append(condition)
            args.append(value)
    if not inside:
        return "", []
    sql = " AND ".join(inside)
    if reading.goal_type is not None:
        goal = ("s.id IN (SELECT g.session_id FROM events g WHERE g.site_id = ? AND g.type = ? AND g.ts >= ?"
                + (" AND g.name = ?" if reading.goal_name is not None else "") + ")")
        args += [scope.site_id, reading.goal_type, scope.start]
        args += [reading.goal_name] if reading.goal_name is not None else []
        sql = f"({sql} OR {goal})"
    return f" AND {sql}", args


def touches(conn: sqlite3.Connection, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
    """The events of the sessions that started in scope, by person and time, with session facts."""
    where, args = scope_sql(scope)
    holding, holding_args = holding_sql(reading, scope)
    window, window_args = window_sql(reading)
    rows = conn.execute(
        "SELECT s.visitor_id, e.session_id, s.first_ts, e.ts, e.type, e.name, e.path,"
        f" {'e.route' if reading.route else 'NULL'}, {'e.url' if reading.url else 'NULL'},"
        f" e.touchpoint, {'s.channel' if reading.channel else 'NULL'}, s.has_replay,"
        " CASE WHEN e.type = 'survey' THEN e.data ->> '$.score' END,"
        " CASE WHEN e.type = 'survey' THEN e.data ->> '$.scale' END,"
        " CASE WHEN e.type = 'click' THEN coalesce(e.data ->> '$.rage', 0) ELSE 0 END,"
        " CASE WHEN e.type = 'click' THEN coalesce(e.data ->> '$.dead', 0) ELSE 0 END,"
        f" {'s.device' if reading.device else 'NULL'}"
        # CROSS JOIN keeps the sessions in range outside, each one's events read from the session
        # index; left to itself the planner walks every event of the site, whatever the range.
        " FROM sessions s CROSS JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        # With a window the scope's sessions are read by their start: ordered by the visitor index,
        # SQLite would visit every session of the site to keep the few that hold the window.
        f" WHERE {where}{holding}{window} ORDER BY {'+' if holding else ''}s.visitor_id, e.ts, e.rowid",
        [*args, *holding_args, *window_args],
    )
    # Plain tuples made in C (has_replay, rage and dead as 0 and 1): a million dataclasses cost seconds.
    return list(map(Touch._make, rows))
