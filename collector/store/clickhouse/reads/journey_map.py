"""The journey map on ClickHouse: the walk of query/journey.py and each stage's tally in one query.

Each event is tested once, column by column, against every matcher's conditions on the event
itself (type, name, page, touchpoint, channel, score): the answers are bits. Each person's touches
then become one sorted array (time, then arrival, as the Python walk orders them) of those bits and
the few fields the tally counts; the walk is a chain of `arrayFirstIndex`, each from the touch that
reached the stage before, where the conditions on the person's history (`new_visit`, `nth`) are
added; and every person's figures are summed into one row of per-stage arrays and maps, from which
`StageTally` rows are made, the same the Python walk counts (`figures` in query/journey.py makes the
answer of either).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from collector.query.journey import REPLAYS_SHOWN, TOP, Matcher, Stages, StageTally, figures
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db

_SCORE = "if(e.type = 'survey', JSONExtract(e.m_data, 'score', 'Nullable(Int64)'), NULL)"
_NAMED = "('track', 'cart', 'survey')"  # query/journey.py's _NAMED: the types whose action shows the name

# A touch as the walk and the tally read it: (ts, seq) first, so that the tuples sort in the walk's
# order; then the bits (`_Bits`), and the fields the tally counts.
_TOUCH = (
    ("page", "String", "if(e.type = 'pageview', ifNull(e.path, ''), '')"),  # '' where no page was seen
    ("touchpoint", "String", "toString(e.touchpoint)"),
    ("action", "String", f"if(e.type IN {_NAMED} AND ifNull(e.name, '') != '',"
                         " concat(toString(e.type), ' ', assumeNotNull(e.name)), toString(e.type))"),
    ("survey", "Nullable(String)", "if(e.type = 'survey', e.name, NULL)"), ("score", "Nullable(Int64)", _SCORE),
    ("scale", "Nullable(Int64)", "if(e.type = 'survey', JSONExtract(e.m_data, 'scale', 'Nullable(Int64)'), NULL)"),
    ("session", "String", "e.session_id"),
)
# Flags every touch carries in its first bits.
_FLAGS = ("s.has_replay = 1", "e.m_rage = 1", "e.m_dead = 1", "e.type = 'error'")
_REPLAY, _RAGE, _DEAD, _ERROR = (f"bitTest(b0, {bit})" for bit in range(len(_FLAGS)))


def _event_sql(m: Matcher) -> str:
    """What a matcher asks of the event itself, over `e` and its session `s` (1: nothing)."""
    clauses = [f"e.{name} = {lit(value)}" for name in ("type", "name", "touchpoint")
               if (value := getattr(m, name)) is not None]
    if m.channel is not None:
        clauses.append(f"s.channel = {lit(m.channel)}")
    if m.page is not None:
        clauses.append(url_match(m.page, "e"))
    if m.min_score is not None:
        clauses.append(f"{_SCORE} >= {lit(m.min_score)}")
    if m.max_score is not None:
        clauses.append(f"{_SCORE} <= {lit(m.max_score)}")
    # a NULL field fails its condition, as a None does in Python
    return f"ifNull({' AND '.join(clauses)}, 0)" if clauses else "1"


@dataclass
class _Bits:
    """What each event answers, a bit each, packed in UInt64 words b0, b1...: the flags, one bit per
    stage for its matchers that ask only of the event, one per matcher that also asks of the
    person's history (`new_visit`, `nth`), one per event type that `nth` counts."""

    conditions: list[str] = field(default_factory=lambda: list(_FLAGS))

    def add(self, sql: str) -> str:
        """A new bit for `sql`; the test of it on a touch's words (b0, b1... in a lambda)."""
        bit = len(self.conditions)
        self.conditions.append(sql)
        return f"bitTest(b{bit // 64}, {bit % 64})"

    def words(self) -> list[str]:
        return [" + ".join(f"bitShiftLeft(toUInt64({sql}), {bit % 64})" for bit, sql in enumerate(self.conditions)
                           if bit // 64 == word) for word in range((len(self.conditions) + 63) // 64)]


def _walk_sql(stages: Stages, bits: _Bits) -> tuple[list[str], list[str]]:
    """The per-person columns the walk needs (running counts for `nth`), and per stage the 1-based
    index `i{k}` of the touch that reached it, 0 from the first stage not reached."""
    nth_types = sorted({m.type for s in stages.stages for m in s.match if m.nth is not None and m.type})
    counted = [bits.add(f"e.type = {lit(kind)}") for kind in nth_types]
    tests = []
    for k, stage in enumerate(stages.stages):
        plain = [m for m in stage.match if not m.new_visit and m.nth is None]
        stage_tests = [bits.add(" OR ".join(f"({_event_sql(m)})" for m in plain))] if plain else []
        for m in stage.match:
            if (not m.new_visit and m.nth is None) or (m.new_visit and k == 0):
                continue  # plain, tested above; or a new visit after no stage at all
            test = bits.add(_event_sql(m))
            if m.new_visit:
                test += f" AND start > r[i{k - 1}].ts"
            if m.nth is not None:
                test += f" AND n{nth_types.index(m.type)} = {lit(m.nth)}"  # type: ignore[arg-type]
            stage_tests.append(test)
        tests.append(" OR ".join(stage_tests) or "0")
    words = range(len(bits.words()))
    columns = [f"arrayCumSum(arrayMap(b{int(t[len('bitTest(b'):].split(',')[0])} -> toUInt32({t}),"
               f" r.b{int(t[len('bitTest(b'):].split(',')[0])})) AS c{i}" for i, t in enumerate(counted)]
    new_visits = any(m.new_visit for s in stages.stages for m in s.match)
    params = ", ".join([*(f"b{w}" for w in words), "j", *(["start"] if new_visits else []),
                        *(f"n{i}" for i in range(len(nth_types)))])
    arrays = ", ".join([*(f"r.b{w}" for w in words), "arrayEnumerate(r)",
                        *(["r.session_start"] if new_visits else []), *(f"c{i}" for i in range(len(nth_types)))])
    indices = []
    for k, test in enumerate(tests):
        after = "1" if k == 0 else f"j >= i{k - 1}"  # from the touch that reached the stage before
        walk = f"arrayFirstIndex(({params}) -> {after} AND ({test}), {arrays})"
        indices.append(f"{walk} AS i0" if k == 0 else f"if(i{k - 1} = 0, 0, {walk}) AS i{k}")
    return columns, indices


# What each person adds to the map, as items (kind, stage, name, key, value, flag, visitor) that
# are then counted by (kind, stage, name, key): one kind per figure.
_ITEM = "Array(Tuple(UInt8, UInt8, String, Int64, Int64, UInt8, String))"
(PERSON, PAGE, TOUCHPOINT, ACTION, EXIT_PAGE, EXIT_TOUCHPOINT, ANSWER, SESSION, RAGE, DEAD, ERROR,
 REPLAY) = range(12)
_RANKED = (PAGE, TOUCHPOINT, ACTION, EXIT_PAGE, EXIT_TOUCHPOINT, REPLAY)
_NO_SCALE = 999  # an answer's key is score * 1000 + scale, this for no scale


def _items(kind: int, array: str, stage: str = "p.1", name: str = "''", key: str = "0", value: str = "0",
           flag: str = "0", who: str = "''") -> str:
    return f"CAST(arrayMap(p -> ({kind}, {stage}, {name}, {key}, {value}, {flag}, {who}), {array}), {lit(_ITEM)})"


def journey_map_sql(db: Db, scope: Scope, stages: Stages) -> str:
    n = len(stages.stages)
    bits = _Bits()
    columns, indices = _walk_sql(stages, bits)
    new_visits = any(m.new_visit for s in stages.stages for m in s.match)
    fields = [("ts", "Int64", "e.ts"), ("seq", "UInt64", "e.seq"),
              *((f"b{w}", "UInt64", sql) for w, sql in enumerate(bits.words())),
              *([("session_start", "Int64", "s.first_ts")] if new_visits else []), *_TOUCH]
    touch_type = ", ".join(f"{name} {kind}" for name, kind, _ in fields)
    values = ", ".join(sql for _, _, sql in fields)
    touches = (
        f"SELECT s.visitor_id AS visitor, arraySort(groupArray(CAST(tuple({values}), 'Tuple({touch_type})'))) AS r"
        f" FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s"
        f" ON s.id = e.session_id WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
        " GROUP BY s.visitor_id"
    )
    i = [f"i{k}" for k in range(n)]
    # Per person: the walk (`at`: per stage the touch that reached it); `st`, per touch the stage it
    # is held at (0: before the first); `m`, the stages reached (who dropped, dropped at stage m).
    walked = (
        f"SELECT visitor, r, {''.join(f'{c}, ' for c in columns)}{', '.join(indices)}, [{', '.join(i)}] AS at,"
        f" arrayMap(j -> r.ts[j], at) AS reached_ts,"
        f" arrayCumSum(arrayMap(j -> {' + '.join(f'(j = {a})' for a in i)}, arrayEnumerate(r))) AS st,"
        f" {' + '.join(f'({a} > 0)' for a in i)} AS m, m > 0 AND m < {n} AS dropped,"
        " arrayLast((p, s) -> p != '' AND s = m, r.page, st) AS exit_page,"
        f" arrayLastIndex((b0, s) -> {_REPLAY} AND s = m, r.b0, st) AS replayed"
        f" FROM ({touches})"
    )
    flagged = "arrayFilter((s, b0) -> s > 0 AND {}, st, r.b0)"
    items = "arrayConcat(" + ", ".join((
        # stage 0: the person; then each stage reached, with the wait until the next if reached
        _items(PERSON, "range(0, m + 1)", stage="p", value="if(p > 0 AND at[p + 1] > 0, reached_ts[p + 1] - reached_ts[p], 0)",
               flag="p > 0 AND at[p + 1] > 0"),
        _items(PAGE, "arrayDistinct(arrayFilter(p -> p.1 > 0 AND p.2 != '', arrayZip(st, r.page)))", name="p.2"),
        _items(TOUCHPOINT, "arrayDistinct(arrayFilter(p -> p.1 > 0, arrayZip(st, r.touchpoint)))", name="p.2"),
        _items(ACTION, "arrayDistinct(arrayFilter(p -> p.1 > 0, arrayZip(st, r.action)))", name="p.2"),
        _items(EXIT_PAGE, "if(dropped AND exit_page != '', [exit_page], [])", stage="m", name="p"),
        _items(EXIT_TOUCHPOINT, "if(dropped, [r.touchpoint[-1]], [])", stage="m", name="p"),
        _items(ANSWER, "arrayFilter(p -> p.1 > 0 AND p.2 IN ('nps', 'csat', 'ces') AND p.3 IS NOT NULL,"
               " arrayZip(st, r.survey, r.score, r.scale))", name="assumeNotNull(p.2)",
               key=f"assumeNotNull(p.3) * 1000 + ifNull(p.4, {_NO_SCALE})"),
        _items(SESSION, "arrayDistinct(arrayFilter(p -> p.1 > 0, arrayZip(st, r.session)))"),
        *(_items(kind, flagged.format(flag), stage="p") for kind, flag in ((RAGE, _RAGE), (DEAD, _DEAD), (ERROR, _ERROR))),
        # the latest touch with a replay (one per person, so one per session)
        _items(REPLAY, "if(dropped AND replayed > 0, [replayed], [])", stage="m", name="r.session[p]",
               key="r.ts[p]", who="visitor"),
    )) + ")"
    counted = (
        "SELECT item.1 AS kind, item.2 AS stage, item.3 AS name, item.4 AS key, count() AS c,"
        " countIf(item.6 = 1) AS going, quantileExactLowIf(0.5)(item.5, item.6 = 1) AS low,"
        " quantileExactHighIf(0.5)(item.5, item.6 = 1) AS high, any(item.7) AS who"
        f" FROM ({walked}) ARRAY JOIN {items} AS item GROUP BY kind, stage, name, key"
    )
    # the TOP of each ranked kind per stage: the most people first, ties by name (query/journey.py's
    # _rank); the replays the latest first, ties by session
    rank = (f"row_number() OVER (PARTITION BY kind, stage ORDER BY if(kind = {REPLAY}, -key, -toInt64(c)), name)")
    return (f"SELECT kind, stage, name, key, c, going, low, high, who FROM (SELECT *, {rank} AS rank FROM ({counted}))"
            f" WHERE kind NOT IN {_RANKED} OR rank <= if(kind = {REPLAY}, {REPLAYS_SHOWN}, {TOP})"
            " ORDER BY kind, stage, rank SETTINGS output_format_json_quote_64bit_integers = 0")


def journey_map(db: Db, scope: Scope, stages: Stages) -> dict[str, Any]:
    """The map as the API answers it."""
    return figures(stages, *tally(db, scope, stages))


def tally(db: Db, scope: Scope, stages: Stages) -> tuple[int, list[StageTally]]:
    """The people in scope and each stage's tally, as query/journey.py's `tally` counts them."""
    n = len(stages.stages)
    people = 0
    reached, going, middle = [0] * (n + 2), [0] * (n + 1), [None] * (n + 1)
    ranked: dict[tuple[int, int], list[tuple[str, int]]] = {}
    answers: list[Counter[tuple[str | None, int, int | None]]] = [Counter() for _ in range(n + 1)]
    sums = {kind: [0] * (n + 1) for kind in (SESSION, RAGE, DEAD, ERROR)}
    replays: list[list[tuple[int, str, str]]] = [[] for _ in range(n + 1)]
    for kind, stage, name, key, count, went_on, low, high, who in db.rows(journey_map_sql(db, scope, stages)):
        if kind == PERSON:
            if stage == 0:
                people = count
            reached[stage], going[stage] = count, went_on
            middle[stage] = (low, high) if went_on else None
        elif kind == ANSWER:
            score, scale = divmod(key, 1000)
            answers[stage][(name, score, None if scale == _NO_SCALE else scale)] = count
        elif kind in sums:
            sums[kind][stage] = count
        elif kind == REPLAY:
            replays[stage].append((key, name, who))
        else:
            ranked.setdefault((kind, stage), []).append((name, count))
    return people, [
        StageTally(
            reached[k], middle[k], reached[k] - reached[k + 1] if k < n else 0,
            ranked.get((PAGE, k), []), ranked.get((TOUCHPOINT, k), []), ranked.get((ACTION, k), []), answers[k],
            sums[SESSION][k], sums[RAGE][k], sums[DEAD][k], sums[ERROR][k],
            ranked.get((EXIT_PAGE, k), []), ranked.get((EXIT_TOUCHPOINT, k), []), replays[k],
        )
        for k in range(1, n + 1)
    ]
