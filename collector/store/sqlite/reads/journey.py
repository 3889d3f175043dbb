"""The touches of the sessions in scope: as rows (`touches`, what the likely-outcome model and the
definition in query/journey.py read), and as columns (`columns`, what the journey map counts with
numpy in query/journey_columns.py)."""

from __future__ import annotations

import itertools
import math
import operator
import sqlite3
from collections.abc import Iterable
from typing import Any

import msgspec
import numpy as np

from collector.query import journey as walk
from collector.query import journey_columns
from collector.query.bulk import gc_paused
from collector.query.journey import EVERYTHING, Reading, Stages, Touch
from collector.query.journey_columns import Coded, Sessions, Touches, coded
from collector.query.scope import Scope
from collector.store.sqlite import touches as packed
from collector.store.sqlite.connection import halved, tuples
from collector.store.sqlite.reads.scope import scope_sql
from collector.wire import EVENT_TYPES


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


# The fields of `data` a touch carries, as one JSON array [rowid, score, scale, rage, dead], read from the
# event's row for the few events that have them: surveys, and the site's rage and dead clicks from
# the start of the range on, gathered once off their own index (migration m028). Every other event
# is read from the session index alone, and its touch has none (NULL: no score, scale, rage, dead).
_DATA = "(SELECT json_array(d.rowid, {}) FROM events d WHERE d.rowid = e.rowid)"
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
Extra = tuple[int, Any, Any, Any, Any]  # the event's rowid, then the fields
_extra_decoder = msgspec.json.Decoder(Extra)


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
        touch[_SCORE:_SCORE + len(_EXTRA_FIELDS)] = _extra_decoder.decode(rows[i][extra])[1:]
        found[i] = tuple.__new__(Touch, touch)
    return found


def journey_map(conn: sqlite3.Connection, scope: Scope, stages: Stages) -> dict[str, Any]:
    """The map, counted over the touches as columns (query/journey_columns.py); walked over the
    touches as rows where a stored value holds a separator of the columns' text."""
    reading = walk.reading_of(stages)
    with gc_paused():
        found = kept(conn, scope, reading) or columns(conn, scope, reading)
        if found is None:
            return walk.journey_map(stages, touches(conn, scope, reading))
        return walk.figures(stages, *journey_columns.tally(stages, found))


_SEP = "\x1f"  # char(31), between the texts of a column: None where a value holds it
_FIRST_TYPE = 65  # an event type as one character, 'A' for EVENT_TYPES[0]
_TYPE = ("CASE e.type " + " ".join(f"WHEN '{kind}' THEN '{chr(_FIRST_TYPE + i)}'" for i, kind in enumerate(EVENT_TYPES))
         + " END")  # an unknown type is NULL, left out of the text: its length tells


Column = tuple[str, str, str, str]  # name, SQL per session, SQL joining the sessions' values, their separator


def _session_columns(reading: Reading) -> list[Column]:
    """The sessions' facts the map reads, as (name, SQL per session, SQL joining them, separator)."""
    return [
        ("visitor", "s.visitor_id", "group_concat(visitor, char(31))", _SEP),
        ("id", "s.id", "group_concat(id, char(31))", _SEP),
        ("start", "s.first_ts", "group_concat(start)", ","),
        ("replay", "s.has_replay", "group_concat(replay, '')", ""),
        *([("channel", "coalesce(s.channel, '')", "group_concat(channel, char(31))", _SEP)] if reading.channel else []),
    ]


def _aggregated(
    conn: sqlite3.Connection, read: list[Column], body: str, args: list[object], scope: Scope,
) -> list[tuple[Any, ...]]:
    """The row of aggregates of `read` over the sessions `body` (FROM ... WHERE, ending with the
    range's two parameters) gives, in parts if one row would pass SQLite's longest value."""
    return halved(
        conn,
        f"SELECT {', '.join(outer for _, _, outer, _ in read)} FROM (SELECT"
        f" {', '.join(f'{inner} AS {name}' for name, inner, _, _ in read)} {body})",
        args, scope.start, scope.end,
    )


def _texts(parts: list[tuple[Any, ...]], read: list[Column]) -> dict[str, str]:
    """The texts of the first columns of the parts, joined."""
    return {name: sep.join(part[i] for part in parts if part[i] is not None)
            for i, (name, _, _, sep) in enumerate(read)}


def _sessions(text: dict[str, str], reading: Reading) -> Sessions | None:
    """The sessions' facts from their joined texts (`_session_columns`); None when a value holds
    the texts' separator, so that they no longer split into one value per session."""
    ids = text["id"].split(_SEP)
    visitors = text["visitor"].split(_SEP)
    replay = np.frombuffer(text["replay"].encode("ascii"), dtype=np.uint8) == ord("1")
    channels = text["channel"].split(_SEP) if reading.channel else None
    if len(visitors) != len(ids) or len(replay) != len(ids) or (channels is not None and len(channels) != len(ids)):
        return None
    return Sessions(ids, coded(visitors), np.fromstring(text["start"], dtype=np.int64, sep=","), replay,
                    coded(channels) if channels is not None else None)


def _extras(conn: sqlite3.Connection, scope: Scope, where: str, args: list[object]) -> list[Extra]:
    """The scope's surveys and frustrated clicks as [rowid, score, scale, rage, dead], off their
    types' indexes (surveys by time, rage and dead clicks by their own): asked of every event in
    the read, the data's fields cost a third of it. Events between the range's start and the last
    moment of its sessions; rowids of other sessions are ignored by the caller."""
    last = f"(SELECT max(s.last_ts) FROM sessions s WHERE {where})"
    found: list[Extra] = []
    for sql in (
        "SELECT e.rowid, e.data ->> '$.score', e.data ->> '$.scale', 0, 0"
        " FROM events e INDEXED BY events_type_ts_session WHERE e.site_id = ? AND e.type = 'survey'"
        f" AND e.ts >= ? AND e.ts <= {last}",
        "SELECT e.rowid, NULL, NULL, coalesce(e.data ->> '$.rage', 0), coalesce(e.data ->> '$.dead', 0)"
        " FROM events e INDEXED BY events_friction WHERE e.site_id = ?"
        f" AND e.type = 'click' AND (e.data ->> '$.rage' OR e.data ->> '$.dead') AND e.ts >= ? AND e.ts <= {last}",
    ):
        found += tuples(conn, sql, [scope.site_id, scope.start, *args])
    return found


def columns(conn: sqlite3.Connection, scope: Scope, reading: Reading) -> Touches | None:
    """The touches of the sessions that started in scope as columns, read in one row of aggregates
    (parts of the range, if one row would pass SQLite's longest string): each session's events
    joined into texts, and the sessions' texts joined. Handed over as rows, a million touches cost
    seconds to make into Python tuples; as texts, a split or a numpy parse each. None when a value
    holds char(31) or a type is unknown: the texts no longer split into one value per event."""
    assert reading.since is None and reading.before is None and reading.goal_type is None, "the map has no window"
    where, args = scope_sql(scope)
    # (name, SQL per session, SQL joining the sessions' values, how the parts join)
    read = [
        *_session_columns(reading),
        ("count", "count(*)", "group_concat(count)", ","),
        ("ts", "group_concat(e.ts)", "group_concat(ts)", ","),
        ("rowid", "group_concat(e.rowid)", "group_concat(rowid)", ","),
        ("type", f"group_concat({_TYPE}, '')", "group_concat(type, '')", ""),
        *((name, f"group_concat(coalesce(e.{name}, ''), char(31))", f"group_concat({name}, char(31))", _SEP)
          for name in ("path", "name", "touchpoint", *(["route"] if reading.route else []),
                       *(["url"] if reading.url else []))),
        *([("no_url", "group_concat(e.url IS NULL, '')", "group_concat(no_url, '')", "")] if reading.url else []),
    ]
    parts = _aggregated(
        conn, read,
        "FROM sessions s CROSS JOIN events e INDEXED BY events_session_type"
        " ON e.site_id = s.site_id AND e.session_id = s.id"
        # in the order of the sessions' primary key: grouped as they are read, not sorted first
        f" WHERE {where} AND s.first_ts >= ? AND s.first_ts < ? GROUP BY s.first_ts, s.id",
        args, scope,
    )
    text = _texts(parts, read)
    if not text["id"]:
        return journey_columns.from_touches([])
    sessions = _sessions(text, reading)
    counts = np.fromstring(text["count"], dtype=np.int64, sep=",")
    events = int(counts.sum())

    def split(name: str, size: int = events) -> list[str] | None:
        values = text[name].split(_SEP)
        return values if len(values) == size else None

    def flags(name: str, size: int = events) -> np.ndarray[Any, np.dtype[np.bool_]] | None:
        found = np.frombuffer(text[name].encode("ascii"), dtype=np.uint8) == ord("1")
        return found if len(found) == size else None

    types = np.frombuffer(text["type"].encode("ascii"), dtype=np.uint8).astype(np.int64) - _FIRST_TYPE
    texts: dict[str, list[str] | None] = {
        name: split(name) for name in ("path", "name", "touchpoint", "route", "url") if name in text}
    no_url = flags("no_url") if reading.url else None
    if (sessions is None or len(sessions.ids) != len(counts) or len(types) != events
            or any(v is None for v in texts.values()) or (reading.url and no_url is None)):
        return None
    ts = np.fromstring(text["ts"], dtype=np.int64, sep=",")
    rowid = np.fromstring(text["rowid"], dtype=np.int64, sep=",")
    score, scale, rage, dead = (np.full(events, math.nan), np.full(events, math.nan),
                                np.zeros(events, dtype=np.int64), np.zeros(events, dtype=np.int64))
    extras = _extras(conn, scope, where, args)
    kept = np.isin(rowid, [e[0] for e in extras], kind="table") if extras else np.zeros(0, dtype=bool)
    at = np.flatnonzero(kept)
    if len(at):  # the few surveys and frustrated clicks, found among the events by rowid
        by_rowid = {e[0]: e for e in extras}
        found = [by_rowid[r] for r in rowid[at].tolist()]
        for values, i, blank in ((score, 1, math.nan), (scale, 2, math.nan), (rage, 3, 0), (dead, 4, 0)):
            values[at] = [blank if e[i] is None else e[i] for e in found]

    def codes(name: str) -> Coded:
        values = texts[name]
        assert values is not None
        return coded(values)

    url = None
    if reading.url:
        url = codes("url")
        assert no_url is not None
        url = Coded(np.where(no_url, len(url.values), url.codes), [*url.values, None])  # NULL is not ''
    return Touches(
        sessions=sessions, session=np.repeat(np.arange(len(counts), dtype=np.int64), counts), ts=ts,
        arrival=rowid, type=types,
        name=codes("name"), path=codes("path"), touchpoint=codes("touchpoint"), url=url,
        route=codes("route") if reading.route else None, score=score, scale=scale, rage=rage, dead=dead,
    )


def kept(conn: sqlite3.Connection, scope: Scope, reading: Reading) -> Touches | None:
    """The touches of the sessions that started in scope as columns, from the records kept on
    write (collector/store/sqlite/touches.py): the sessions' facts and their records' blobs in
    one row of aggregates. A scope without filters reads the kept rows alone (they copy the facts
    it needs), others join them to the sessions. None when a session's touches are unknown, the
    reading needs URLs (not kept), or a value holds the separator of the facts' texts: the
    events are read then."""
    assert reading.since is None and reading.before is None and reading.goal_type is None, "the map has no window"
    if reading.url:
        return None
    where, args = scope_sql(scope)
    facts = _session_columns(reading)
    alone = not scope.filters and not reading.channel
    if alone:  # the kept rows as `s`: their session id is the only column named otherwise
        facts[1] = ("id", "s.session_id", *facts[1][2:])
        source, blob = "session_touches s", "s.touches"
    else:
        source, blob = ("sessions s LEFT JOIN session_touches t"
                        " ON t.site_id = s.site_id AND t.first_ts = s.first_ts AND t.session_id = s.id"), "t.touches"
    # An unknown session's NULL has no length: group_concat leaves it out, and the counts fall short.
    read = [*facts, ("size", f"length({blob}) / {packed.RECORD.itemsize}", "group_concat(size)", ","),
            ("touches", blob, "CAST(group_concat(touches, '') AS BLOB)", "")]
    parts = _aggregated(conn, read, f"FROM {source} WHERE {where} AND s.first_ts >= ? AND s.first_ts < ?", args, scope)
    text = _texts(parts, facts)
    if not text["id"]:
        return journey_columns.from_touches([])
    sessions = _sessions(text, reading)
    counts = np.fromstring(",".join(part[-2] for part in parts if part[-2]), dtype=np.int64, sep=",")
    if sessions is None or len(counts) != len(sessions.ids):
        return None
    records = np.frombuffer(b"".join(part[-1] for part in parts if part[-1]), dtype=packed.RECORD)
    kinds = _kinds(conn, scope.site_id, records["kind"])
    if kinds is None:
        return None
    kind, (types, score, scale, rage, dead), texts = kinds

    def per_touch(name: str) -> Coded:
        return Coded(texts[name].codes[kind], texts[name].values)

    return Touches(
        sessions=sessions, session=np.repeat(np.arange(len(counts), dtype=np.int64), counts),
        ts=records["ts"].astype(np.int64),
        arrival=records["rowid"].astype(np.int64), type=types[kind], name=per_touch("name"),
        path=per_touch("path"), touchpoint=per_touch("touchpoint"), url=None,
        route=per_touch("route") if reading.route else None, score=score[kind], scale=scale[kind],
        rage=rage[kind], dead=dead[kind],
    )


_KIND_TEXTS = {"path": 1, "name": 2, "touchpoint": 3, "route": 4}


def _kinds(
    conn: sqlite3.Connection, site_id: str, ids: np.ndarray[Any, np.dtype[np.int32]],
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], list[np.ndarray[Any, Any]], dict[str, Coded]] | None:
    """The site's kinds: each record's kind as a number 0..n-1, the kinds' type (an index of
    EVENT_TYPES), score, scale (NaN: none), rage and dead, and their texts coded. None when a
    record names a kind the site does not have, or a kind holds what the columns cannot."""
    rows = tuples(conn, "SELECT id, key FROM touch_kinds WHERE site_id = ?", [site_id])
    known = np.fromiter((number for number, _ in rows), dtype=np.int64, count=len(rows))
    keys = "[" + ",".join(key for _, key in rows) + "]"
    table = np.full(max(int(known.max(initial=0)), int(ids.max(initial=0))) + 1, -1, dtype=np.int64)
    table[known] = np.arange(len(known))
    kind = table[ids]
    try:
        fields = list(zip(*packed.kinds_decoder.decode(keys), strict=True)) or [()] * 9
    except msgspec.ValidationError:
        return None
    number = {name: i for i, name in enumerate(EVENT_TYPES)}
    if (kind < 0).any() or len(fields[0]) != len(known) or not set(fields[0]) <= number.keys():
        return None

    def floats(values: tuple[int | None, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64).reshape(-1)

    def ints(values: Iterable[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.fromiter(values, dtype=np.int64, count=len(known))

    return kind, [ints(map(number.__getitem__, fields[0])), floats(fields[5]), floats(fields[6]),
                  ints(fields[7]), ints(fields[8])], {name: coded(fields[i]) for name, i in _KIND_TEXTS.items()}
