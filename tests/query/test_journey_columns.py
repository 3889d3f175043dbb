"""The journey map counted over columns (query/journey_columns.py) held to the walk over touches
(query/journey.py's `tally`, the definition): on random touches and stages, and on the SQLite
engine's own read of its touches as columns (in parts past SQLite's longest string, and back to
the rows where a value holds the columns' separator)."""

from __future__ import annotations

import random
import sqlite3

import msgspec

from collector.query import journey, journey_columns
from collector.query.journey import Matcher, Stage, Stages, Touch
from collector.query.scope import Scope
from collector.store.sqlite.reads.journey import columns
from collector.wire import EVENT_TYPES
from tests.support.analytics_journeys import CHROME, DAY_MS, MIN, D, event, send
from tests.support.collector import Client
from tests.support.journey_traffic import EVERY_FIELD, generate

NAMES = (None, "", "add", "remove", "nps", "csat", "ces", "referral", "caf\u00e9")
PATHS = (None, "", "/", "/product/1", "/product/22", "/p/7/b", "/blog/a")
ROUTES = (None, "/product/:id", "/p/:n/b")
URLS = (None, "", "https://s/blog/a", "https://s/cart")
TOUCHPOINTS = ("web", "email", "social", "call")
CHANNELS = (None, "paid", "organic", "email")
PATTERNS = ("/", "/product/*", "/product/:id", "https://s/*", "*", "/p/:n/b", "https://s/cart", "/blog/a")


def random_touches(rng: random.Random) -> list[Touch]:
    """People with sessions of touches of every kind, many at one instant, in shuffled order."""
    touches = []
    for v in range(rng.randrange(0, 40)):
        ts = rng.randrange(0, 10_000)
        for k in range(rng.randrange(1, 5)):
            ts += rng.choice((0, 5, 500))
            start, channel, replay = ts, rng.choice(CHANNELS), rng.random() < 0.3
            for _ in range(rng.randrange(1, 12)):
                ts += rng.choice((0, 0, 1, 7))
                kind = rng.choice(EVENT_TYPES)
                survey, click = kind == "survey", kind == "click"
                touches.append(Touch(
                    f"v{v}", f"v{v}-{k}", start, ts, kind, rng.choice(NAMES), rng.choice(PATHS), rng.choice(ROUTES),
                    rng.choice(URLS), rng.choice(TOUCHPOINTS), channel, replay,
                    rng.choice((None, *range(11))) if survey else None, rng.choice((None, 5, 7)) if survey else None,
                    click and rng.random() < 0.3, click and rng.random() < 0.3,
                ))
    rng.shuffle(touches)
    return touches


def random_matcher(rng: random.Random) -> Matcher:
    fields: dict[str, object] = {}
    while not fields:
        if rng.random() < 0.6:
            fields["type"] = rng.choice(("pageview", "click", "cart", "survey", "purchase", "track"))
        for name, values, chance in (("name", NAMES[2:], 0.2), ("page", PATTERNS, 0.3),
                                     ("touchpoint", TOUCHPOINTS, 0.15), ("channel", CHANNELS[1:], 0.1),
                                     ("min_score", range(11), 0.1), ("max_score", range(11), 0.1)):
            if rng.random() < chance:
                fields[name] = rng.choice(values)
        if rng.random() < 0.15:
            fields["new_visit"] = True
        if "type" in fields and rng.random() < 0.15:
            fields["nth"] = rng.randrange(1, 4)
    return Matcher(**fields)  # type: ignore[arg-type]


def random_stages(rng: random.Random) -> Stages:
    return Stages(stages=[
        Stage(key=f"s{k}", label=f"S{k}", match=[random_matcher(rng) for _ in range(rng.randrange(1, 5))])
        for k in range(rng.randrange(2, 7))
    ])


def test_the_columns_count_what_the_walk_counts_on_random_touches_and_stages() -> None:
    seen = {"people": 0, "dropped": 0, "waits": 0, "answers": 0, "replays": 0, "exits": 0, "rage": 0, "deep": 0}
    for seed in range(120):
        rng = random.Random(seed)
        touches, stages = random_touches(rng), random_stages(rng)
        walked = journey.tally(stages, touches)
        assert journey_columns.tally(stages, journey_columns.from_touches(touches)) == walked, seed
        people, tallies = walked
        seen["people"] += people
        seen["dropped"] += sum(t.dropped for t in tallies)
        seen["waits"] += sum(t.middle_waits is not None for t in tallies)
        seen["answers"] += sum(len(t.answers) for t in tallies)
        seen["replays"] += sum(len(t.replays) for t in tallies)
        seen["exits"] += sum(len(t.exit_pages) for t in tallies)
        seen["rage"] += sum(t.rage + t.dead for t in tallies)
        seen["deep"] += tallies[-1].people
    assert all(n > 20 for n in seen.values()), seen  # every part of the tally had work to do


def test_a_touch_reaching_several_stages_is_held_at_the_furthest() -> None:
    touches = [
        Touch("v", "s", 0, 1, "pageview", None, "/", None, None, "web", None, True),
        Touch("v", "s", 0, 2, "purchase", None, "/checkout", None, None, "web", None, True),
        Touch("v", "s", 0, 2, "pageview", None, "/thanks", None, None, "web", None, True),
    ]
    stages = Stages(stages=[Stage(key=k, label=k, match=m) for k, m in (
        ("seen", [Matcher(type="pageview")]), ("cart", [Matcher(type="purchase")]),
        ("bought", [Matcher(type="purchase")]), ("back", [Matcher(type="pageview", new_visit=True)]),
    )])
    people, tallies = journey_columns.tally(stages, journey_columns.from_touches(touches))
    assert (people, [t.people for t in tallies]) == (1, [1, 1, 1, 0])
    # the purchase reached cart and bought at once: cart holds nothing, bought holds it and /thanks
    assert [t.actions for t in tallies] == [[("pageview", 1)], [], [("pageview", 1), ("purchase", 1)], []]
    assert [t.dropped for t in tallies] == [0, 0, 1, 0]
    assert tallies[2].exit_pages == [("/thanks", 1)] and tallies[2].replays == [(2, "s", "v")]
    assert (people, tallies) == journey.tally(stages, touches)


def test_sqlite_reads_the_map_in_parts_and_past_a_separator_in_a_value(client: Client) -> None:
    generate(client, 6)
    scope = Scope("test", D, D + 2 * DAY_MS)
    # a stage on any URL tells a touch without one (a contact outside the site) from an empty one
    any_url = msgspec.convert({"stages": [
        {"key": "any", "label": "Any", "match": [{"page": "*", "touchpoint": "email"}, {"page": "/cart"}]},
        *msgspec.to_builtins(EVERY_FIELD)["stages"][1:],
    ]}, Stages)
    touches = client.store.journey_touches(scope)
    assert any(t.url is None for t in touches) and any(t.url for t in touches)
    blank = [t._replace(url=t.url or "") for t in touches]
    assert journey.tally(any_url, blank) != journey.tally(any_url, touches)
    with client.store.read() as conn:  # type: ignore[attr-defined]
        for stages in (EVERY_FIELD, any_url):
            whole = columns(conn, scope, journey.reading_of(stages))
            assert whole is not None
            assert journey_columns.tally(stages, whole) == journey.tally(stages, touches)
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2000)  # SQLite's longest string, lowered
        try:
            parts = columns(conn, scope, journey.reading_of(EVERY_FIELD))
        finally:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
    assert parts is not None
    assert journey_columns.tally(EVERY_FIELD, parts) == journey.tally(EVERY_FIELD, touches)
    # a name holding the columns' separator: the map is walked over the touches as rows
    send(client, [event("track", D + 60 * MIN, "sep-1", "sep", "/", name="odd\x1fname")], ua=CHROME)
    touches = client.store.journey_touches(scope)
    assert any(t.name == "odd\x1fname" for t in touches)
    with client.store.read() as conn:  # type: ignore[attr-defined]
        assert columns(conn, scope, journey.reading_of(EVERY_FIELD)) is None
    assert client.store.journey_map(scope, EVERY_FIELD) == journey.journey_map(EVERY_FIELD, touches)
