"""Known journeys for the dashboard tests, sent through POST /v1/batch like real SDKs would; fixtures."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from collector.app import create_app
from tests.support.browser import chromium
from tests.support.collector import SECRET, Server, ThreadedServer, free_port, make_settings, make_store

HOUR = 3_600_000
DAY = 24 * HOUR
SITE = "https://shop.example"

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
MOBILE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
          " Version/17.4 Mobile/15E148 Safari/604.1")
TABLET = ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
          " Version/17.4 Mobile/15E148 Safari/604.1")

# Shown verbatim on the surveys and session pages: markup in data must stay text.
HOSTILE_COMMENT = '<img src=x onerror="window.__xss=1">Checkout was <b>slow</b>'


@dataclass
class Journey:
    """One session: who, on what device, when, and its events (type, offset ms, fields)."""

    anon_id: str
    ua: str
    start: int
    steps: list[tuple[str, int, dict[str, Any]]]
    user_id: str | None = None
    replay: bool = False
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def events(self) -> list[dict[str, Any]]:
        out = []
        for kind, offset, fields in self.steps:
            event = {"id": uuid.uuid4().hex, "type": kind, "ts": self.start + offset,
                     "anon_id": self.anon_id, "session_id": self.session_id, "vw": 1280, "vh": 800, **fields}
            if self.user_id and kind != "identify":
                event.setdefault("user_id", self.user_id)
            out.append(event)
        return out


def page(path: str, offset: int, referrer: str | None = None, **extra: Any) -> tuple[str, int, dict[str, Any]]:
    fields: dict[str, Any] = {"url": SITE + path, "title": f"Shop {path}"}
    if referrer:
        fields["referrer"] = referrer
    return ("pageview", offset, {**fields, **extra})


def item(sku: str, price: float) -> dict[str, Any]:
    return {"sku": sku, "name": f"Product {sku}", "price": price, "qty": 1, "currency": "EUR", "category": "shoes"}


def journeys(now: int) -> list[Journey]:
    """Sessions over the last two days (the range under test) and four to three days ago (before)."""
    cur = now - 40 * HOUR  # every current session starts in [now - 40h, now - 1h]: inside today-2..today
    prev = now - 3 * DAY - 2 * HOUR  # inside today-5..today-3
    u = f"{SITE}/product/1"
    return [
        Journey("anon-a1", DESKTOP, cur, [
            page("/", 0, "https://www.google.com/"),
            page("/product/1", 20_000),
            ("click", 25_000, {"url": u, "x": 300, "y": 400, "sel": "button.add", "tag": "button", "text": "Add"}),
            ("cart", 26_000, {"url": u, "action": "add", "item": item("sku-1", 59.0)}),
            page("/checkout", 60_000),
            ("checkout", 70_000, {"url": SITE + "/checkout", "items": [item("sku-1", 59.0)], "value": 59.0,
                                  "currency": "EUR"}),
            ("purchase", 90_000, {"url": SITE + "/checkout", "order_id": "o-1", "value": 59.0, "currency": "EUR",
                                  "items": [item("sku-1", 59.0)]}),
            ("identify", 91_000, {"url": SITE + "/checkout", "user_id": "user_42",
                                  "traits": {"plan": "pro", "email_domain": "example.com"}}),
            ("survey", 95_000, {"url": SITE + "/checkout", "kind": "nps", "score": 10, "comment": "Love it",
                                "user_id": "user_42"}),
        ]),
        Journey("anon-a2", MOBILE, cur + 2 * HOUR, [
            page("/", 0, None, **{"url": SITE + "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"}),
        ]),
        Journey("anon-a3", TABLET, cur + 5 * HOUR, [
            page("/", 0, "https://duckduckgo.com/"),
            page("/product/2", 15_000),
            ("cart", 30_000, {"url": SITE + "/product/2", "action": "add", "item": item("sku-2", 80.0)}),
            ("survey", 45_000, {"url": SITE + "/product/2", "kind": "csat", "score": 2, "scale": 5,
                                "comment": HOSTILE_COMMENT}),
        ]),
        Journey("anon-a4", DESKTOP, cur + 9 * HOUR, [
            page("/pricing", 0),
            ("click", 5_000, {"url": SITE + "/pricing", "x": 10, "y": 10, "sel": "div.hero", "rage": True}),
            ("error", 6_000, {"url": SITE + "/pricing", "message": "TypeError: x is undefined"}),
            page("/", 30_000),
        ]),
        Journey("anon-a5", DESKTOP, cur + 12 * HOUR, [
            page("/", 0, "https://www.google.com/"),
            page("/product/1", 10_000),
            ("cart", 20_000, {"url": u, "action": "add", "item": item("sku-1", 60.0)}),
            page("/checkout", 40_000),
            ("purchase", 80_000, {"url": SITE + "/checkout", "order_id": "o-2", "value": 120.0, "currency": "EUR",
                                  "items": [item("sku-1", 60.0), item("sku-3", 60.0)]}),
            ("survey", 85_000, {"url": SITE + "/checkout", "kind": "nps", "score": 5, "comment": "Too slow"}),
            ("survey", 86_000, {"url": SITE + "/checkout", "kind": "ces", "score": 4}),
        ], replay=True),
        Journey("anon-a1", DESKTOP, cur + 20 * HOUR, [
            page("/", 0),
            page("/product/2", 12_000),
            ("survey", 20_000, {"url": SITE + "/product/2", "kind": "ces", "score": 2}),
        ], user_id="user_42"),
        Journey("anon-a6", MOBILE, cur + 30 * HOUR, [
            page("/", 0, "https://t.co/abc"),
            page("/product/1", 8_000),
            ("cart", 9_000, {"url": u, "action": "add", "item": item("sku-1", 59.0)}),
            ("survey", 15_000, {"url": u, "kind": "nps", "score": 8}),
        ]),
        Journey("anon-p1", DESKTOP, prev, [page("/", 0), page("/product/1", 30_000)]),
        Journey("anon-p2", MOBILE, prev + HOUR, [page("/", 0)]),
        Journey("anon-p3", DESKTOP, prev + 2 * HOUR, [
            page("/", 0, "https://www.google.com/"),
            page("/product/2", 20_000),
            ("purchase", 50_000, {"url": SITE + "/product/2", "order_id": "o-0", "value": 30.0, "currency": "EUR"}),
        ]),
    ]


def seed(base_url: str, key: str, now: int | None = None) -> list[Journey]:
    """Send every journey as its own batch (its own user agent) and check that all were accepted."""
    now = now or int(time.time() * 1000)
    made = journeys(now)
    with httpx.Client(base_url=base_url) as http:
        for journey in made:
            # identify comes from the site's backend (the secret key): it sets traits (docs/privacy.md).
            made_events = journey.events()
            events = [e for e in made_events if e["type"] != "identify"]
            logins = [e for e in made_events if e["type"] == "identify"]
            for batch_key, batch in ((key, events), (SECRET, logins)):
                if not batch:
                    continue
                answer = http.post("/v1/batch", json={"key": batch_key, "sent_at": now, "events": batch},
                                   headers={"User-Agent": journey.ua})
                assert answer.status_code == 200, answer.text
                assert answer.json() == {"accepted": len(batch), "rejected": []}, answer.text
            if journey.replay:
                chunk = {"key": key, "session_id": journey.session_id, "anon_id": journey.anon_id, "seq": 0,
                         "events": recording(journey.start)}
                answer = http.post("/v1/replay", json=chunk, headers={"User-Agent": journey.ua})
                assert answer.status_code == 200, answer.text
    return made


def recording(start: int) -> list[dict[str, Any]]:
    """A tiny rrweb recording: a meta event and a full snapshot of a one-heading page."""
    text = {"type": 3, "textContent": "Shop", "id": 5}
    heading = {"type": 2, "tagName": "h1", "attributes": {}, "childNodes": [text], "id": 4}
    body = {"type": 2, "tagName": "body", "attributes": {}, "childNodes": [heading], "id": 3}
    html = {"type": 2, "tagName": "html", "attributes": {}, "childNodes": [body], "id": 2}
    return [
        {"type": 4, "data": {"href": SITE + "/", "width": 1280, "height": 800}, "timestamp": start},
        {"type": 2, "data": {"node": {"type": 0, "childNodes": [html], "id": 1},
                             "initialOffset": {"left": 0, "top": 0}}, "timestamp": start + 10},
    ]


def dates(now_ms: int | None = None) -> tuple[str, str]:
    """The range under test: the last three UTC days, today included."""
    today = dt.datetime.fromtimestamp((now_ms or time.time() * 1000) / 1000, dt.UTC).date()
    return (today - dt.timedelta(days=2)).isoformat(), today.isoformat()


@pytest.fixture(name="server")
def server_fixture(tmp_path: Path) -> Iterator[Server]:
    """The real collector on loopback, built as tests/support/fixtures.py builds collector_server."""
    db_path = tmp_path / "trailmark.db"
    store = make_store(db_path)
    port = free_port()
    with ThreadedServer(create_app(make_settings(db_path), store), port):
        yield Server(f"http://127.0.0.1:{port}", port, db_path, store)


@pytest.fixture(name="browser", scope="module")
def browser_fixture() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser
