"""The touches of the sessions in scope, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

import itertools
import operator
import sqlite3
from typing import Any

import msgspec

from collector.query.journey import EVERYTHING, Reading, Touch
from collector.query.scope import Scope
from collector.store.sqlite.connection import tuples
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


# The fields of `data` a touch carries, as one JSON array [score, scale, rage, dead], read from the
# event's row for the few events that have them: surveys, and the site's rage and dead clicks from
# the start of the range on, gathered once off their own index (migration m028). Every other event
# is read from the session index alone, and its touch has none (NULL: no score, scale, rage, dead).
_DATA = "(SELECT json_array({}) FROM events d WHERE d.rowid = e.rowid)"
_EXTRA = (
    "CASE WHEN e.type = 'survey' THEN " + _DATA.format("d.data ->> '$.score', d.data ->> '$.scale', 0, 0")
    + " WHEN e.type = 'click' AND e.rowid IN (SELECT f.rowid FROM events f INDEXED BY events_friction"
    " WHERE f.site_id = ? AND f.ts >= ? AND f.type = 'click' AND (f.data ->> '$.rage' OR f.data ->> '$.dead'))"
    " THEN " + _DATA.format("NULL, NULL, coalesce(d.data ->> '$.rage', 0), coalesce(d.data ->> '$.dead', 0)")
    + " END"
)
_EXTRA_FIELDS = ("score", "scale", "rage", "dead")
_SCORE = Touch._fields.index("score")
assert Touch._fields[_SCORE:_SCORE + len(_EXTRA_FIELDS)] == _EXTRA_FIELDS
_extra_decoder = msgspec.json.Decoder(tuple[Any, Any, Any, Any])


def _columns(reading: Reading) -> dict[str, str | None]:
    """Each field of a Touch read as a column, or None where the reading does not look."""
    return {
        "visitor": "s.visitor_id", "session": "e.session_id", "session_start": "s.first_ts", "ts": "e.ts",
        "type": "e.type", "name": "e.name", "path": "e.path", "route": "e.route" if reading.route else None,
        "url": "e.url" if reading.url else None, "touchpoint": "e.touchpoint",
        "channel": "s.channel" if reading.channel else None, "has_replay": "s.has_replay",
        "device": "s.device" if reading.device else None,
    }


def touches(conn: sqlite3.Connection, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
    """The events of the sessions that started in scope, by person and time, with session facts."""
    where, args = scope_sql(scope)
    holding, holding_args = holding_sql(reading, scope)
    window, window_args = window_sql(reading)
    columns = _columns(reading)
    read = [sql for sql in columns.values() if sql is not None]
    # Every value read costs a Python object, NULLs too: the fields not read all take the one
    # NULL of the extra column (or its 0), and a Touch is put together from the row in C.
    extra, zero = len(read), len(read) + 1
    place = {field: read.index(sql) if sql is not None else extra for field, sql in columns.items()}
    fields = operator.itemgetter(*(place.get(f, zero if f in ("rage", "dead") else extra) for f in Touch._fields))
    rows = tuples(
        conn,
        f"SELECT {', '.join(read)}, {_EXTRA}, 0"
        # CROSS JOIN keeps the sessions in range outside, each one's events read from the session
        # index; left to itself the planner walks every event of the site, whatever the range.
        " FROM sessions s CROSS JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        # With a window the scope's sessions are read by their start: ordered by the visitor index,
        # SQLite would visit every session of the site to keep the few that hold the window.
        f" WHERE {where}{holding}{window} ORDER BY {'+' if holding else ''}s.visitor_id, e.ts, e.rowid",
        [scope.site_id, scope.start, *args, *holding_args, *window_args],
    )
    # Plain tuples made in C (has_replay, rage and dead as 0 and 1): a million dataclasses, or a
    # million calls of Touch._make, cost seconds.
    found = list(map(tuple.__new__, itertools.repeat(Touch), map(fields, rows)))
    unread = [Touch._fields.index(field) for field, sql in columns.items() if sql is None]
    for i in itertools.compress(itertools.count(), map(operator.itemgetter(extra), rows)):  # the few with data
        touch = list(found[i])
        for j in unread:
            touch[j] = None
        touch[_SCORE:_SCORE + len(_EXTRA_FIELDS)] = _extra_decoder.decode(rows[i][extra])
        found[i] = tuple.__new__(Touch, touch)
    return found
