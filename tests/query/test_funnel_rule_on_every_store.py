"""Every engine's POST /api/funnel is `furthest_attempt`'s answer, to the last digit.

The expected answer is worked out here from the generated events by `Count` (the Python walk,
collector/query/funnel.py): the ClickHouse engine finds each visitor's furthest attempt in SQL
and SQLite in numpy, so this holds both to the one rule. The traffic has the hard cases: events
of one instant (in one session and across a visitor's sessions), gaps of exactly the window and
one millisecond either side, an event that is step 1 and a later step at once, repeated attempts,
visitors with well over 64 instants, 2 to 10 steps, bots, filters and a segment.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from collector.query.funnel import Count, Step
from tests.support.analytics_journeys import DATE, SHOP, D, event, send, stamp_session_context
from tests.support.collector import Client, every_store

pytestmark = every_store

WINDOW_S = 60
W = WINDOW_S * 1000
# Steps that overlap: "/p/*" and a repeated "/a" make one event several steps at once.
STEPS = [
    {"type": "pageview", "url": "/a"},
    {"type": "pageview", "url": "/p/*"},
    {"type": "track", "name": "go"},
    {"type": "pageview", "url": "/b"},
    {"type": "pageview", "url": "/a"},
    {"type": "pageview", "url": "/p/*"},
    {"type": "pageview", "url": "/c"},
    {"type": "track", "name": "go"},
    {"type": "pageview", "url": "/b"},
    {"type": "pageview", "url": "/p/*"},
]
PAGES = ("/a", "/a", "/b", "/c", "/p/1", "/p/2")


@dataclass
class Hit:
    ts: int
    session: str
    kind: str
    page: str  # the path of a pageview, the name of a track


@dataclass
class Visit:
    session: str
    visitor: str
    device: str
    country: str
    bot: bool


def mask(hit: Hit, steps: int) -> int:
    found = 0
    for j, step in enumerate(STEPS[:steps]):
        if step["type"] != hit.kind:
            continue
        if hit.kind == "track":
            found |= (step["name"] == hit.page) << j
        elif step["url"].endswith("*"):
            found |= hit.page.startswith(step["url"][:-1]) << j
        else:
            found |= (step["url"] == hit.page) << j
    return found


def generate(rng: random.Random, visitors: int) -> tuple[list[tuple[Visit, list[dict[str, Any]]]], list[Hit]]:
    """Sessions (with their batch) and every event as the expectation reads it."""
    sessions: list[tuple[Visit, list[dict[str, Any]]]] = []
    hits: list[Hit] = []
    for v in range(visitors):
        # some people use two or three devices at once, so one visitor's sessions share instants
        devices = rng.choice((1, 1, 1, 2, 3))
        user = f"u{v:03d}" if devices > 1 else None
        anons = [f"a{v:03d}-{k}" for k in range(devices)]
        visits = [Visit(f"s{v:03d}-{k}", user or anons[0], rng.choice(("mobile", "desktop")),
                        rng.choice(("DE", "FR")), rng.random() < 0.1) for k in range(devices)]
        batches: list[list[dict[str, Any]]] = [[] for _ in visits]
        t = D + rng.randrange(0, 600) * 1000
        stage = 0
        long = rng.random() < 0.08  # well over 64 instants: more than the numpy lock step takes
        for _ in range(rng.randrange(90, 140) if long else rng.randrange(1, 25)):
            t += rng.choices((0, 1, 1000, W // 3, W - 1, W, W + 1, 3 * W), weights=(6, 3, 8, 2, 2, 2, 2, 1))[0]
            k = rng.randrange(devices)
            if rng.random() < 0.6:  # mostly the funnel's next step: attempts that go deep
                step = STEPS[stage]
                stage = (stage + 1) % len(STEPS)
                kind, page = step["type"], step.get("name") or step["url"].replace("*", "1")
            elif rng.random() < 0.3:
                kind, page = "track", rng.choice(("go", "other"))
            else:
                kind, page = "pageview", rng.choice(PAGES)
            if kind == "track":
                hit = Hit(t, visits[k].session, "track", page)
                batches[k].append(event("track", t, hit.session, anons[k], "/x", name=hit.page))
            else:
                hit = Hit(t, visits[k].session, "pageview", page)
                batches[k].append(event("pageview", t, hit.session, anons[k], hit.page))
            hits.append(hit)
        for k, batch in enumerate(batches):
            if not batch:
                continue
            if user is not None:
                batch.append(event("identify", batch[-1]["ts"], visits[k].session, anons[k], "/x", user_id=user))
            sessions.append((visits[k], batch))
    return sessions, hits


def expected(visits: dict[str, Visit], hits: list[Hit], steps: int, keep: Any,
             asked: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The answer `Count` gives for the sessions that `keep` admits (to the steps `asked`, the
    first `steps` of STEPS, or the same steps spelled another way)."""
    by_visitor: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for hit in hits:
        visit = visits[hit.session]
        found = mask(hit, steps)
        if found and keep(visit):
            by_visitor[visit.visitor].append((hit.ts, found, hit.session))
    count = Count(by_visitor, steps, WINDOW_S)
    shown = []
    for j in range(steps):
        shown.append([
            {"id": min(s for at, m, s in by_visitor[visitor] if at == ts and m >> j & 1),
             "visitor_id": visitor, "has_replay": False}
            for visitor, ts in count.shown(j)
        ])
    return count.answer([Step(**step) for step in asked or STEPS[:steps]], WINDOW_S, shown)


def whole_urls(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same steps with their pages as whole URLs, which the ClickHouse engine reads from the
    events rather than from the pageviews each session row keeps."""
    return [{**step, "url": SHOP + step["url"]} if step["type"] == "pageview" else step for step in steps]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_engine_counts_by_the_rule(client: Client, seed: int) -> None:
    rng = random.Random(seed)
    sessions, hits = generate(rng, 160)
    for visit, batch in sessions:
        send(client, batch)
        stamp_session_context(client, visit.session, device=visit.device, country=visit.country,
                              is_bot=int(visit.bot))
    visits = {visit.session: visit for visit, _ in sessions}
    created = client.http.post("/api/segments", headers=client.admin,
                               json={"site": "test", "name": "germany", "filters": {"country": "DE"}})
    assert created.status_code == 201, created.text
    segment = created.json()["id"]
    scopes: list[tuple[dict[str, Any], Any]] = [
        ({}, lambda v: not v.bot),
        ({"bots": True}, lambda v: True),
        ({"filters": {"device": "mobile"}}, lambda v: not v.bot and v.device == "mobile"),
        ({"segment": segment, "filters": {"device": "desktop"}},
         lambda v: not v.bot and v.country == "DE" and v.device == "desktop"),
    ]
    deep = 0
    for steps in (2, 3, 4, 6, 10):
        for ask, keep in scopes:
            answer = client.http.post("/api/funnel", headers=client.admin, json={
                "site": "test", "from": DATE, "to": DATE, "steps": STEPS[:steps], "window_s": WINDOW_S, **ask,
            })
            assert answer.status_code == 200, answer.text
            want = expected(visits, hits, steps, keep)
            assert answer.json() == want, (steps, ask)
            deep = max(deep, max(j for j, s in enumerate(want["steps"]) if s["visitors"]))
        asked = whole_urls(STEPS[:steps])
        answer = client.http.post("/api/funnel", headers=client.admin, json={"site": "test", "from": DATE, "to": DATE,
                                  "steps": asked, "window_s": WINDOW_S, "filters": {"device": "mobile"}})
        assert answer.status_code == 200, answer.text
        assert answer.json() == expected(visits, hits, steps, lambda v: not v.bot and v.device == "mobile", asked)
    assert deep >= 6  # the traffic reaches far into the longest funnel
    # the hard cases are in the traffic: equal instants of one visitor in two sessions, exact
    # window gaps, and visitors with more than 64 instants
    by_visitor: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_visitor[visits[hit.session].visitor].append(hit)
    assert any(len({(h.ts, h.session) for h in mine}) > len({h.ts for h in mine}) for mine in by_visitor.values())
    assert max(len({h.ts for h in mine}) for mine in by_visitor.values()) > 64
    assert any(b.ts - a.ts == W for mine in by_visitor.values() for a, b in zip(mine, mine[1:], strict=False))
