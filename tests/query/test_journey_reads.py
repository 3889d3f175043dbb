"""The journey map and the outcome model read only what they need, walk fast, and still give the
answers of their Python definitions, on every engine, on generated traffic.

The definitions: the map is `journey_map` over every touch of the sessions in scope; a stage is
reached by the first touch that matches it once the one before is reached, touch by touch (the
plain walk below, as docs/metrics.md says it). The traffic has touches at one instant, bots,
sessions begun before the range, and custom stages with nth, new_visit, scores, channels and page
patterns on paths, routes and whole URLs.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import msgspec
import pytest

from collector.api.outcome import retrain
from collector.query import journey, outcome
from collector.query.journey import DEFAULT_STAGES, EVERYTHING, Reading, Stages, Touch
from collector.query.scope import Goal, Scope
from tests.support.analytics_journeys import (
    CHROME,
    DATE,
    DAY_MS,
    GOOGLEBOT,
    MIN,
    NEXT_DATE,
    D,
    event,
    mark_bot_if_enrichment_missed,
    send,
    stamp_session_context,
)
from tests.support.collector import SECRET, Client, every_store
from tests.support.journey_traffic import fields_of
from tests.support.outcome_traffic import planted, today_start

pytestmark = every_store

PAGES = ("/", "/product/1", "/product/22", "/products/x", "/blog/a", "/cart", "/checkout")
CHANNELS = ("organic", "paid", "email", "direct")
CUSTOM = msgspec.convert({"stages": [
    {"key": "seen", "label": "Seen", "match": [{"page": "/blog/*"}, {"touchpoint": "email"}, {"type": "pageview"}]},
    {"key": "product", "label": "Product", "match": [
        {"type": "pageview", "page": "/product/:id"}, {"page": "https://shop.example/products/*"},
        {"type": "click", "channel": "paid"},
    ]},
    {"key": "second_cart", "label": "Second cart", "match": [{"type": "cart", "name": "add", "nth": 2},
                                                              {"type": "checkout"}]},
    {"key": "back", "label": "Back", "match": [{"new_visit": True, "type": "pageview", "page": "/cart"},
                                               {"type": "purchase", "nth": 1}]},
    {"key": "fan", "label": "Fan", "match": [{"type": "survey", "name": "nps", "min_score": 9},
                                             {"type": "survey", "name": "csat", "min_score": 4, "max_score": 5}]},
]}, Stages)


def reference_reach(stages: Stages, touches: list[Touch]) -> tuple[int, list[dict[str, int]], list[dict[str, list]]]:
    """The walk as defined: each person's touches in time order (ties as read), one at a time."""
    n = len(stages.stages)
    by_person: dict[str, list[Touch]] = {}
    for t in touches:
        by_person.setdefault(t.visitor, []).append(t)
    held: list[dict[str, list[Touch]]] = [{} for _ in range(n)]
    reached_at: list[dict[str, int]] = [{} for _ in range(n)]
    for visitor, own in by_person.items():
        own.sort(key=lambda t: t.ts)
        counts: Counter[str] = Counter()
        reached: list[int] = []
        for t in own:
            counts[t.type] += 1
            while len(reached) < n:
                last = reached[-1] if reached else None
                if not any(matches(m, t, counts, last) for m in stages.stages[len(reached)].match):
                    break
                reached.append(t.ts)
                reached_at[len(reached) - 1][visitor] = t.ts
                held[len(reached) - 1][visitor] = []
            if reached:
                held[len(reached) - 1][visitor].append(t)
    return len(by_person), reached_at, held


def matches(m: journey.Matcher, t: Touch, counts: Counter[str], last: int | None) -> bool:
    return ((m.type is None or t.type == m.type) and (m.name is None or t.name == m.name)
            and (m.touchpoint is None or t.touchpoint == m.touchpoint) and (m.channel is None or t.channel == m.channel)
            and (m.page is None or journey.page_matches(m.page, t))
            and (m.min_score is None or (t.score is not None and t.score >= m.min_score))
            and (m.max_score is None or (t.score is not None and t.score <= m.max_score))
            and (not m.new_visit or (last is not None and t.session_start > last))
            and (m.nth is None or counts[t.type] == m.nth))


def generate(client: Client, seed: int) -> set[str]:
    """Visitors with one to three sessions over D and D+1 (some begun the evening before D, some
    bots), events often at one instant; the bots' ids."""
    rng = random.Random(seed)
    bots = set()
    for v in range(100):
        anon = f"g{seed}-{v}"
        bot = rng.random() < 0.1
        for k in range(rng.randrange(1, 5)):
            sid = f"{anon}-{k}"
            t = D + rng.randrange(-3 * 60, 40 * 60) * MIN if k == 0 or rng.random() < 0.3 else D + (k * 9 * 60) * MIN
            events, server = [], []
            for _ in range(rng.randrange(1, 12)):
                t += rng.choice((0, 0, 1, 1000, 7 * MIN))
                path = rng.choice(PAGES)
                kind = rng.choice(("pageview", "pageview", "pageview", "click", "cart", "checkout", "purchase",
                                   "survey", "survey", "survey", "track", "error"))
                extra = fields_of(rng, kind, f"o-{sid}-{len(events)}", lambda _: 5)
                if kind == "track" and rng.random() < 0.5:  # a contact outside the site
                    server.append(event(kind, t, sid, anon, touchpoint=rng.choice(("email", "social")), **extra))
                    continue
                events.append(event(kind, t, sid, anon, path, **extra))
            if not events:
                events.append(event("pageview", t, sid, anon, "/"))
            send(client, events, ua=GOOGLEBOT if bot else CHROME)
            if server:
                send(client, server, key=SECRET)
            if bot:
                bots.add(anon)
                mark_bot_if_enrichment_missed(client, sid)
            else:
                stamp_session_context(client, sid, channel=rng.choice(CHANNELS))
    return bots


def answer(client: Client, stages: Stages) -> dict[str, Any]:
    if stages is DEFAULT_STAGES:
        reset = client.http.delete("/api/journey-map/stages?site=test", headers=client.admin)
        assert reset.status_code == 200, reset.text
    else:
        put = client.http.put("/api/journey-map/stages?site=test", content=msgspec.json.encode(stages),
                              headers=client.admin)
        assert put.status_code == 200, put.text
    got = client.http.get(f"/api/journey-map?site=test&from={DATE}&to={NEXT_DATE}", headers=client.admin)
    assert got.status_code == 200, got.text
    return got.json()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_map_is_the_walk_over_every_touch(client: Client, seed: int) -> None:
    bots = generate(client, seed)
    scope = Scope("test", D, D + 2 * DAY_MS)
    everything = client.store.journey_touches(scope)
    # the data gives every part work to do: touches at one instant, bots and early sessions left out
    assert len({(t.visitor, t.ts) for t in everything}) < len(everything)
    assert min(t.session_start for t in everything) >= D
    assert bots and not bots & {t.visitor for t in everything}
    for stages in (DEFAULT_STAGES, CUSTOM):
        # the lean read (without the columns these stages never look at) gives the same map
        lean = client.store.journey_touches(scope, journey.reading_of(stages))
        assert [t._replace(url=None, route=None, channel=None, device=None) for t in lean] == [
            t._replace(url=None, route=None, channel=None, device=None) for t in everything]
        expected = journey.journey_map(stages, everything)
        got = answer(client, stages)
        assert {k: v for k, v in got.items() if k in expected} == expected
        # and the fast walk reaches and holds as the touch-by-touch walk does
        assert journey.reach(stages, everything) == reference_reach(stages, list(everything))
        reached = [len(r) for r in journey.reach(stages, everything)[1]]
        assert reached[0] > reached[-1] > 0, reached  # every stage is reached by someone, not everyone
    custom = journey.reading_of(CUSTOM)
    assert (custom.url, custom.route, custom.channel, custom.device) == (True, True, True, False)
    default = journey.reading_of(DEFAULT_STAGES)
    assert (default.url, default.route, default.channel, default.device) == (False, False, False, False)


def test_the_walk_reads_nth_new_visits_and_ties_as_defined(client: Client) -> None:
    # one person: two carts at one instant, then a checkout; a new session after it with /cart
    send(client, [event("pageview", D + MIN, "n1", "n", "/blog/a"),
                  event("pageview", D + 2 * MIN, "n1", "n", "/product/1"),
                  event("cart", D + 3 * MIN, "n1", "n", "/product/1", action="add", item={"sku": "A"}),
                  event("cart", D + 3 * MIN, "n1", "n", "/product/1", action="add", item={"sku": "B"}),
                  event("pageview", D + 4 * MIN, "n1", "n", "/cart")])
    send(client, [event("pageview", D + 60 * MIN, "n2", "n", "/cart"),
                  event("survey", D + 61 * MIN, "n2", "n", "/cart", kind="nps", score=9)])
    touches = client.store.journey_touches(Scope("test", D, D + DAY_MS))
    people, reached, held = journey.reach(CUSTOM, touches)
    assert people == 1
    assert [r.get("n") for r in reached] == [D + MIN, D + 2 * MIN, D + 3 * MIN, D + 60 * MIN, D + 61 * MIN]
    assert [[t.type for t in h["n"]] for h in held] == [["pageview"], ["pageview", "cart"], ["cart", "pageview"],
                                                         ["pageview"], ["survey"]]


def kept_by(reading: Reading, touch: Touch) -> bool:
    """Whether a windowed reading keeps a touch: inside the window, or one of the goal's."""
    inside = ((reading.since is None or touch.ts >= reading.since)
              and (reading.before is None or touch.ts < reading.before))
    goal = (reading.goal_type is not None and touch.type == reading.goal_type
            and (reading.goal_name is None or touch.name == reading.goal_name))
    return inside or goal


def test_outcome_reads_only_what_it_looks_at(client: Client) -> None:
    now = today_start()
    planted(now).write(client.store)
    goal = Goal()
    scope = Scope("test", outcome.history_start(now), now, goal)
    everything = client.store.journey_touches(scope, EVERYTHING)
    training = client.store.journey_touches(scope, outcome.training_reading(now, goal))
    scoring = client.store.journey_touches(scope, outcome.scoring_reading(now))
    assert len(training) < len(everything) and len(scoring) < len(everything)
    # exactly the touches of the window (and the goal's), as the full read has them
    named = Reading(route=False, before=now - outcome.HORIZON_MS, goal_type="cart", goal_name="add")
    for reading, lean in ((outcome.training_reading(now, goal), training), (outcome.scoring_reading(now), scoring),
                          (named, client.store.journey_touches(scope, named))):
        assert [t._replace(route=None) for t in lean] == [
            t._replace(route=None) for t in everything if kept_by(reading, t)]
    assert any(t.type == "cart" and t.ts >= now - outcome.HORIZON_MS for t in everything)  # the goal's own
    assert outcome.training_rows(training, now, goal) == outcome.training_rows(everything, now, goal)
    report, model = outcome.train(everything, now, goal)
    assert report.status == "ready" and model is not None, report.reason
    assert outcome.score(model, scoring, now, goal) == outcome.score(model, everything, now, goal)
    # and the trained answer is the one the full read gives
    kept = retrain(client.store, "test", goal, now=now)
    assert {k: v for k, v in kept.items() if k != "trained_at"} == {
        k: v for k, v in report.as_dict().items() if k != "trained_at"}
