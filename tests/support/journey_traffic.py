"""Generated traffic for the journey map's tests: people over two days with every kind of touch,
and stages that use every matcher field (query/journey.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import msgspec

from collector.query.journey import Stages
from tests.support.analytics_journeys import CHROME, MIN, D, event, send, stamp_session_context
from tests.support.collector import SECRET, Client

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


def fields_of(rng: random.Random, kind: str, order_id: str,
              csat_scale: Callable[[random.Random], int | None]) -> dict[str, Any]:
    """The fields of a generated event of `kind`: clicks rage and dead, carts added and removed,
    orders, answers of every survey kind, referrals and support calls, errors."""
    if kind == "click":
        return {"x": 1, "y": 1, "rage": rng.random() < 0.4, "dead": rng.random() < 0.3}
    if kind == "cart":
        return {"action": rng.choice(("add", "add", "remove")), "item": {"sku": "A", "price": 5.0}}
    if kind == "purchase":
        return {"order_id": order_id, "value": 5.0}
    if kind == "survey":
        survey = rng.choice(("nps", "csat", "ces"))
        fields: dict[str, Any] = {"kind": survey,
                                  "score": rng.randrange(0, 11) if survey == "nps" else rng.randrange(1, 6)}
        if survey == "csat" and (scale := csat_scale(rng)) is not None:
            fields["scale"] = scale
        return fields
    if kind == "track":
        return {"name": rng.choice(("referral", "referral", "support_call"))}
    if kind == "error":
        return {"message": "boom"}
    return {}


def _scale(rng: random.Random) -> int | None:
    """A CSAT scale half the time: 5 or 7."""
    return rng.choice((5, 7)) if rng.random() < 0.5 else None


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
                extra = fields_of(rng, kind, f"o-{sid}-{len(events)}", _scale)
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
