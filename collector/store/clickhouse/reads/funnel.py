"""Funnels on ClickHouse: each visitor's furthest attempt found in SQL, only the figures come back.

The counting rule is `furthest_attempt` (collector/query/funnel.py). windowFunnel counts one
attempt per visitor and gives no step times, so the rule is spelled here with array functions
over each visitor's step events sorted by time, one array expression per step (see `_step_states`).
An event is one number, its time shifted left past a bit per step and the bits of the steps it is
(`packed`): arrays of them sort as numbers, in the order of (time, steps), where arrays of
(time, steps) tuples sort by comparing tuples (5.1M events: the funnel's arrays made in 124 ms
against 159).
"""

from __future__ import annotations

from typing import Any

from collector.errors import ClientError
from collector.query.funnel import DROPPED_SHOWN, MAX_STEPS, Step, answer, middle_median
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import AS_WRITTEN, scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db
from collector.wire import EVENT_TYPES

_SHIFT = 1 << MAX_STEPS


def packed(ts: str, mask: str) -> str:
    """An event as one number: its time `ts` (milliseconds, never negative: ingest keeps times
    near its clock) shifted past MAX_STEPS bits, and its `mask` of steps in those bits."""
    return f"{ts} * {_SHIFT} + ({mask})"


_TIME = f"intDiv(e, {_SHIFT})"  # of a packed event `e`; its step j is bitTest(e, j)


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
        f" FROM {db.t('events')} AS e INNER JOIN (SELECT s.id, s.visitor_id"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s ON e.session_id = s.id"
        f" WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)} AND e.type IN {lits(types)}"
        f" AND ({where})"
    )


def _kept(step: Step) -> bool:
    """True for a step the pageviews each session row keeps (views.py) can find: a pageview whose
    page, if named, is a path or route."""
    return step.type == "pageview" and step.name is None and (step.url is None or step.url.startswith("/"))


def _by_visitor(db: Db, scope: Scope, steps: list[Step], clauses: list[str], mask: str) -> str:
    """Each visitor's step events, `packed` and sorted. When every pageview step is
    `_kept`, its pageviews come from the session rows and the other events, grouped per session,
    are joined to them; or else all of them come from the events joined to the sessions. Both
    give the same arrays: a session's events all fall on or after its start, which is in scope."""
    viewed = [i for i, step in enumerate(steps) if step.type == "pageview"]
    if not viewed or not all(_kept(steps[i]) for i in viewed):
        types = sorted({step.type for step in steps})
        return (
            f"SELECT s.visitor_id AS visitor, arraySort(groupArray({packed('e.ts', mask)})) AS events"
            f"{_scoped_events(db, scope, types, ' OR '.join(clauses))} GROUP BY s.visitor_id"
        )
    pages = [url_match(url, "") if (url := steps[i].url) else "true" for i in viewed]
    view_mask = " + ".join(f"if({page}, {1 << i}, 0)" for i, page in zip(viewed, pages, strict=True))
    sessions = (
        f"SELECT s.id, s.visitor_id, arrayFilter(v -> v % {_SHIFT} != 0, arrayMap((ts, path, route)"
        f" -> {packed('ts', view_mask)}, s.views.ts, s.views.path, s.views.route)) AS views"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}"
    )
    others = [i for i in range(len(steps)) if i not in viewed]
    if not others:
        return (f"SELECT visitor_id AS visitor, arraySort(groupArrayArray(views)) AS events FROM ({sessions})"
                " GROUP BY visitor_id HAVING notEmpty(events)")
    # The sessions on the left: the other events grouped per session are fewer, and the hash
    # table (swapped, 350 ms against 270 for a funnel ending on a purchase at 5.1M events).
    return (
        "SELECT s.visitor_id AS visitor, arraySort(groupArrayArray(arrayConcat(s.views, o.events))) AS events"
        f" FROM ({sessions}) AS s LEFT JOIN (SELECT e.session_id, groupArray({packed('e.ts', mask)}) AS events"
        f" FROM {db.t('events')} AS e WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
        f" AND e.type IN {lits(sorted({steps[i].type for i in others}))}"
        f" AND ({' OR '.join(clauses[i] for i in others)}) GROUP BY e.session_id) AS o"
        " ON o.session_id = s.id GROUP BY s.visitor_id HAVING notEmpty(events)"
    )


def _step_states(steps: int, window_ms: int) -> list[str]:
    """`a1` .. `aN`: for each of a visitor's `events` (packed, sorted), the best attempt at step j
    as it stands after that event: (reached, its start, where its step j-1 is, time of step j),
    where step j-1 is found in `a(j-1)` at that position (0 for step 1).

    This is `furthest_attempt` turned from a walk into one array expression per step. In the walk
    an instant only ever replaces a step's attempt with the previous step's attempt as it stood
    before that instant: starts never decrease and step j's start is never later than step j-1's,
    so the later start always wins, and every time held before an instant is strictly earlier.
    What is left is: step j at an event of step j is the previous step's attempt before the event's
    instant (`before`: the state after the instant before it, at `previous`, spread over the events
    of one instant, so that they act together) if it exists and the event is within its window;
    and otherwise whatever step j was before (`arrayFill` carries the last one forward). Each state
    points at the one it extends rather than copying the times before it, so that a state stays
    four numbers however many steps there are (`_furthest` follows the pointers back).
    """
    states = [
        f"arrayMap(e -> {_TIME}, events) AS times",
        "arrayMap((d, i) -> i = 1 OR d != 0, arrayDifference(times), arrayEnumerate(events)) AS first_of_instant",
        "arrayFill((i, first) -> first, arrayMap(i -> toUInt32(i - 1), arrayEnumerate(events)), first_of_instant)"
        " AS previous",
        "arrayFill(x -> x.1, arrayMap((e, t) -> (bitTest(e, 0), t, toUInt32(0), t), events, times)) AS a1",
    ]
    none = "(false, toInt64(0), toUInt32(0), toInt64(0))"
    for j in range(2, steps + 1):
        shifted = f"arrayPushFront(arrayPopBack(a{j - 1}), {none})"
        before = f"arrayFill((x, first) -> first, {shifted}, first_of_instant)"
        reached = f"bitTest(e, {j - 1}) AND p.1 AND t <= p.2 + {window_ms}"
        states.append(
            f"arrayFill(x -> x.1, arrayMap((e, t, p, at) -> if({reached}, (true, p.2, at, t), {none}),"
            f" events, times, {before}, previous)) AS a{j}"
        )
    return states


def _furthest(steps: int) -> list[str]:
    """`depth` and `path`: the furthest step reached after the visitor's last event, and the times
    of its best attempt, found by following each step's pointer back from the last event."""
    depth = f"multiIf({', '.join(f'a{j}[-1].1, {j}' for j in range(steps, 0, -1))}, 0) AS depth"
    # at_j: where step j of the furthest attempt is in a_j (the last event for the furthest step
    # itself; unused above it)
    found = [f"length(events) AS at_{steps}"]
    for j in range(steps - 1, 0, -1):
        found.append(f"if(depth > {j}, a{j + 1}[at_{j + 1}].3, length(events)) AS at_{j}")
    times = ", ".join(f"a{j}[at_{j}].4" for j in range(1, steps + 1))
    return [depth, *found, f"arraySlice([{times}], 1, depth) AS path"]


def funnel(db: Db, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
    """Visitors per step, step and overall conversion, median step times, dropped sessions.

    Each visitor's step events (packed) as one sorted array, its furthest path from
    `_step_states`, then per step the visitors reached, the two middle gaps (statistics.median's
    own arithmetic is done on them in Python), the dropped count and the first dropped visitors
    with the time of their last step: all in one query, which returns one row.
    """
    n = len(steps)
    clauses = [step_clause(step) for step in steps]
    mask = " + ".join(f"if({sql}, {1 << i}, 0)" for i, sql in enumerate(clauses))
    types = sorted({step.type for step in steps})
    by_visitor = _by_visitor(db, scope, steps, clauses, mask)
    # Two levels: the states become columns before `_furthest` reads them (as aliases they would
    # be spelled out again at each use, and the query tree of ten steps outgrows its limit).
    paths = (
        f"SELECT visitor, path, depth FROM (SELECT visitor, {', '.join(_furthest(n))} FROM"
        f" (SELECT visitor, events, {', '.join(_step_states(n, window_s * 1000))} FROM ({by_visitor})))"
    )
    figures = [f"countIf(depth >= {j + 1})" for j in range(n)]
    for j in range(1, n):
        gap = f"path[{j + 1}] - path[{j}]"
        figures += [f"quantileExactLowIf(0.5)({gap}, depth > {j})", f"quantileExactHighIf(0.5)({gap}, depth > {j})"]
    for j in range(1, n):
        figures += [f"countIf(depth = {j})", f"groupArraySortedIf({DROPPED_SHOWN})((visitor, path[-1]), depth = {j})"]
    ((*row,),) = db.rows(f"SELECT {', '.join(figures)} FROM ({paths}){AS_WRITTEN}")
    reached, row = [int(r) for r in row[:n]], row[n:]
    middles, row = row[:2 * (n - 1)], row[2 * (n - 1):]
    medians: list[float | None] = [None]
    for j in range(1, n):  # an empty quantile is not a number: the count says there is none
        low, high = middles[2 * j - 2:2 * j]
        medians.append(middle_median(reached[j], int(low), int(high)) if reached[j] else None)
    dropped = [int(c) for c in row[0::2]] + [0]
    last = [[(visitor, int(ts)) for visitor, ts in found] for found in row[1::2]] + [[]]
    return answer(steps, window_s, reached, medians, dropped, _dropped_sessions(db, scope, types, clauses, mask, last))


def _dropped_sessions(db: Db, scope: Scope, types: list[str], clauses: list[str], mask: str,
                      last: list[list[tuple[str, int]]]) -> list[list[dict[str, Any]]]:
    """For each step's listed visitors, the session of their last step event (the least id if
    several hold one at that instant), with its replay flag.

    Asked apart, for these few visitors and instants only: carrying every event's session
    through the main query's arrays costs more than this second, narrow read.
    """
    wanted = {(visitor, ts, j) for j, found in enumerate(last) for visitor, ts in found}
    if not wanted:
        return [[] for _ in last]
    visitors = sorted({visitor for visitor, _, _ in wanted})
    instants = sorted({ts for _, ts, _ in wanted})
    best: dict[tuple[str, int, int], tuple[str, bool]] = {}
    # PREWHERE on the instants: only the granules holding one are read past the time column.
    for visitor, ts, bits, session, replay in db.rows(
        f"SELECT s.visitor_id, e.ts, e.bits, s.id, s.has_replay FROM (SELECT e.session_id, e.ts, {mask} AS bits"
        f" FROM {db.t('events')} AS e PREWHERE e.ts IN {lits(instants)} WHERE e.site_id = {lit(scope.site_id)}"
        f"{since_sql('e', scope.start)} AND e.type IN {lits(types)} AND ({' OR '.join(clauses)})) AS e"
        f" INNER JOIN (SELECT s.id, s.visitor_id, s.has_replay FROM {sessions_in(db.layout)}"
        f" WHERE {scope_sql(db.layout, scope)} AND s.visitor_id IN {lits(visitors)}) AS s ON e.session_id = s.id"
    ):
        for j in range(len(clauses)):
            key = (visitor, int(ts), j)
            if int(bits) >> j & 1 and key in wanted:
                best[key] = min(best.get(key, (session, bool(replay))), (session, bool(replay)))
    return [
        [{"id": best[visitor, ts, j][0], "visitor_id": visitor, "has_replay": best[visitor, ts, j][1]}
         for visitor, ts in found]
        for j, found in enumerate(last)
    ]
