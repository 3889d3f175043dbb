"""The journey map: a site's stages, matched against each person's touches, and what each stage holds.

Engine-neutral: an engine hands over plain `Touch` rows (one per event of the sessions in scope,
with the session's facts beside it, ordered by person and time) and this module does the rest,
so every store gives the same map for the same events. docs/metrics.md defines the numbers.
"""

from __future__ import annotations

import functools
import itertools
import operator
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Protocol

import msgspec
from msgspec import Meta, Struct

from collector.errors import ClientError
from collector.query.bulk import gc_paused
from collector.query.cx import KINDS, SCORERS, ratio
from collector.query.patterns import is_route_template, page_tests
from collector.wire import EVENT_TYPES

if TYPE_CHECKING:
    from collector.query.scope import Scope

Word = Annotated[str, Meta(min_length=1, max_length=256)]
TOP = 5  # the pages, touchpoints, actions and exits shown per stage
REPLAYS_SHOWN = 5  # replays of people who dropped out, per stage


class Matcher(Struct, kw_only=True, forbid_unknown_fields=True):
    """One way to reach a stage: an event with every field given here (the others are free)."""

    type: Word | None = None  # an event type (pageview, cart, purchase, survey, track...)
    name: Word | None = None  # the event's name: track name, survey kind, cart action
    page: Word | None = None  # a page pattern: exact URL, /path, * wildcard, /route/:id
    touchpoint: Annotated[str, Meta(min_length=1, max_length=32)] | None = None
    channel: Word | None = None  # the session's acquisition channel (organic, paid, email...)
    min_score: Annotated[int, Meta(ge=0, le=10)] | None = None  # survey answers from this score
    max_score: Annotated[int, Meta(ge=0, le=10)] | None = None
    new_visit: bool = False  # in a session that began after the stage before was reached
    nth: Annotated[int, Meta(ge=1, le=100)] | None = None  # the person's nth event of `type`

    def __post_init__(self) -> None:
        if self.type is not None and self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.nth is not None and self.type is None:
            raise ValueError("nth counts events of one type: give the type")
        if all(value is None or value is False for value in msgspec.structs.asdict(self).values()):  # 0 is a score
            raise ValueError("a matcher needs at least one condition")


class Stage(Struct, kw_only=True, forbid_unknown_fields=True):
    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    label: Annotated[str, Meta(min_length=1, max_length=64)]
    match: Annotated[list[Matcher], Meta(min_length=1, max_length=20)]


class Stages(Struct, kw_only=True, forbid_unknown_fields=True):
    stages: Annotated[list[Stage], Meta(min_length=2, max_length=8)]

    def __post_init__(self) -> None:
        keys = [s.key for s in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError("stage keys must be unique")


# A shop's journey, as journey-mapping practice draws it (docs/metrics.md, journey map).
DEFAULT_STAGES = Stages(stages=[
    Stage(key="awareness", label="Awareness", match=[
        Matcher(type="pageview"), Matcher(touchpoint="social"), Matcher(touchpoint="email"),
    ]),
    Stage(key="consideration", label="Consideration", match=[
        Matcher(type="pageview", page="/product/*"), Matcher(type="pageview", page="/products/*"),
        Matcher(type="cart", name="add"), Matcher(type="checkout"), Matcher(type="purchase"),
    ]),
    Stage(key="purchase", label="Purchase", match=[Matcher(type="checkout"), Matcher(type="purchase")]),
    Stage(key="retention", label="Retention", match=[
        Matcher(type="pageview", new_visit=True), Matcher(type="purchase", nth=2),
    ]),
    Stage(key="advocacy", label="Advocacy", match=[
        Matcher(type="survey", name="nps", min_score=9), Matcher(type="track", name="referral"),
    ]),
])

_stages_decoder = msgspec.json.Decoder(Stages)


def stages_of(settings: dict[str, object]) -> tuple[Stages, bool]:
    """A site's stages and whether they are its own (else the shop default)."""
    raw = settings.get("journey_stages")
    if raw is None:
        return DEFAULT_STAGES, False
    return msgspec.convert(raw, Stages), True


def parse_stages(body: bytes) -> Stages:
    try:
        return _stages_decoder.decode(body)
    except msgspec.ValidationError as e:
        raise ClientError(400, f"invalid stages: {e}") from None
    except msgspec.DecodeError as e:
        raise ClientError(400, f"malformed JSON: {e}") from None


class Touch(NamedTuple):
    """One event as the journey map reads it: a plain tuple, as an engine reads a million of them
    (`has_replay`, `rage` and `dead` may come as 0 and 1)."""

    visitor: str
    session: str
    session_start: int
    ts: int
    type: str
    name: str | None
    path: str | None
    route: str | None
    url: str | None
    touchpoint: str
    channel: str | None
    has_replay: bool | int
    score: int | None = None  # survey answers
    scale: int | None = None
    rage: bool | int = False
    dead: bool | int = False
    device: str | None = None  # the session's device bucket


@dataclass(frozen=True)
class Reading:
    """What a reader of touches looks at, so that an engine reads no more: a column not needed
    comes back None, and only the events in the window (or of the scope's goal) come back."""

    url: bool = True  # Touch.url
    route: bool = True  # Touch.route
    channel: bool = True  # Touch.channel
    device: bool = True  # Touch.device
    since: int | None = None  # events from this instant...
    before: int | None = None  # ...and before this one
    goal_type: str | None = None  # and the events of this type (and name, if given) whenever they happened
    goal_name: str | None = None


EVERYTHING = Reading()


def reading_of(stages: Stages) -> Reading:
    """What the map of these stages reads: URLs and routes only for the page patterns that need them,
    channels only for the matchers that name one, never the device."""
    matchers = [m for s in stages.stages for m in s.match]
    pages = [m.page for m in matchers if m.page is not None]
    return Reading(url=any(not p.startswith("/") for p in pages),
                   route=any(map(is_route_template, pages)),
                   channel=any(m.channel is not None for m in matchers), device=False)


def page_matches(pattern: str, touch: Touch) -> bool:
    """The same rule as the API's page patterns (docs/api.md): exact URL, /path, * and /route/:id."""
    return _page_rule(pattern)(touch)


@functools.lru_cache(maxsize=256)  # the walk and the outcome model test every touch: one call each
def _page_rule(pattern: str) -> Callable[[Touch], bool]:
    (name, test), *more = page_tests(pattern)
    field = operator.attrgetter(name)
    if not more:
        return lambda t: test(field(t))
    ((other_name, other_test),) = more  # a route template: its route, or its path
    other = operator.attrgetter(other_name)
    return lambda t: test(field(t)) or other_test(other(t))


# A matcher compiled once into a test of a person's touch: (their touches in time order, the
# touches' types, which touch, when the stage before was reached). The map runs it over the touches
# that can reach a stage, for every person.
Test = Callable[[Sequence[Touch], Sequence[str], int, int | None], bool]
_FIELDS = ("type", "name", "touchpoint", "channel")


def _test(m: Matcher) -> Test:
    fixed = tuple((Touch._fields.index(f), v) for f in _FIELDS if (v := getattr(m, f)) is not None)
    page = _page_rule(m.page) if m.page is not None else None
    low, high, new_visit, nth = m.min_score, m.max_score, m.new_visit, m.nth

    def test(own: Sequence[Touch], kinds: Sequence[str], j: int, last_reached: int | None) -> bool:
        t = own[j]
        for i, value in fixed:
            if t[i] != value:
                return False
        if page is not None and not page(t):
            return False
        if low is not None and (t.score is None or t.score < low):
            return False
        if high is not None and (t.score is None or t.score > high):
            return False
        if new_visit and (last_reached is None or t.session_start <= last_reached):
            return False
        return nth is None or _nth_index(kinds, t.type, nth) == j  # the person's nth of the type

    return test


def _nth_index(kinds: Sequence[str], kind: str, nth: int) -> int | None:
    j = -1
    for _ in range(nth):
        try:
            j = kinds.index(kind, j + 1)
        except ValueError:
            return None
    return j


def _types_of(stage: Stage) -> frozenset[str] | None:
    """The event types that can reach a stage, when every matcher names one (else None: any may)."""
    types = [m.type for m in stage.match]
    return None if None in types else frozenset(t for t in types if t is not None)


def _candidates(kinds: Sequence[str], start: int, types: frozenset[str] | None) -> Iterable[int]:
    """The touches from `start` on whose type may reach a stage, in order (picked out in C)."""
    if types is None:
        return range(start, len(kinds))
    return itertools.compress(itertools.count(start), map(types.__contains__, itertools.islice(kinds, start, None)))


def _walk(own: Sequence[Touch], tests: list[list[Test]], types: list[frozenset[str] | None]) -> list[int]:
    """Which touch reached each stage, for as many stages as the person reached.

    Stages are a sequence, like funnel steps: each is reached by its first matching touch once the
    one before is reached; one touch may reach several in a row (a purchase without a product view
    is also the consideration, when the stage says so)."""
    kinds = list(map(_type, own))
    at: list[int] = []
    start = 0
    for stage_tests, stage_types in zip(tests, types, strict=True):
        last = own[at[-1]].ts if at else None
        for j in _candidates(kinds, start, stage_types):
            if any(test(own, kinds, j, last) for test in stage_tests):
                at.append(j)
                start = j
                break
        else:
            break
    return at


def action_of(t: Touch) -> str:
    """What a person did, in the words the map shows: `pageview`, `cart add`, `track support_call`."""
    return _action(t.type, t.name)


_NAMED = frozenset(("track", "cart", "survey"))
_PAGEVIEW = "pageview".__eq__


def _action(kind: str, name: str | None) -> str:
    if kind in _NAMED and name:
        return f"{kind} {name}"
    return kind


# A stage's survey answers as the CX scores and the emotion line read them: (kind, score, scale) and
# how many such answers there are.
Answers = Counter[tuple[str | None, int, int | None]]


class _Answer(NamedTuple):
    score: int
    scale: int | None


def feeling(answers: Answers) -> float | None:
    """The emotion line: each answer on -100..100 (NPS 0..10, CSAT 1..scale, CES 1..5, each scale's
    middle is 0), averaged, to one decimal; None without answers. Summed as exact fractions: a float
    sum would depend on the order an engine happens to count the answers in."""
    total, n = Fraction(0), 0
    for (kind, score, scale), count in answers.items():
        if kind == "nps":
            value = Fraction(score - 5, 5)
        elif kind == "csat":
            value = Fraction(2 * (score - 1), (scale or 5) - 1) - 1
        elif kind == "ces":
            value = Fraction(score - 3, 2)
        else:
            continue
        total += value * count
        n += count
    return float(round(100 * total / n, 1)) if n else None


# Fields picked out in C, for the passes over every touch.
_FIELD = {f: operator.itemgetter(i) for i, f in enumerate(Touch._fields)}
_visitor, _session, _ts, _type, _path, _touchpoint, _rage, _dead = (
    _FIELD[f] for f in ("visitor", "session", "ts", "type", "path", "touchpoint", "rage", "dead"))


Ranked = list[tuple[str, int]]  # names and how many people, the most first, ties by name, at most TOP


def _rank(counter: Counter[str]) -> Ranked:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _top(ranked: Ranked) -> list[dict[str, Any]]:
    return [{"name": name, "people": n} for name, n in ranked]


Reached = list[dict[str, int]]  # per stage: when each person who reached it did
Held = list[dict[str, list[Touch]]]  # per stage: each such person's touches from then until the next stage


def reach(stages: Stages, touches: Iterable[Touch]) -> tuple[int, Reached, Held]:
    """The people, and per stage who reached it when, and the touches each held there (a touch
    that reaches several stages at once is held at the furthest)."""
    n = len(stages.stages)
    tests = [[_test(m) for m in stage.match] for stage in stages.stages]
    types = [_types_of(stage) for stage in stages.stages]
    by_person: dict[str, list[Touch]] = defaultdict(list)
    for visitor, group in itertools.groupby(touches, _visitor):  # engines give a person's touches in a row
        by_person[visitor].extend(group)
    held: Held = [{} for _ in range(n)]
    reached_at: Reached = [{} for _ in range(n)]
    for visitor, own in by_person.items():
        own.sort(key=_ts)
        at = _walk(own, tests, types)
        for k, j in enumerate(at):
            reached_at[k][visitor] = own[j].ts
            held[k][visitor] = own[j:at[k + 1]] if k + 1 < len(at) else own[j:]
    return len(by_person), reached_at, held


class _Touches(Protocol):
    def journey_touches(self, scope: Scope, reading: Reading = ...) -> list[Touch]: ...


def read_map(store: _Touches, scope: Scope, stages: Stages) -> dict[str, Any]:
    """The map as the API answers it: the touches these stages look at, walked while the garbage
    collector is paused (query/bulk.py says why)."""
    with gc_paused():
        return journey_map(stages, store.journey_touches(scope, reading_of(stages)))


class StageTally(NamedTuple):
    """What one stage's figures are made of, as an engine counts them: the walk below in Python,
    or an engine's own query that counts the same (`figures` makes the answer of either)."""

    people: int  # who reached the stage
    middle_waits: tuple[int, int] | None  # the two middle waits (ms) of those who reached the next (one twice if odd)
    dropped: int  # who reached it and not the next
    pages: Ranked  # the pages viewed, touchpoints used and actions done there (people each)
    touchpoints: Ranked
    actions: Ranked
    answers: Answers  # the survey answers given there
    sessions: int  # the sessions of the touches held there, and their rage and dead clicks and errors
    rage: int
    dead: int
    errors: int
    exit_pages: Ranked  # of those who dropped: the last page seen, the last touchpoint
    exit_touchpoints: Ranked
    replays: list[tuple[int, str, str]]  # of those who dropped: (ts, session, visitor), the latest first


def journey_map(stages: Stages, touches: Iterable[Touch]) -> dict[str, Any]:
    """Per stage: reach, conversion, time to the next, touchpoints, actions, CX, friction, exits."""
    return figures(stages, *tally(stages, touches))


def tally(stages: Stages, touches: Iterable[Touch]) -> tuple[int, list[StageTally]]:
    """The people, and each stage's tally, from the walk over every touch."""
    n = len(stages.stages)
    people, reached_at, held = reach(stages, touches)
    tallies = []
    for k in range(n):
        reached = reached_at[k]
        following = reached_at[k + 1] if k + 1 < n else {}
        waits = sorted(following[v] - reached[v] for v in following)
        dropped = [v for v in reached if k + 1 < n and v not in following]
        stage_touches = list(itertools.chain.from_iterable(held[k].values()))
        answers: Answers = Counter((t.name, t.score, t.scale) for t in stage_touches
                                   if t.type == "survey" and t.name in KINDS and t.score is not None)
        exit_pages, exit_touchpoints = _exits(dropped, held[k])
        tallies.append(StageTally(
            len(reached), (waits[(len(waits) - 1) // 2], waits[len(waits) // 2]) if waits else None,
            len(dropped), *_what_happens(held[k]), answers, len(set(map(_session, stage_touches))),
            sum(map(_rage, stage_touches)), sum(map(_dead, stage_touches)),
            operator.countOf(map(_type, stage_touches), "error"), exit_pages, exit_touchpoints,
            _replays(dropped, held[k]),
        ))
    return people, tallies


def figures(stages: Stages, people: int, tallies: Sequence[StageTally]) -> dict[str, Any]:
    """The map as the API answers it, from the people in scope and each stage's tally."""
    n = len(stages.stages)
    result = []
    for k, (stage, t) in enumerate(zip(stages.stages, tallies, strict=True)):
        result.append({
            "key": stage.key,
            "label": stage.label,
            "people": t.people,
            "conversion": ratio(t.people, people if k == 0 else tallies[k - 1].people),
            # statistics.median of the middle two is the median of all the waits
            "median_s_to_next": statistics.median(t.middle_waits) / 1000 if t.middle_waits else None,
            "dropped": t.dropped if k + 1 < n else None,
            "pages": _top(t.pages),
            "touchpoints": _top(t.touchpoints),
            "actions": _top(t.actions),
            "cx": _cx(t.answers),
            "emotion": feeling(t.answers),
            "friction": {
                "sessions": t.sessions, "rage_clicks": t.rage, "dead_clicks": t.dead, "errors": t.errors,
                "rage_per_session": ratio(t.rage, t.sessions), "dead_per_session": ratio(t.dead, t.sessions),
                "errors_per_session": ratio(t.errors, t.sessions),
            },
            "exits": {"pages": _top(t.exit_pages), "touchpoints": _top(t.exit_touchpoints)},
            "dropped_replays": [{"session_id": session, "visitor_id": visitor, "ts": ts}
                                for ts, session, visitor in t.replays],
        })
    return {"people": people, "stages": result}


def _what_happens(held: dict[str, list[Touch]]) -> tuple[Ranked, Ranked, Ranked]:
    pages: Counter[str] = Counter()
    touchpoints: Counter[str] = Counter()
    actions: Counter[str] = Counter()
    for own in held.values():  # each counts the people, not the events
        kinds = list(map(_type, own))
        viewed = set(map(_path, itertools.compress(own, map(_PAGEVIEW, kinds))))
        viewed.discard(None)
        viewed.discard("")
        pages.update(viewed)
        touchpoints.update(set(map(_touchpoint, own)))
        done = set(kinds)
        named = done & _NAMED
        if named:  # only these types have a name in their action
            done -= named
            done.update({_action(t.type, t.name) for t in own if t.type in named})
        actions.update(done)
    return _rank(pages), _rank(touchpoints), _rank(actions)


def _cx(answers: Answers) -> dict[str, Any]:
    """The CX scores of a stage's survey answers, by the survey page's scorers."""
    scores = {}
    for kind in KINDS:
        of_kind = [_Answer(score, scale) for (name, score, scale), count in answers.items() if name == kind
                   for _ in range(count)]
        full = SCORERS[kind](of_kind)
        scores[kind] = {"responses": full["responses"], "score": full["score"] if of_kind else None}
    return scores


def _exits(dropped: list[str], held: dict[str, list[Touch]]) -> tuple[Ranked, Ranked]:
    """Where those who left went instead: the last page they saw, the touchpoint they ended on."""
    pages: Counter[str] = Counter()
    touchpoints: Counter[str] = Counter()
    for visitor in dropped:
        own = held[visitor]
        last_page = next((t.path for t in reversed(own) if t.type == "pageview" and t.path), None)
        if last_page:
            pages[last_page] += 1
        touchpoints[own[-1].touchpoint] += 1
    return _rank(pages), _rank(touchpoints)


def _replays(dropped: list[str], held: dict[str, list[Touch]]) -> list[tuple[int, str, str]]:
    """The recorded sessions in which people left at this stage, the latest first."""
    found: dict[str, Touch] = {}
    for visitor in dropped:
        last = next((t for t in reversed(held[visitor]) if t.has_replay), None)
        if last is not None:
            found[last.session] = last
    latest = sorted(found.values(), key=lambda t: (-t.ts, t.session))[:REPLAYS_SHOWN]
    return [(t.ts, t.session, t.visitor) for t in latest]


def stages_json(stages: Stages) -> list[dict[str, Any]]:
    return [
        {"key": s.key, "label": s.label,
         "match": [{k: v for k, v in msgspec.structs.asdict(m).items() if v not in (None, False)} for m in s.match]}
        for s in stages.stages
    ]
