"""The journey map on ClickHouse: the walk of query/journey.py and each stage's tally, in SQL.

Each event is tested once, column by column, against what every matcher asks of the event itself
(type, name, page, touchpoint, channel, score): the answers are bits. Each person's touches then
become arrays, one per field (`r_ts`, `r_b0`... `r_session`), in the Python walk's order (time, then
arrival): those bits and numbers standing for what the tally counts (a page, touchpoint, action or
session as 56 bits of its hash, a survey answer as a code). Arrays of numbers cost a fraction of
arrays of strings, and gather faster apart than as one array of tuples. The
walk is a chain of `arrayFirstIndex`, each from the touch that reached the stage before, where
what a matcher asks of the person's history (`new_visit`, `nth`) is added. Each person then adds
items (one UInt64 key each: name, kind, stage) that one GROUP BY counts; the few names the answer
shows are looked up by their hashes in a second, small query and ranked here (ties by name), as
query/journey.py ranks them. Two names with one hash would be counted as one (with 56 bits and
thousands of names, a chance of about one in ten billion): the lookup sees it, since the merged
item is among those shown or else changes nothing shown, and then the map is drawn by the walk over
the touches themselves, so that the answer is exact either way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from collector.query.cx import KINDS
from collector.query.journey import REPLAYS_SHOWN, TOP, Matcher, Ranked, Stages, StageTally, figures
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db

_SCORE = "if(e.type = 'survey', JSONExtract(e.m_data, 'score', 'Nullable(Int64)'), NULL)"
_SCALE = "if(e.type = 'survey', JSONExtract(e.m_data, 'scale', 'Nullable(Int64)'), NULL)"
_NAMED = "('track', 'cart', 'survey')"  # query/journey.py's _NAMED: the types whose action shows the name
# What a touch shows, as query/journey.py's action_of and _what_happens read it: its action, its page.
_ACTION = (f"if(e.type IN {_NAMED} AND ifNull(e.name, '') != '',"
           " concat(toString(e.type), ' ', assumeNotNull(e.name)), toString(e.type))")
_PAGE = "ifNull(e.path, '')"  # of a pageview; '' is no page
_TOUCHPOINT = "toString(e.touchpoint)"
_NO_SCALE = 999
# A survey answer as one number: kind (1 + its index in KINDS), score and scale; 0: not an answer.
_ANSWER = (f"if(e.type = 'survey' AND e.name IN {lits(KINDS)} AND {_SCORE} IS NOT NULL,"
           f" toUInt64(indexOf([{', '.join(lit(k) for k in KINDS)}], e.name)) * 1000000"
           f" + toUInt64(assumeNotNull({_SCORE})) * 1000 + toUInt64(ifNull({_SCALE}, {_NO_SCALE})), 0)")


NAME_BITS = 56  # of a name's hash: an item's key keeps 8 bits for kind and stage


def _hash(sql: str) -> str:
    """A name as a number: NAME_BITS of its hash."""
    return f"bitShiftRight(cityHash64({sql}), {64 - NAME_BITS})"


def _touch() -> tuple[tuple[str, str], ...]:
    """A touch as the walk and the tally read it, after (ts, seq) and the bits: numbers only."""
    return (
        ("page", f"if(e.type = 'pageview' AND {_PAGE} != '', {_hash(_PAGE)}, 0)"),
        ("touchpoint", _hash(_TOUCHPOINT)),
        ("action", _hash(_ACTION)),
        ("answer", _ANSWER),
        ("session", _hash("e.session_id")),
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

    def add(self, sql: str) -> tuple[int, str]:
        """A new bit for `sql`: its word, and the test of it on a touch's words (b0, b1... in a lambda)."""
        bit = len(self.conditions)
        self.conditions.append(sql)
        return bit // 64, f"bitTest(b{bit // 64}, {bit % 64})"

    def words(self) -> list[str]:
        return [" + ".join(f"bitShiftLeft(toUInt64({sql}), {bit % 64})" for bit, sql in enumerate(self.conditions)
                           if bit // 64 == word) for word in range((len(self.conditions) + 63) // 64)]


def _walk_sql(stages: Stages, bits: _Bits) -> tuple[list[str], list[str]]:
    """The per-person columns the walk needs (running counts for `nth`), and per stage the 1-based
    index `i{k}` of the touch that reached it, 0 from the first stage not reached."""
    nth_types = sorted({m.type for s in stages.stages for m in s.match if m.nth is not None and m.type})
    columns = []
    for i, kind in enumerate(nth_types):
        word, test = bits.add(f"e.type = {lit(kind)}")
        columns.append(f"arrayCumSum(arrayMap(b{word} -> toUInt32({test}), r_b{word})) AS c{i}")
    tests = []
    for k, stage in enumerate(stages.stages):
        plain = [m for m in stage.match if not m.new_visit and m.nth is None]
        stage_tests = [bits.add(" OR ".join(f"({_event_sql(m)})" for m in plain))[1]] if plain else []
        for m in stage.match:
            if (not m.new_visit and m.nth is None) or (m.new_visit and k == 0):
                continue  # plain, tested above; or a new visit after no stage at all
            test = bits.add(_event_sql(m))[1]
            if m.new_visit:
                test += f" AND start > r_ts[i{k - 1}]"
            if m.nth is not None and m.type is not None:
                test += f" AND n{nth_types.index(m.type)} = {lit(m.nth)}"
            stage_tests.append(test)
        tests.append(" OR ".join(stage_tests) or "0")
    words = range(len(bits.words()))
    new_visits = any(m.new_visit for s in stages.stages for m in s.match)
    params = ", ".join([*(f"b{w}" for w in words), "j", *(["start"] if new_visits else []),
                        *(f"n{i}" for i in range(len(nth_types)))])
    arrays = ", ".join([*(f"r_b{w}" for w in words), "arrayEnumerate(r_ts)",
                        *(["r_session_start"] if new_visits else []), *(f"c{i}" for i in range(len(nth_types)))])
    indices = []
    for k, test in enumerate(tests):
        after = "1" if k == 0 else f"j >= i{k - 1}"  # from the touch that reached the stage before
        walk = f"arrayFirstIndex(({params}) -> {after} AND ({test}), {arrays})"
        indices.append(f"{walk} AS i0" if k == 0 else f"if(i{k - 1} = 0, 0, {walk}) AS i{k}")
    return columns, indices


# What each person adds to the map: items, each a key (name << 8 | kind << 4 | stage: `name` a
# hash or a code, 0 for none) and a value, counted by key. Ranked kinds come back with every name
# tied with the TOP (names break the ties, below).
(PERSON, GOING, PAGE, TOUCHPOINT, ACTION, EXIT_PAGE, EXIT_TOUCHPOINT, ANSWER, SESSION, RAGE, DEAD, ERROR,
 REPLAY) = range(13)
_RANKED = (PAGE, TOUCHPOINT, ACTION, EXIT_PAGE, EXIT_TOUCHPOINT, REPLAY)


def _key(kind: int, stage: str, name: str = "0") -> str:
    return f"bitShiftLeft(toUInt64({name}), 8) + {kind * 16} + toUInt64({stage})"


def _held(kind: int, column: str) -> str:
    """Per person, the distinct (stage, name) of a touch column at the stages reached (named)."""
    return (f"arrayDistinct(arrayFilter(x -> bitAnd(x, 15) > 0 AND x > 255,"
            f" arrayMap((h, s) -> {_key(kind, 's', 'h')}, r_{column}, st)))")


# Items without a value; then the items with one: who went on from each stage (the wait, ms), and
# the replays of those who dropped (the time of the latest touch with a replay, one per person).
_KEYS = ", ".join((
    "range(0, m + 1)",  # PERSON: stage 0 the person, then each stage reached
    _held(PAGE, "page"), _held(TOUCHPOINT, "touchpoint"), _held(ACTION, "action"),
    # the sessions: one item per stage and session
    f"arrayMap(x -> bitAnd(x, 255), {_held(SESSION, 'session')})",
    f"arrayFilter(x -> bitAnd(x, 15) > 0 AND x > 255, arrayMap((a, s) -> {_key(ANSWER, 's', 'a')}, r_answer, st))",
    *(f"arrayMap(s -> {_key(kind, 's')}, arrayFilter((s, b0) -> s > 0 AND {flag}, st, r_b0))"
      for kind, flag in ((RAGE, _RAGE), (DEAD, _DEAD), (ERROR, _ERROR))),
    # of those who dropped (at stage m): the last page seen, the touchpoint of the last touch
    f"if(dropped AND exit_page != 0, [{_key(EXIT_PAGE, 'm', 'exit_page')}], [])",
    f"if(dropped, [{_key(EXIT_TOUCHPOINT, 'm', 'r_touchpoint[-1]')}], [])",
))
_GOING = "arrayFilter(k -> at[k + 1] > 0, range(1, m + 1))"  # the stages after which the next was reached
_VALUED_KEYS = (f"arrayMap(k -> {_key(GOING, 'k')}, {_GOING}),"
                f" if(dropped AND replayed > 0, [{_key(REPLAY, 'm', 'r_session[replayed]')}], [])")
_VALUES = "arrayMap(k -> r_ts[at[k + 1]] - r_ts[at[k]], {going}), if(dropped AND replayed > 0, [r_ts[replayed]], [])"


def journey_map_sql(db: Db, scope: Scope, stages: Stages) -> str:
    n = len(stages.stages)
    bits = _Bits()
    columns, indices = _walk_sql(stages, bits)
    new_visits = any(m.new_visit for s in stages.stages for m in s.match)
    fields = [("ts", "e.ts"), *((f"b{w}", sql) for w, sql in enumerate(bits.words())),
              *([("session_start", "s.first_ts")] if new_visits else []), *_touch()]
    # Each field its own array (arrays of numbers gather at a fraction of the cost of an array of
    # tuples), then all in the walk's order, (ts, seq), by one permutation.
    gathered = ", ".join(f"groupArray({sql}) AS g_{name}" for name, sql in fields)
    touches = (
        f"SELECT {', '.join(f'arrayMap(j -> g_{name}[j], in_order) AS r_{name}' for name, _ in fields)}"
        " FROM (SELECT arraySort((j, t, q) -> (t, q), arrayEnumerate(g_ts), g_ts, g_seq) AS in_order, *"
        f" FROM (SELECT groupArray(e.seq) AS g_seq, {gathered}"
        f" FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s"
        f" ON s.id = e.session_id WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
        " GROUP BY s.visitor_id))"
    )
    r = ", ".join(f"r_{name}" for name, _ in fields)
    i = [f"i{k}" for k in range(n)]
    # Per person: the walk (`at`: per stage the touch that reached it); `st`, per touch the stage it
    # is held at (0: before the first); `m`, the stages reached (who dropped, dropped at stage m).
    # one stage a level: an alias used in the next stage's walk would be spelled out there again, and
    # the query tree grow with the power of the stages
    walk = f"SELECT {r}{''.join(f', {c}' for c in columns)} FROM ({touches})"
    counts = "".join(f", c{c}" for c in range(len(columns)))
    for k, index in enumerate(indices):
        walk = f"SELECT {r}{counts}{''.join(f', {a}' for a in i[:k])}, {index} FROM ({walk})"
    walked = (
        f"SELECT {r}, [{', '.join(i)}] AS at,"
        f" arrayCumSum(arrayMap(j -> {' + '.join(f'(j = {a})' for a in i)}, arrayEnumerate(r_ts))) AS st,"
        f" {' + '.join(f'({a} > 0)' for a in i)} AS m, m > 0 AND m < {n} AS dropped,"
        " arrayLast((p, s) -> p != 0 AND s = m, r_page, st) AS exit_page,"
        f" arrayLastIndex((b0, s) -> {_REPLAY} AND s = m, r_b0, st) AS replayed"
        f" FROM ({walk})"
    )
    items = (f"SELECT arrayConcat({_KEYS}) AS plain, arrayConcat(plain, {_VALUED_KEYS}) AS keys,"
             f" arrayConcat(arrayWithConstant(length(plain), toInt64(0)), {_VALUES.format(going=_GOING)}) AS values"
             f" FROM ({walked})")
    going = f"bitAnd(key, 255) DIV 16 = {GOING}"
    counted = (
        f"SELECT key, count() AS c, quantileExactLowIf(0.5)(value, {going}) AS low,"
        f" quantileExactHighIf(0.5)(value, {going}) AS high, max(value) AS latest"
        f" FROM ({items}) ARRAY JOIN keys AS key, values AS value GROUP BY key"
    )
    # rank() keeps every name tied with the TOP; replays rank by time
    kind = "bitAnd(key, 255) DIV 16"
    rank = f"rank() OVER (PARTITION BY bitAnd(key, 255) ORDER BY if({kind} = {REPLAY}, latest, toInt64(c)) DESC)"
    return (f"SELECT key, c, low, high, latest FROM (SELECT *, {rank} AS rank FROM ({counted}))"
            f" WHERE {kind} NOT IN {_RANKED} OR rank <= if({kind} = {REPLAY}, {REPLAYS_SHOWN}, {TOP})"
            " SETTINGS output_format_json_quote_64bit_integers = 0")


# The hashes' domains, and how each is looked up: (name, where) over the events of the range's days.
_DOMAINS = {PAGE: (_PAGE, "e.type = 'pageview'"), TOUCHPOINT: (_TOUCHPOINT, "1"), ACTION: (_ACTION, "1")}
_DOMAIN_OF = {PAGE: PAGE, EXIT_PAGE: PAGE, TOUCHPOINT: TOUCHPOINT, EXIT_TOUCHPOINT: TOUCHPOINT, ACTION: ACTION}


class Collision(Exception):
    """Two names of the answer share a hash."""


def _names(db: Db, scope: Scope, wanted: dict[int, set[int]]) -> dict[tuple[int, int], list[str]]:
    """The names behind the hashes wanted, per domain (REPLAY: a session's id and visitor); Collision
    when a hash stands for two."""
    site = lit(scope.site_id)
    # Each distinct name hashed once: a site has far fewer names than events, and the page and
    # touchpoint columns give theirs from their dictionaries (20 ms against 35 on a 7-day map at
    # 5.1M events).
    parts = [
        f"SELECT {domain}, {_hash('name')} AS h, groupUniqArray(2)([name]) FROM (SELECT DISTINCT {name} AS name"
        f" FROM {db.t('events')} AS e WHERE e.site_id = {site}{since_sql('e', scope.start)} AND {where})"
        f" WHERE h IN {lits(sorted(wanted[domain]))} GROUP BY h"
        for domain, (name, where) in _DOMAINS.items() if wanted.get(domain)
    ]
    if wanted.get(REPLAY):
        parts.append(f"SELECT {REPLAY}, {_hash('s.id')} AS h, groupUniqArray(2)([s.id, s.visitor_id])"
                     f" FROM {sessions_in(db.layout)} WHERE s.site_id = {site} AND h IN {lits(sorted(wanted[REPLAY]))}"
                     " GROUP BY h")
    if not parts:
        return {}
    found = {}
    rows = db.rows(" UNION ALL ".join(parts) + " SETTINGS output_format_json_quote_64bit_integers = 0")
    for domain, h, names in rows:
        if len(names) > 1:
            raise Collision
        found[(domain, h)] = names[0]
    return found


def journey_map(db: Db, scope: Scope, stages: Stages) -> dict[str, Any]:
    """The map as the API answers it, from the tallies counted in SQL (Collision: the store walks
    the touches instead)."""
    return figures(stages, *tally(db, scope, stages))


def tally(db: Db, scope: Scope, stages: Stages) -> tuple[int, list[StageTally]]:
    """The people in scope and each stage's tally, as query/journey.py's `tally` counts them."""
    n = len(stages.stages)
    people = 0
    reached = [0] * (n + 2)
    middle: list[tuple[int, int] | None] = [None] * (n + 1)
    candidates: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (kind, stage): (hash, count)
    answers: list[Counter[tuple[str | None, int, int | None]]] = [Counter() for _ in range(n + 1)]
    sums = {kind: [0] * (n + 1) for kind in (SESSION, RAGE, DEAD, ERROR)}
    for key, count, low, high, latest in db.rows(journey_map_sql(db, scope, stages)):
        name, kind, stage = key >> 8, (key >> 4) & 15, key & 15
        if kind == PERSON:
            if stage == 0:
                people = count
            reached[stage] = count
        elif kind == GOING:
            middle[stage] = (low, high)
        elif kind == ANSWER:
            survey, rest = divmod(name, 1_000_000)
            score, scale = divmod(rest, 1000)
            answers[stage][(KINDS[survey - 1], score, None if scale == _NO_SCALE else scale)] = count
        elif kind in sums:
            sums[kind][stage] = count
        else:
            candidates[(kind, stage)].append((name, latest if kind == REPLAY else count))
    wanted: dict[int, set[int]] = defaultdict(set)
    for (kind, _), found in candidates.items():
        wanted[_DOMAIN_OF.get(kind, kind)].update(h for h, _ in found)
    names = _names(db, scope, wanted)

    def ranked(kind: int, stage: int) -> Ranked:
        domain = _DOMAIN_OF[kind]
        named = [(names[(domain, h)][0], count) for h, count in candidates.get((kind, stage), [])]
        return sorted(named, key=lambda item: (-item[1], item[0]))[:TOP]

    def replays(stage: int) -> list[tuple[int, str, str]]:
        found = []
        for h, ts in candidates.get((REPLAY, stage), []):
            session, visitor = names[(REPLAY, h)]
            found.append((ts, session, visitor))
        return sorted(found, key=lambda r: (-r[0], r[1]))[:REPLAYS_SHOWN]

    return people, [
        StageTally(
            reached[k], middle[k], reached[k] - reached[k + 1] if k < n else 0,
            ranked(PAGE, k), ranked(TOUCHPOINT, k), ranked(ACTION, k), answers[k],
            sums[SESSION][k], sums[RAGE][k], sums[DEAD][k], sums[ERROR][k],
            ranked(EXIT_PAGE, k), ranked(EXIT_TOUCHPOINT, k), replays(k),
        )
        for k in range(1, n + 1)
    ]
