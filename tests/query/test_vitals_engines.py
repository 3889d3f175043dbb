"""Web Vitals on generated traffic: each store's report (ClickHouse counts each metric's tally in
SQL, SQLite hands the values to query/vitals.py) held to the report the definition makes from the
very values sent. The values sit on the bands' edges (a value at the good bound is good, one at the
poor bound needs improvement), and groups hold a multiple of four values, where the nearest-rank
p75 and the next rank differ."""

from __future__ import annotations

import random
from typing import Any

from collector.query import vitals
from collector.query.scope import Scope, build_scope
from tests.support.analytics_journeys import (
    DAY_MS,
    GOOGLEBOT,
    D,
    event,
    mark_bot_if_enrichment_missed,
    send,
    stamp_session_context,
)
from tests.support.collector import Client, every_store

pytestmark = every_store

PAGES = ("/", "/product/1", "/product/2", "/cart", "/blog/a")
DEVICES = ("desktop", "mobile", "tablet")


def values_of(rng: random.Random, metric: str) -> float:
    good, poor = vitals.THRESHOLDS[metric]
    return rng.choice((0, good, good + 0.01, poor, poor + 0.01, round(rng.uniform(0, 2 * poor), 3),
                       float(rng.randrange(0, int(2 * poor) + 1))))


def traffic(client: Client, rng: random.Random) -> list[tuple[str, str, str, float]]:
    """Sessions with vitals, sent; the (metric, page, device, value) of each."""
    sent: list[tuple[str, str, str, float]] = []
    for n in range(60):
        sid, device = f"v{n}", rng.choice(DEVICES)
        events: list[dict[str, Any]] = []
        for k in range(rng.randrange(1, 13)):
            metric, page = rng.choice(vitals.METRICS), rng.choice(PAGES)
            value = values_of(rng, metric)
            events.append(event("vital", D + n * 60_000 + k, sid, f"a{n}", page, name=metric, value=value))
            sent.append((metric, page, device, float(value)))
        send(client, events)
        stamp_session_context(client, sid, device=device)
    return sent


def test_each_store_reports_the_vitals_the_definition_does(client: Client) -> None:
    sent = traffic(client, random.Random(11))
    every = client.store.vitals(Scope("test", D, D + DAY_MS))
    assert every == vitals.report(sent)
    mobile = client.store.vitals(build_scope("test", {}, D, D + DAY_MS, {"device": "mobile"}))
    assert mobile == vitals.report([row for row in sent if row[2] == "mobile"])
    # the traffic reaches the edges: values on both bounds, and a group of 4k values whose rank-3k
    # value differs from the next one (a percentile by the next rank would differ there)
    assert {value for metric, _, _, value in sent if value in vitals.THRESHOLDS[metric]}
    groups: dict[tuple[str, str], list[float]] = {}
    for metric, page, _, value in sent:
        groups.setdefault((metric, page), []).append(value)
    assert any(len(v) % 4 == 0 and sorted(v)[3 * len(v) // 4 - 1] != sorted(v)[3 * len(v) // 4]
               for v in groups.values())
    assert len(every["pages"]) == len(PAGES) and len(every["devices"]) == len(DEVICES)


def test_only_the_vitals_of_the_scopes_sessions_count_wherever_they_fall(client: Client) -> None:
    """A vital counts by its session: one of a session started in the range counts even after the
    range's end; those of a session started the day before and of a bot do not."""
    send(client, [event("vital", D + 10, "in", "a1", "/", name="LCP", value=1000),
                  event("vital", D + DAY_MS + 5, "in", "a1", "/late", name="LCP", value=3000)])
    send(client, [event("vital", D - 60_000, "before", "a2", "/", name="LCP", value=9000),
                  event("vital", D + 30, "before", "a2", "/", name="LCP", value=9000)])
    send(client, [event("vital", D + 40, "bot", "a3", "/", name="LCP", value=9000)], ua=GOOGLEBOT)
    mark_bot_if_enrichment_missed(client, "bot")
    stamp_session_context(client, "in", device="mobile")
    found = client.store.vitals(Scope("test", D, D + DAY_MS))
    assert found == vitals.report([("LCP", "/", "mobile", 1000.0), ("LCP", "/late", "mobile", 3000.0)])
    assert found["metrics"]["LCP"]["count"] == 2
    assert client.store.vitals(build_scope("test", {}, D, D + DAY_MS, {"device": "desktop"})) == vitals.report([])
