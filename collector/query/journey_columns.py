"""The journey map's walk and tally over columns: every person at once, with numpy.

`tally` in collector/query/journey.py walks each person's touches in Python: the definition. At a
million touches that walk, and the million tuples it reads, cost seconds. An engine that hands
over its touches as columns (codes into tables of the distinct values) has them counted here with
array operations instead, and both give the same tally (tested on random touches and stages):

- the touches are sorted by person, time and arrival, as the walk orders each person's;
- each matcher's conditions on the event itself are tested on every touch at once (a page rule
  once per distinct value); what a matcher asks of the person's history is a second array: the
  session's start against when the person reached the stage before (`new_visit`), or the
  touch's rank among the person's touches of its type (`nth`);
- stage k is reached at each person's first candidate touch from the one that reached stage
  k - 1 on: one binary search per person in the sorted candidate positions;
- each touch is held at the furthest stage reached at or before it (a running count of the
  reaching touches), and each stage's figures are counts over its held touches: people per name
  as distinct (person, name) pairs, the exits and replays from each person's last such touch.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from collector.query.cx import KINDS
from collector.query.funnel_columns import by_visitor
from collector.query.journey import (
    _NAMED,
    REPLAYS_SHOWN,
    TOP,
    Answers,
    Matcher,
    Ranked,
    Stages,
    StageTally,
    Touch,
)
from collector.query.patterns import page_tests
from collector.wire import EVENT_TYPES

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


class Coded(NamedTuple):
    """A column of strings as codes: row i holds values[codes[i]]."""

    codes: Ints
    values: list[str | None]

    def equal(self, value: str) -> Bools:
        """Rows holding `value`."""
        if value not in self.values:
            return np.zeros(len(self.codes), dtype=bool)
        found: Bools = self.codes == self.values.index(value)
        return found


def coded(values: Sequence[str | None]) -> Coded:
    """Strings as codes, numbered in order of first appearance."""
    table = {value: i for i, value in enumerate(dict.fromkeys(values))}
    return Coded(np.fromiter(map(table.__getitem__, values), dtype=np.int64, count=len(values)), list(table))


@dataclass(frozen=True)
class Sessions:
    """The sessions of the touches, one row each."""

    ids: list[str]
    visitor: Coded
    start: Ints
    has_replay: Bools
    channel: Coded | None  # None: not read (no matcher names one)


@dataclass(frozen=True)
class Touches:
    """Touches as columns, one row each, in any order. `arrival` breaks ties of time as the engine
    orders its touches; `type` indexes EVENT_TYPES; `score` and `scale` are NaN where a touch has
    none; `url` and `route` are None where not read. A path or name stored as NULL may come as ''
    (no rule tells them apart: a page pattern is never empty, nor a name a matcher asks for)."""

    sessions: Sessions
    session: Ints
    ts: Ints
    arrival: Ints
    type: Ints
    name: Coded
    path: Coded
    touchpoint: Coded
    url: Coded | None
    route: Coded | None
    score: Floats
    scale: Floats
    rage: Ints
    dead: Ints


def from_touches(touches: Sequence[Touch]) -> Touches:
    """Touch rows as columns (arrival: their order)."""
    ids = list(dict.fromkeys(t.session for t in touches))
    first = {t.session: t for t in reversed(touches)}
    heads = [first[i] for i in ids]
    number = {session: i for i, session in enumerate(ids)}

    def floats(values: list[int | None]) -> Floats:
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)

    def ints(values: list[object]) -> Ints:
        return np.array(values, dtype=np.int64).reshape(-1)

    return Touches(
        sessions=Sessions(ids, coded([t.visitor for t in heads]), ints([t.session_start for t in heads]),
                          np.array([bool(t.has_replay) for t in heads], dtype=bool).reshape(-1),
                          coded([t.channel for t in heads])),
        session=ints([number[t.session] for t in touches]), ts=ints([t.ts for t in touches]),
        arrival=np.arange(len(touches), dtype=np.int64), type=ints([EVENT_TYPES.index(t.type) for t in touches]),
        name=coded([t.name for t in touches]), path=coded([t.path for t in touches]),
        touchpoint=coded([t.touchpoint for t in touches]), url=coded([t.url for t in touches]),
        route=coded([t.route for t in touches]), score=floats([t.score for t in touches]),
        scale=floats([t.scale for t in touches]), rage=ints([int(t.rage) for t in touches]),
        dead=ints([int(t.dead) for t in touches]),
    )


class _Sorted:
    """The touches sorted by person, time and arrival, with each person's span of rows."""

    def __init__(self, t: Touches) -> None:
        visitor = t.sessions.visitor.codes[t.session]
        order = _by_person_and_time(visitor, t.ts, t.arrival)
        self.t = t
        self.order = order
        self.session = t.session[order]
        self.ts = t.ts[order]
        self.type = t.type[order]
        visitor = visitor[order]
        starts = np.ones(len(order), dtype=bool)
        starts[1:] = visitor[1:] != visitor[:-1]
        self.first = np.flatnonzero(starts)
        self.end = np.append(self.first, len(order))[1:]
        self.person = np.cumsum(starts) - 1  # per row, its person's number
        self._fields: dict[int, Coded] = {}

    def field(self, column: Coded | None) -> Coded:
        """A column of the touches in this order (each sorted once)."""
        assert column is not None, "the engine did not read a column a matcher needs"
        found = self._fields.get(id(column))
        if found is None:
            found = self._fields[id(column)] = Coded(column.codes[self.order], column.values)
        return found

    def per_person(self, values: Ints) -> Ints:
        """A running count per person: values summed over each person's rows up to each row."""
        total = np.cumsum(values)
        running: Ints = total - (total[self.first] - values[self.first])[self.person]
        return running


def _by_person_and_time(visitor: Ints, ts: Ints, arrival: Ints) -> Ints:
    """The order of the rows by person, time and arrival. Touches read session by session, each
    in time order, are nearly there once grouped by person (in their order): only the people
    whose sessions overlap, or who sent an event late, have rows out of time order, and only
    theirs are sorted."""
    order = by_visitor(visitor, np.arange(len(visitor)))
    v, t, a = visitor[order], ts[order], arrival[order]
    later = (t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (a[1:] > a[:-1]))
    behind = np.flatnonzero(~later & (v[1:] == v[:-1]))
    if len(behind):  # their rows, a run per person in visitor order, sorted in place
        rows = np.flatnonzero(np.isin(v, v[behind]))
        order[rows] = order[rows[np.lexsort((a[rows], t[rows], v[rows]))]]
    return order


def _event_mask(s: _Sorted, m: Matcher) -> Bools:
    """The touches that pass what a matcher asks of the event itself."""
    t = s.t
    mask = np.ones(len(s.ts), dtype=bool)
    if m.type is not None:
        mask &= s.type == EVENT_TYPES.index(m.type)
    for value, column in ((m.name, t.name), (m.touchpoint, t.touchpoint)):
        if value is not None:
            mask &= s.field(column).equal(value)
    if m.channel is not None:
        channel = t.sessions.channel
        assert channel is not None, "the engine did not read the sessions' channels"
        mask &= Coded(channel.codes[s.session], channel.values).equal(m.channel)
    if m.page is not None:
        page = np.zeros(len(s.ts), dtype=bool)
        for name, test in page_tests(m.page):
            column = s.field({"path": t.path, "url": t.url, "route": t.route}[name])
            page |= np.array([test(value) for value in column.values], dtype=bool)[column.codes]
        mask &= page
    if m.min_score is not None or m.max_score is not None:
        score = t.score[s.order]  # NaN, no score, fails either bound
        if m.min_score is not None:
            mask &= score >= m.min_score
        if m.max_score is not None:
            mask &= score <= m.max_score
    return mask


def _walk(s: _Sorted, stages: Stages) -> list[Ints]:
    """Per stage, the row of the touch at which each person reached it (-1: not reached)."""
    people = len(s.first)
    starts = s.t.sessions.start[s.session]
    reached: list[Ints] = []
    for k, stage in enumerate(stages.stages):
        before = reached[-1] if reached else s.first
        last = s.ts[np.maximum(before, 0)][s.person]  # when the person reached the stage before
        candidate = np.zeros(len(s.ts), dtype=bool)
        for m in stage.match:
            if m.new_visit and k == 0:
                continue  # a new visit after no stage at all
            mask = _event_mask(s, m)
            if m.new_visit:
                mask &= starts > last
            if m.nth is not None and m.type is not None:
                of_type = s.type == EVENT_TYPES.index(m.type)
                mask &= of_type & (s.per_person(of_type.astype(np.int64)) == m.nth)
            candidate |= mask
        rows = np.flatnonzero(candidate)
        going = np.flatnonzero(before >= 0)
        at = np.searchsorted(rows, before[going])  # the first candidate from the touch before on
        found = at < len(rows)
        row = rows[np.minimum(at, len(rows) - 1)] if len(rows) else np.zeros(len(going), dtype=np.int64)
        found &= row < s.end[going]
        stage_at = np.full(people, -1, dtype=np.int64)
        stage_at[going[found]] = row[found]
        reached.append(stage_at)
    return reached


def _ranked(counts: Ints, names: Sequence[str | None], top: int = TOP) -> Ranked:
    """The `top` names with the most people, ties by name (those tied with the last included)."""
    shown = np.flatnonzero(counts)
    if len(shown) > top:
        floor = np.partition(counts[shown], len(shown) - top)[len(shown) - top]
        shown = shown[counts[shown] >= floor]
    named = [(str(names[i]), int(counts[i])) for i in shown.tolist()]
    return sorted(named, key=lambda item: (-item[1], item[0]))[:top]


def _people_by(s: _Sorted, stage: Ints, rows: Ints, code: Ints, width: int, stages: int) -> Ints:
    """Per stage and code, the people with a touch of that code among `rows` held at that stage:
    a (stages, width) array. The rows come by person and stage (a person's stage only grows), so
    their keys are nearly sorted already, and a stable sort (merging runs) finds the distinct ones
    several times faster than np.unique's hashing."""
    key = np.sort((s.person[rows] * stages + stage[rows]) * width + code[rows], kind="stable")
    distinct = key[np.append(True, key[1:] != key[:-1])] if len(key) else key
    return np.bincount(distinct % (stages * width), minlength=stages * width).reshape(stages, width)


def tally(stages: Stages, t: Touches) -> tuple[int, list[StageTally]]:
    """The people, and each stage's tally, as query/journey.py's `tally` counts them."""
    n = len(stages.stages)
    s = _Sorted(t)
    people = len(s.first)
    reached = _walk(s, stages)
    marks = np.zeros(len(s.ts), dtype=np.int64)
    for at in reached:
        marks[at[at >= 0]] += 1
    stage = s.per_person(marks) - 1  # per row, the stage it is held at (-1: before the first)
    held = np.flatnonzero(stage >= 0)
    pageview = s.type == EVENT_TYPES.index("pageview")
    path = s.field(t.path)
    valid_path = np.array([bool(p) for p in path.values], dtype=bool)
    viewed = held[pageview[held] & valid_path[path.codes[held]]]
    pages = _people_by(s, stage, viewed, path.codes, len(path.values), n)
    touchpoint = s.field(t.touchpoint)
    touchpoints = _people_by(s, stage, held, touchpoint.codes, len(touchpoint.values), n)
    action, actions_of = _actions(s, t)
    actions = _people_by(s, stage, held, action, len(actions_of), n)
    sessions = _people_by(s, stage, held, s.session, len(t.sessions.ids), n).sum(axis=1)  # one person each
    rage = np.bincount(stage[held], weights=t.rage[s.order[held]], minlength=n)
    dead = np.bincount(stage[held], weights=t.dead[s.order[held]], minlength=n)
    errors = np.bincount(stage[held[s.type[held] == EVENT_TYPES.index("error")]], minlength=n)
    answers = _answers(s, t, stage, held, n)
    # Each person's last row with a page seen, and with a replay (a later row's reach is checked).
    rows = np.arange(len(s.ts))
    last_page = np.maximum.accumulate(np.where(pageview & valid_path[path.codes], rows, -1))[s.end - 1]
    replay = t.sessions.has_replay[s.session]
    last_replay = np.maximum.accumulate(np.where(replay, rows, -1))[s.end - 1]
    tallies = []
    for k in range(n):
        at = reached[k]
        on = reached[k + 1] if k + 1 < n else np.full(people, -1, dtype=np.int64)
        went = np.flatnonzero(on >= 0)
        waits = np.sort(s.ts[on[went]] - s.ts[at[went]])
        dropped = np.flatnonzero((at >= 0) & (on < 0)) if k + 1 < n else np.zeros(0, dtype=np.int64)
        exit_page = last_page[dropped][last_page[dropped] >= at[dropped]]
        tallies.append(StageTally(
            int(np.count_nonzero(at >= 0)),
            (int(waits[(len(waits) - 1) // 2]), int(waits[len(waits) // 2])) if len(waits) else None,
            len(dropped), _ranked(pages[k], path.values), _ranked(touchpoints[k], touchpoint.values),
            _ranked(actions[k], actions_of), answers[k], int(sessions[k]), int(rage[k]), int(dead[k]),
            int(errors[k]),
            _ranked(np.bincount(path.codes[exit_page], minlength=len(path.values)), path.values),
            _ranked(np.bincount(touchpoint.codes[s.end[dropped] - 1], minlength=len(touchpoint.values)),
                    touchpoint.values),
            _replays(s, last_replay[dropped][last_replay[dropped] >= at[dropped]]),
        ))
    return people, tallies


def _actions(s: _Sorted, t: Touches) -> tuple[Ints, list[str]]:
    """Per row, its action (query/journey.py's action_of) as a code, and the actions."""
    name = s.field(t.name)
    pair = s.type * len(name.values) + name.codes
    present = np.flatnonzero(np.bincount(pair, minlength=len(EVENT_TYPES) * len(name.values)))
    words = []
    for p in present.tolist():
        kind, value = EVENT_TYPES[p // len(name.values)], name.values[p % len(name.values)]
        words.append(f"{kind} {value}" if kind in _NAMED and value else kind)
    action = coded(words)
    of_pair = np.zeros(len(EVENT_TYPES) * len(name.values), dtype=np.int64)
    of_pair[present] = action.codes
    return of_pair[pair], [str(w) for w in action.values]


def _answers(s: _Sorted, t: Touches, stage: Ints, held: Ints, n: int) -> list[Answers]:
    """Per stage, the survey answers held there."""
    answers: list[Answers] = [Counter() for _ in range(n)]
    name = s.field(t.name)
    kinds = np.array([value in KINDS for value in name.values], dtype=bool)
    surveys = held[(s.type[held] == EVENT_TYPES.index("survey")) & kinds[name.codes[held]]]
    given = surveys[~np.isnan(t.score[s.order[surveys]])]
    score, scale = t.score[s.order[given]], t.scale[s.order[given]]
    unscaled = np.isnan(scale)
    keys = np.stack([stage[given], name.codes[given], score.astype(np.int64), unscaled,
                     np.where(unscaled, 0, scale).astype(np.int64)], axis=1)
    found, counts = np.unique(keys, axis=0, return_counts=True)
    for (k, code, value, no_scale, of), count in zip(found.tolist(), counts.tolist(), strict=True):
        answers[k][(name.values[code], value, None if no_scale else of)] = count
    return answers


def _replays(s: _Sorted, rows: Ints) -> list[tuple[int, str, str]]:
    """The recorded sessions in which people left at a stage (`rows`: each one's last touch with
    a replay there), the latest first."""
    sessions = s.t.sessions
    visitor = sessions.visitor
    found = {}
    for row in rows.tolist():
        session = int(s.session[row])
        found[session] = (int(s.ts[row]), sessions.ids[session], str(visitor.values[visitor.codes[session]]))
    return sorted(found.values(), key=lambda r: (-r[0], r[1]))[:REPLAYS_SHOWN]
