"""POST /api/funnel against a straightforward reference, on generated journeys with edge cases.

The reference tries every step-1 event of a visitor as the start of an attempt and follows it
greedily (each step the earliest matching event strictly after the previous one and within the
window of the start); the visitor counts at the furthest step of any attempt. It reads the
journeys as generated, not the store: identify merges, equal timestamps, window edges and
repeated attempts are all its own arithmetic.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.analytics_journeys import DATE, MIN, D, event, send
from tests.support.collector import Client, every_store

pytestmark = every_store

WINDOW_S = 600
W = WINDOW_S * 1000
STEPS = [
    {"type": "pageview", "url": "/"},
    {"type": "pageview", "url": "/product/*"},
    {"type": "cart", "name": "add"},
    {"type": "purchase"},
]


FLOW = [("pageview", "/"), ("pageview", "/product/1"), ("cart", "/cart"), ("purchase", "/checkout")]


@dataclass
class Hit:
    ts: int
    session: str
    steps: frozenset[int]  # the indexes of the steps this event is


def step_of(kind: str, path: str) -> frozenset[int]:
    found = set()
    if kind == "pageview" and path == "/":
        found.add(0)
    if kind == "pageview" and path.startswith("/product/"):
        found.add(1)
    if kind == "cart":
        found.add(2)
    if kind == "purchase":
        found.add(3)
    return frozenset(found)


def attempt_depth(hits: list[Hit], start: Hit) -> tuple[int, Hit]:
    """How many steps the attempt from `start` reaches, greedily, and the event of its last step."""
    last = start
    depth = 1
    for step in range(1, len(STEPS)):
        nxt = min((h for h in hits if step in h.steps and last.ts < h.ts <= start.ts + W),
                  key=lambda h: h.ts, default=None)
        if nxt is None:
            break
        last, depth = nxt, depth + 1
    return depth, last


def reference(hits_by_visitor: dict[str, list[Hit]]) -> tuple[list[int], list[set[str]]]:
    """Visitors per step, and the visitors dropped after each step."""
    reached = [0] * len(STEPS)
    dropped: list[set[str]] = [set() for _ in STEPS]
    for visitor, hits in hits_by_visitor.items():
        depth = max((attempt_depth(hits, h)[0] for h in hits if 0 in h.steps), default=0)
        for j in range(depth):
            reached[j] += 1
        if 0 < depth < len(STEPS):
            dropped[depth - 1].add(visitor)
    return reached, dropped


def generate(rng: random.Random, visitors: int) -> tuple[list[list[dict[str, Any]]], dict[str, list[Hit]]]:
    """Batches (one per session) and each visitor's step events as the reference sees them."""
    batches: list[list[dict[str, Any]]] = []
    hits: dict[str, list[Hit]] = defaultdict(list)
    for v in range(visitors):
        # a third of the people log in from two or three devices: one visitor, many anon ids
        anons = [f"a{v}-{k}" for k in range(rng.choice((1, 1, 2, 3)))]
        user = f"u{v}" if len(anons) > 1 or rng.random() < 0.2 else None
        visitor = user or anons[0]
        t = D + rng.randrange(0, 20 * 60) * MIN // 2
        for k, anon in enumerate(anons):
            session = f"s{v}-{k}"
            events = []
            stage = 0
            for _ in range(rng.randrange(1, 14)):
                # small steps, often 0 (equal timestamps) or landing on the window's edge
                t += rng.choices((0, 1, 1000, W // 8, W - 1, W, W + 1), weights=(3, 2, 3, 2, 1, 1, 1))[0]
                # mostly the funnel's next step, often something else: repeated and broken attempts
                if rng.random() < 0.6:
                    kind, path = FLOW[stage]
                    stage = (stage + 1) % len(FLOW)
                else:
                    kind = rng.choices(("pageview", "cart", "purchase", "click"), weights=(5, 2, 2, 1))[0]
                    path = rng.choice(("/", "/product/1", "/product/2", "/cart"))
                if kind == "pageview":
                    events.append(event("pageview", t, session, anon, path))
                elif kind == "cart":
                    path = "/cart"
                    events.append(event("cart", t, session, anon, path, action="add",
                                        item={"sku": "A", "price": 1.0, "qty": 1}))
                elif kind == "purchase":
                    path = "/checkout"
                    events.append(event("purchase", t, session, anon, path, order_id=f"o{v}-{t}", value=1.0))
                else:
                    path = "/"
                    events.append(event("click", t, session, anon, path, x=1, y=1))
                found = step_of(kind, path)
                if found:
                    hits[visitor].append(Hit(t, session, found))
            if user is not None:
                events.append(event("identify", t, session, anon, "/", user_id=user))
            batches.append(events)
            t += rng.choice((0, 1, W // 3, 3 * W))
    return batches, hits


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_funnel_matches_the_reference(client: Client, seed: int) -> None:
    rng = random.Random(seed)
    batches, hits = generate(rng, 60)
    for events in batches:
        send(client, events)
    answer = client.http.post("/api/funnel", headers=client.admin, json={
        "site": "test", "from": DATE, "to": DATE, "steps": STEPS, "window_s": WINDOW_S,
    })
    assert answer.status_code == 200, answer.text
    steps = answer.json()["steps"]
    reached, dropped = reference(hits)
    assert [s["visitors"] for s in steps] == reached
    assert [s["dropped"] for s in steps] == [len(d) for d in dropped]
    assert reached[0] > reached[1] > 0 and reached[-1] > 0  # the seeds give every step work to do
    for j, step in enumerate(steps):
        assert sorted(d["visitor_id"] for d in step["dropped_sessions"]) == sorted(dropped[j])
        for shown in step["dropped_sessions"]:
            # the session holds an event of the step where the visitor stopped
            visitor_hits = hits[shown["visitor_id"]]
            assert any(h.session == shown["id"] and j in h.steps for h in visitor_hits)
