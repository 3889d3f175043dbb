"""The journey map on ClickHouse: the walk of query/journey.py and each stage's tally in one query.

Each person's touches become one sorted array (time, then arrival, as the Python walk orders
them); each stage's matchers become a test of a touch; the walk is a chain of `arrayFirstIndex`,
each from the touch that reached the stage before; and the touches each person holds at each stage
are counted into the `StageTally` the Python walk would count, so that only a few rows per stage
come back and `figures` (query/journey.py) makes the same answer from them as from the walk.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from collector.query.journey import REPLAYS_SHOWN, TOP, Matcher, Stages, StageTally, figures, reading_of
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db

# A touch as the query reads it: the fields of query/journey.py's Touch that the map looks at, named
# so that a page pattern compiles over it as over an event (url_match's `x.path`, `x.route`, `x.url`).
_TOUCH = (
    ("ts", "Int64", "e.ts"), ("seq", "UInt64", "e.seq"), ("session", "String", "e.session_id"),
    ("session_start", "Int64", "s.first_ts"), ("type", "String", "toString(e.type)"),
    ("name", "Nullable(String)", "e.name"), ("path", "Nullable(String)", "e.path"),
    ("route", "Nullable(String)", "e.route"), ("url", "Nullable(String)", "e.url"),
    ("touchpoint", "String", "toString(e.touchpoint)"), ("channel", "Nullable(String)", "s.channel"),
    ("replay", "UInt8", "s.has_replay"),
    ("score", "Nullable(Int64)", "if(e.type = 'survey', JSONExtract(e.m_data, 'score', 'Nullable(Int64)'), NULL)"),
    ("scale", "Nullable(Int64)", "if(e.type = 'survey', JSONExtract(e.m_data, 'scale', 'Nullable(Int64)'), NULL)"),
    ("rage", "UInt8", "e.m_rage"), ("dead", "UInt8", "e.m_dead"),
)
_NAMED = "('track', 'cart', 'survey')"  # query/journey.py's _NAMED: the types whose action shows the name


def _matcher_sql(m: Matcher, last: str | None, counts: dict[str, str]) -> str:
    """A matcher as a test of touch `x` (`last`: when the stage before was reached, None for the
    first stage; `counts`: per type, the lambda argument holding the person's running count)."""
    if m.new_visit and last is None:
        return "0"  # the first stage has no stage before it to come back after
    clauses = [f"x.{field} = {lit(value)}" for field in ("type", "name", "touchpoint", "channel")
               if (value := getattr(m, field)) is not None]
    if m.page is not None:
        clauses.append(url_match(m.page, "x"))
    if m.min_score is not None:
        clauses.append(f"x.score >= {lit(m.min_score)}")
    if m.max_score is not None:
        clauses.append(f"x.score <= {lit(m.max_score)}")
    if m.new_visit:
        clauses.append(f"x.session_start > {last}")
    if m.nth is not None and m.type is not None:
        clauses.append(f"{counts[m.type]} = {lit(m.nth)}")
    # a NULL field fails its condition, as a None does in Python
    return f"ifNull({' AND '.join(clauses)}, 0)"


def _walk_sql(stages: Stages) -> tuple[list[str], str]:
    """The per-person columns the walk needs (running counts for `nth`), and the walk itself: `at`,
    per stage the 1-based index of the touch that reached it, 0 from the first stage not reached."""
    nth_types = sorted({m.type for s in stages.stages for m in s.match if m.nth is not None and m.type})
    counts = {kind: f"n{i}" for i, kind in enumerate(nth_types)}  # the lambda's argument: a touch's count
    columns = [f"arrayCumSum(arrayMap(x -> toUInt32(x.type = {lit(kind)}), r)) AS c{i}"
               for i, kind in enumerate(nth_types)]
    params = "".join(f", {name}" for name in counts.values())
    arrays = "".join(f", c{i}" for i in range(len(nth_types)))
    indices = []
    for k, stage in enumerate(stages.stages):
        last = None if k == 0 else f"r[i{k - 1}].ts"
        test = " OR ".join(_matcher_sql(m, last, counts) for m in stage.match)
        after = "1" if k == 0 else f"j >= i{k - 1}"  # from the touch that reached the stage before
        walk = f"arrayFirstIndex((x, j{params}) -> {after} AND ({test}), r, arrayEnumerate(r){arrays})"
        indices.append(f"{walk} AS i0" if k == 0 else f"if(i{k - 1} = 0, 0, {walk}) AS i{k}")
    return columns, f"[{', '.join(indices)}] AS at"


def _top(names: str, where: str = "1") -> str:
    """The TOP of an array of names per row (where `where` holds), each counted once per row: the most
    first, ties by name (query/journey.py's _rank), as [(name, rows)]."""
    counted = f"sumMap(if({where}, {names}, []), if({where}, arrayWithConstant(length({names}), toUInt64(1)), []))"
    return f"arraySlice(arraySort(p -> (-p.2, p.1), arrayZip({counted}.1, {counted}.2)), 1, {TOP})"


# Per person and stage (`held`: the touches held there), the columns the tally counts.
_PAGES = "arrayMap(x -> if(x.type = 'pageview', ifNull(x.path, ''), ''), held)"  # '' where no page was seen
_ACTIONS = (f"arrayMap(x -> if(x.type IN {_NAMED} AND ifNull(x.name, '') != '',"
            " concat(x.type, ' ', assumeNotNull(x.name)), x.type), held)")
_ANSWERS = "arrayFilter(x -> x.type = 'survey' AND x.score IS NOT NULL, held)"
_TALLY = ", ".join((
    "count()", "countIf(went_on)", "quantileExactLowIf(0.5)(wait, went_on)",
    "quantileExactHighIf(0.5)(wait, went_on)", "countIf(dropped)",
    _top(f"arrayDistinct(arrayFilter(p -> p != '', {_PAGES}))"),
    _top("arrayDistinct(arrayMap(x -> x.touchpoint, held))"),
    _top(f"arrayDistinct({_ACTIONS})"),
    # the survey answers: (kind, score, scale) and how many
    f"sumMap(arrayMap(x -> (x.name, assumeNotNull(x.score), x.scale), {_ANSWERS}),"
    f" arrayWithConstant(length({_ANSWERS}), toUInt64(1)))",
    "sum(length(arrayDistinct(arrayMap(x -> x.session, held))))",
    "sum(arraySum(arrayMap(x -> x.rage, held)))", "sum(arraySum(arrayMap(x -> x.dead, held)))",
    "sum(arrayCount(x -> x.type = 'error', held))",
    # of those who dropped: the last page seen, the touchpoint of the last touch...
    _top(f"[arrayLast(p -> p != '', {_PAGES})]", "dropped AND arrayExists(p -> p != '', " + _PAGES + ")"),
    _top("[held[-1].touchpoint]", "dropped"),
    # ...and the latest touch with a replay (one per person, so one per session): the latest first
    f"groupArraySortedIf({REPLAYS_SHOWN})((-replayed.ts, replayed.session, visitor),"
    " dropped AND arrayExists(x -> x.replay = 1, held))",
))


def journey_map_sql(db: Db, scope: Scope, stages: Stages) -> str:
    reading = reading_of(stages)
    kept = {"route": reading.route, "url": reading.url, "channel": reading.channel}
    touch = ", ".join(sql if kept.get(field, True) else "NULL" for field, _, sql in _TOUCH)
    touch_type = ", ".join(f"{field} {kind}" for field, kind, _ in _TOUCH)
    columns, walk = _walk_sql(stages)
    touches = (
        f"SELECT s.visitor_id AS visitor, arraySort(groupArray(CAST(tuple({touch}), 'Tuple({touch_type})'))) AS r"
        f" FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s"
        f" ON s.id = e.session_id WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
        " GROUP BY s.visitor_id"
    )
    walked = f"SELECT visitor, r, {''.join(f'{c}, ' for c in columns)}{walk} FROM ({touches})"
    # k = 0: the person; k = 1..: the stages they reached, in order, each with the touches held there
    # (from the one that reached it to the one that reached the next, or the last)
    held = (
        "SELECT visitor, arrayJoin(range(0, arrayCount(i -> i > 0, at) + 1)) AS k,"
        " if(k = 0, 1, at[k]) AS first, at[k + 1] AS next, k > 0 AND next > 0 AS went_on,"
        f" if(went_on, r[next].ts - r[first].ts, 0) AS wait,"
        f" k > 0 AND k < {len(stages.stages)} AND next = 0 AS dropped,"
        " arraySlice(r, first, multiIf(k = 0, 0, next > 0, next - first, length(r) - first + 1)) AS held,"
        " arrayLast(x -> x.replay = 1, held) AS replayed"
        f" FROM ({walked})"
    )
    return (f"SELECT k, {_TALLY} FROM ({held}) GROUP BY k ORDER BY k"
            " SETTINGS output_format_json_quote_64bit_integers = 0")


def journey_map(db: Db, scope: Scope, stages: Stages) -> dict[str, Any]:
    """The map as the API answers it."""
    return figures(stages, *tally(db, scope, stages))


def tally(db: Db, scope: Scope, stages: Stages) -> tuple[int, list[StageTally]]:
    """The people in scope and each stage's tally, as query/journey.py's `tally` counts them."""
    rows = {row[0]: row for row in db.rows(journey_map_sql(db, scope, stages))}
    people = rows[0][1] if 0 in rows else 0
    return people, [_tally(rows.get(k + 1)) for k in range(len(stages.stages))]


def _pairs(ranked: list[Any]) -> list[tuple[str, int]]:
    return [(name, count) for name, count in ranked]


def _tally(row: list[Any] | None) -> StageTally:
    if row is None:  # no one reached the stage
        return StageTally(0, None, 0, [], [], [], Counter(), 0, 0, 0, 0, [], [], [])
    (_, people, went_on, low, high, dropped, pages, touchpoints, actions, (keys, counts),
     sessions, rage, dead, errors, exit_pages, exit_touchpoints, replays) = row
    return StageTally(
        people, (low, high) if went_on else None, dropped, _pairs(pages), _pairs(touchpoints), _pairs(actions),
        Counter({(kind, score, scale): count for (kind, score, scale), count in zip(keys, counts, strict=True)}),
        sessions, rage, dead, errors, _pairs(exit_pages), _pairs(exit_touchpoints),
        [(-ts, session, visitor) for ts, session, visitor in replays],
    )
