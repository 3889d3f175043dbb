"""The journey map as each store answers it (ClickHouse in SQL, SQLite by the walk over its touches)
held to the Python definition, `journey.journey_map` over every touch, on generated traffic.

The stages use every matcher field: type, name, pages in every pattern form (exact URL, exact
/path, `*` on a URL and on a path, route templates matched on the route and on the path),
touchpoint, channel, min and max score, new_visit (also on the first stage, where it never holds)
and nth; one touch may reach several stages; people drop at every stage; touches share instants;
dropped people have replays. On ClickHouse the per-stage tally (waits' middles, every ranked list,
the answers' counts) is compared as well, not only the answer made from it.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from collector.query import journey
from collector.query.journey import DEFAULT_STAGES, Stages
from collector.query.scope import Scope
from tests.support.analytics_journeys import CHROME, DAY_MS, MIN, D, event, send, stamp_session_context
from tests.support.collector import SECRET, Client, every_store

pytestmark = every_store

PAGES = ("/", "/product/1", "/product/22", "/products/x", "/blog/a", "/blog/b", "/cart", "/checkout", "/p/7/b",
         "/p/7/c")
CHANNELS = ("organic", "paid", "email", "direct")
EVERY_FIELD = msgspec.convert({"stages": [
    {"key": "seen", "label": "Seen", "match": [
        {"page": "https://shop.example/blog/*"}, {"touchpoint": "email"}, {"type": "pageview", "page": "/"},
        {"page": "https://shop.example/cart"}, {"new_visit": True, "type": "click"},
    ]},
    {"key": "product", "label": "Product", "match": [
        {"type": "pageview", "page": "/product/:id"}, {"page": "/products/*"}, {"type": "click", "channel": "paid"},
        {"page": "/p/:n/b"},
    ]},
    {"key": "cart", "label": "Cart", "match": [
        {"type": "cart", "name": "add", "nth": 2}, {"type": "checkout"}, {"type": "purchase"},
        {"type": "survey", "name": "ces", "max_score": 2},
    ]},
    {"key": "back", "label": "Back", "match": [
        {"new_visit": True, "type": "pageview"}, {"type": "purchase", "nth": 1},
        {"type": "track", "name": "referral", "touchpoint": "social"},
    ]},
    {"key": "fan", "label": "Fan", "match": [
        {"type": "survey", "name": "nps", "min_score": 9},
        {"type": "survey", "name": "csat", "min_score": 4, "max_score": 7},
    ]},
]}, Stages)
# More matchers on the person's history than 64 bits hold: each nth and new_visit matcher has its own bit.
MANY_BITS = msgspec.convert({"stages": [
    {"key": f"s{k}", "label": f"S{k}", "match": [
        *({"type": kind, "nth": nth} for kind in ("pageview", "click", "cart") for nth in range(k + 1, k + 6)),
        {"new_visit": True, "type": "pageview"}, {"type": "pageview", "page": "/cart"},
    ]}
    for k in range(8)
]}, Stages)


def generate(client: Client, seed: int) -> None:
    """People with one to four sessions over D and D+1, events often at one instant, contacts
    outside the site, channels, and replays of some sessions."""
    rng = random.Random(seed)
    for v in range(90):
        anon = f"j{seed}-{v}"
        t = D + rng.randrange(0, 20 * 60) * MIN
        for k in range(rng.randrange(1, 5)):
            sid = f"{anon}-{k}"
            t += rng.choice((0, 30 * MIN, 6 * 60 * MIN))
            events: list[dict[str, Any]] = []
            server: list[dict[str, Any]] = []
            for _ in range(rng.randrange(1, 14)):
                t += rng.choice((0, 0, 1, 1000, 7 * MIN))
                path = rng.choice(PAGES)
                kind = rng.choice(("pageview", "pageview", "pageview", "click", "cart", "cart", "checkout",
                                   "purchase", "survey", "survey", "survey", "track", "error"))
                extra: dict[str, Any] = {}
                if kind == "click":
                    extra = {"x": 1, "y": 1, "rage": rng.random() < 0.4, "dead": rng.random() < 0.3}
                elif kind == "cart":
                    extra = {"action": rng.choice(("add", "add", "remove")), "item": {"sku": "A", "price": 5.0}}
                elif kind == "purchase":
                    extra = {"order_id": f"o-{sid}-{len(events)}", "value": 5.0}
                elif kind == "survey":
                    survey = rng.choice(("nps", "csat", "ces"))
                    extra = {"kind": survey, "score": rng.randrange(0, 11) if survey == "nps" else rng.randrange(1, 6)}
                    if survey == "csat" and rng.random() < 0.5:
                        extra["scale"] = rng.choice((5, 7))
                elif kind == "track":
                    extra = {"name": rng.choice(("referral", "referral", "support_call"))}
                elif kind == "error":
                    extra = {"message": "boom"}
                if kind == "track" and rng.random() < 0.6:  # a contact outside the site
                    server.append(event(kind, t, sid, anon, touchpoint=rng.choice(("email", "social", "call_center")),
                                        **extra))
                    continue
                events.append(event(kind, t, sid, anon, path, **extra))
            if not events:
                events.append(event("pageview", t, sid, anon, "/"))
            send(client, events, ua=CHROME)
            if server:
                send(client, server, key=SECRET)
            stamp_session_context(client, sid, channel=rng.choice(CHANNELS))
            if rng.random() < 0.3:
                replay = client.http.post("/v1/replay", json={
                    "key": "wk_test", "session_id": sid, "anon_id": anon, "seq": 0,
                    "events": [{"type": 4, "timestamp": t, "data": {}}],
                })
                assert replay.status_code == 200, replay.text


def engine_tally(client: Client, scope: Scope, stages: Stages) -> tuple[int, list[journey.StageTally]]:
    """The store's own tally where it has one (ClickHouse's SQL), else the walk's."""
    if client.engine == "sqlite":
        return journey.tally(stages, client.store.journey_touches(scope))
    from collector.store.clickhouse.reads.journey_map import tally

    return tally(client.store.db, scope, stages)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [3, 4])
def test_the_store_answers_the_map_the_walk_defines(client: Client, seed: int) -> None:
    generate(client, seed)
    scope = Scope("test", D, D + 2 * DAY_MS)
    touches = client.store.journey_touches(scope)
    assert len({(t.visitor, t.ts) for t in touches}) < len(touches)  # touches at one instant
    for stages in (EVERY_FIELD, DEFAULT_STAGES, MANY_BITS):
        people, tallies = journey.tally(stages, touches)
        assert engine_tally(client, scope, stages) == (people, tallies)
        assert client.store.journey_map(scope, stages) == journey.journey_map(stages, touches)
    # the traffic gives every part of the map work to do
    people, tallies = journey.tally(EVERY_FIELD, touches)
    assert people == 90
    assert all(t.people > 0 for t in tallies) and all(t.dropped > 0 for t in tallies[:-1]), tallies
    assert all(t.middle_waits for t in tallies[:-1])
    assert any(t.replays for t in tallies) and any(t.exit_pages for t in tallies)
    assert all(sum(t.answers.values()) > 0 for t in tallies)
    assert any(t.rage for t in tallies) and any(t.dead for t in tallies) and any(t.errors for t in tallies)
    assert {kind for t in tallies for kind, _, _ in t.answers} == {"nps", "csat", "ces"}
    assert {scale for t in tallies for _, _, scale in t.answers} == {None, 5, 7}
    # one touch reaches several stages (a first purchase is both the cart and the way back)
    reached = journey.reach(EVERY_FIELD, touches)[1]
    assert any(reached[2].get(v) == reached[3].get(v) for v in reached[3])
    # every page pattern form reaches a stage somewhere
    forms = [m for s in EVERY_FIELD.stages for m in s.match if m.page is not None]
    assert all(any(journey.page_matches(m.page, t) for t in touches) for m in forms if m.page)


def test_an_empty_range_has_no_one_on_the_map(client: Client) -> None:
    generate(client, 5)
    scope = Scope("test", D + 10 * DAY_MS, D + 11 * DAY_MS)
    assert client.store.journey_touches(scope) == []
    for stages in (EVERY_FIELD, DEFAULT_STAGES):
        assert engine_tally(client, scope, stages) == journey.tally(stages, [])
        answer = client.store.journey_map(scope, stages)
        assert answer == journey.journey_map(stages, [])
        assert answer["people"] == 0 and [s["people"] for s in answer["stages"]] == [0] * len(stages.stages)
