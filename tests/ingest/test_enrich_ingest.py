"""Enrichment through the real ingest path: a real uvicorn on loopback, a real SQLite file."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.config import Settings
from tests.support.collector import KEY, ThreadedServer, free_port, make_settings, make_store, read_rows
from tests.support.geo_fixture import build_city_mmdb

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36"
)
LONDON_IP = "81.2.69.142"
TOKYO_IP = "2400:4050::1"
# Every spelling of the test addresses that could end up in the file.
IP_SPELLINGS = [
    LONDON_IP,
    "::ffff:81.2.69.142",
    TOKYO_IP,
    "2400:4050:0:0:0:0:0:1",
    "2400:4050:0000:0000:0000:0000:0000:0001",
]


@dataclass
class Collector:
    url: str
    db_path: Path

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return read_rows(self.db_path, sql, *params)

    def send(self, events: list[dict[str, Any]], ua: str, xff: str | None = None) -> dict[str, Any]:
        headers = {"User-Agent": ua}
        if xff is not None:
            headers["X-Forwarded-For"] = xff
        body = {"key": KEY, "sent_at": int(time.time() * 1000), "events": events}
        response = httpx.post(f"{self.url}/v1/batch", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def serve(tmp_path: Path, site: dict[str, Any] | None = None, **settings: Any) -> Iterator[Collector]:
    tmp_path.mkdir(exist_ok=True)
    db_path = tmp_path / "trailmark.db"
    store = make_store(db_path)
    store.add_site("test", "Test site", key=KEY, settings=site or {"route_templates": ["/product/:slug"]})
    port = free_port()
    app = create_app(make_settings(db_path, **settings), store)
    with ThreadedServer(app, port):
        yield Collector(f"http://127.0.0.1:{port}", db_path)


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[Collector]:
    """The collector behind a trusted reverse proxy on loopback, with a City database."""
    mmdb = build_city_mmdb(tmp_path / "city.mmdb")
    with serve(tmp_path, trusted_proxies=("127.0.0.1",), geoip=mmdb) as collector:
        yield collector


@pytest.fixture
def exposed(tmp_path: Path) -> Iterator[Collector]:
    """The collector reached directly: no proxy is trusted."""
    mmdb = build_city_mmdb(tmp_path / "city.mmdb")
    with serve(tmp_path, geoip=mmdb) as collector:
        yield collector


def pageview(url: str, referrer: str | None = None, **fields: Any) -> dict[str, Any]:
    event = {"id": str(uuid.uuid4()), "type": "pageview", "ts": int(time.time() * 1000), "url": url}
    if referrer is not None:
        event["referrer"] = referrer
    return {**event, **fields}


def test_session_gets_device_geo_and_acquisition(behind_proxy: Collector) -> None:
    url = "https://shop.example/product/blue-shoes?utm_source=google&utm_medium=cpc&token=s3cr3t"
    behind_proxy.send(
        [pageview(url, "https://www.google.com/?q=shoes&email=me%40example.org", session_id="s1")],
        CHROME,
        xff=f"6.6.6.6, {LONDON_IP}",
    )
    (session,) = behind_proxy.rows("SELECT * FROM sessions")
    assert {k: session[k] for k in (
        "channel", "referrer", "utm_source", "utm_medium", "utm_campaign", "browser",
        "browser_version", "os", "os_version", "device", "device_brand", "device_model", "is_bot",
        "country", "country_name", "region", "city", "timezone", "lat", "lon", "entry_url",
    )} == {
        "channel": "paid_search",
        "referrer": "https://www.google.com/?q=shoes",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": None,
        "browser": "Chrome",
        "browser_version": "131",
        "os": "Windows",
        "os_version": "10",
        "device": "desktop",
        "device_brand": None,
        "device_model": None,
        "is_bot": 0,
        "country": "GB",
        "country_name": "United Kingdom",
        "region": "England",
        "city": "London",
        "timezone": "Europe/London",
        "lat": 51.5,
        "lon": -0.1,
        "entry_url": "https://shop.example/product/blue-shoes?utm_source=google&utm_medium=cpc",
    }  # fmt: skip
    (event,) = behind_proxy.rows("SELECT url, path, route, data FROM events")
    assert event == {
        "url": "https://shop.example/product/blue-shoes?utm_source=google&utm_medium=cpc",
        "path": "/product/blue-shoes",
        "route": "/product/:slug",
        "data": '{"referrer":"https://www.google.com/?q=shoes"}',
    }


def test_cookieless_visitors_are_counted_and_raw_ips_never_stored(
    behind_proxy: Collector,
) -> None:
    # Two pages from London on Chrome, one from Tokyo on an iPhone, none with an anon_id.
    for path in ("/", "/about"):
        behind_proxy.send([pageview(f"https://shop.example{path}")], CHROME, xff=LONDON_IP)
    behind_proxy.send([pageview("https://shop.example/")], IPHONE, xff=f"{TOKYO_IP}, 127.0.0.1")
    # A client that writes the header itself and then goes through the proxy.
    behind_proxy.send([pageview("https://shop.example/x")], CHROME, xff=f"{TOKYO_IP}, {LONDON_IP}")
    events = behind_proxy.rows("SELECT anon_id, path FROM events ORDER BY rowid")
    london, tokyo = events[0]["anon_id"], events[2]["anon_id"]
    assert [e["anon_id"] for e in events] == [london, london, tokyo, london]
    assert len(london) == 32 and len(tokyo) == 32 and london != tokyo
    sessions = behind_proxy.rows(
        "SELECT visitor_id, device, country, city, pageviews FROM sessions ORDER BY country"
    )
    assert sessions == [
        {"visitor_id": london, "device": "desktop", "country": "GB", "city": "London",
         "pageviews": 3},
        {"visitor_id": tokyo, "device": "mobile", "country": "JP", "city": "Tokyo",
         "pageviews": 1},
    ]  # fmt: skip
    (salts,) = behind_proxy.rows("SELECT count(*) AS n FROM salts")
    assert salts == {"n": 1}
    for path in sorted(behind_proxy.db_path.parent.glob("trailmark.db*")):
        content = path.read_bytes()
        for spelling in IP_SPELLINGS:
            assert spelling.encode() not in content, f"{spelling} found in {path.name}"
            assert spelling.encode("utf-16-le") not in content, f"{spelling} in {path.name}"
    assert any(p.name == "trailmark.db-wal" for p in behind_proxy.db_path.parent.iterdir())


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(exposed: Collector) -> None:
    exposed.send([pageview("https://shop.example/", session_id="s1")], CHROME, xff=LONDON_IP)
    (session,) = exposed.rows("SELECT country, city, lat FROM sessions")
    # The peer is 127.0.0.1, which has no geo; London from the header was not believed.
    assert session == {"country": None, "city": None, "lat": None}


def test_bots_are_stored_and_flagged(behind_proxy: Collector) -> None:
    behind_proxy.send([pageview("https://shop.example/", session_id="b1")], HEADLESS, LONDON_IP)
    behind_proxy.send([pageview("https://shop.example/", session_id="h1")], CHROME, LONDON_IP)
    assert behind_proxy.rows("SELECT id, device, browser, is_bot FROM sessions ORDER BY id") == [
        {"id": "b1", "device": "bot", "browser": "HeadlessChrome", "is_bot": 1},
        {"id": "h1", "device": "desktop", "browser": "Chrome", "is_bot": 0},
    ]


def test_backend_sdk_events_have_no_device_geo_or_derived_visitor(behind_proxy: Collector) -> None:
    track = {"id": "t1", "type": "track", "ts": int(time.time() * 1000), "user_id": "user_42",
             "name": "signup"}  # fmt: skip
    behind_proxy.send([track], "trailmark-python/0.1.0", xff=LONDON_IP)
    (event,) = behind_proxy.rows("SELECT anon_id, user_id FROM events")
    assert event == {"anon_id": None, "user_id": "user_42"}
    (session,) = behind_proxy.rows("SELECT visitor_id, device, browser, is_bot, country FROM sessions")
    assert session == {
        "visitor_id": "user_42", "device": None, "browser": None, "is_bot": 0, "country": None,
    }  # fmt: skip


def test_events_too_old_after_correction_go_to_dead_letters(behind_proxy: Collector) -> None:
    now = int(time.time() * 1000)
    old = pageview("https://shop.example/", ts=now - 8 * 86_400_000)
    fresh = pageview("https://shop.example/", ts=now - 60_000)
    answer = behind_proxy.send([old, fresh], CHROME, LONDON_IP)
    assert answer == {"accepted": 1, "rejected": [{"index": 0, "error": "ts too old"}]}
    assert behind_proxy.rows("SELECT reason FROM dead_letters") == [{"reason": "ts too old"}]


def test_clock_skew_is_corrected_and_client_time_kept(behind_proxy: Collector) -> None:
    # The client's clock runs one hour fast.
    skew = 3_600_000
    client_now = int(time.time() * 1000) + skew
    body = {
        "key": KEY,
        "sent_at": client_now,
        "events": [pageview("https://shop.example/", ts=client_now - 5_000)],
    }
    before = int(time.time() * 1000)
    response = httpx.post(f"{behind_proxy.url}/v1/batch", json=body, headers={"User-Agent": CHROME})
    after = int(time.time() * 1000)
    assert response.json() == {"accepted": 1, "rejected": []}
    (event,) = behind_proxy.rows("SELECT ts, client_ts, received_at FROM events")
    assert event["client_ts"] == client_now - 5_000
    assert event["ts"] == event["received_at"] - 5_000
    assert before <= event["received_at"] <= after


def test_pixel_pageviews_are_enriched(behind_proxy: Collector) -> None:
    response = httpx.get(
        f"{behind_proxy.url}/v1/p.gif",
        params={"k": KEY, "u": "https://shop.example/order/123?sid=abc", "r": "https://t.co/x"},
        headers={"User-Agent": IPHONE, "X-Forwarded-For": LONDON_IP},
    )
    assert response.status_code == 200
    (event,) = behind_proxy.rows("SELECT url, route, anon_id FROM events")
    assert event["url"] == "https://shop.example/order/123"
    assert event["route"] == "/order/:id"
    assert len(event["anon_id"]) == 32
    (session,) = behind_proxy.rows("SELECT channel, device, country FROM sessions")
    assert session == {"channel": "organic_social", "device": "mobile", "country": "GB"}


def test_sensitive_params_from_settings_and_per_site(tmp_path: Path) -> None:
    url = "https://shop.example/?coupon=C1&ref=r&token=t"
    with serve(tmp_path / "a", sensitive_params=("Coupon",)) as collector:
        collector.send([pageview(url)], CHROME)
        # The configured list replaces the default: token stays, coupon goes.
        assert collector.rows("SELECT url FROM events") == [{"url": "https://shop.example/?ref=r&token=t"}]
    site = {"sensitive_params": ["ref"]}
    with serve(tmp_path / "b", site=site, sensitive_params=("coupon",)) as collector:
        collector.send([pageview(url)], CHROME)
        # A site's own list replaces the collector's.
        assert collector.rows("SELECT url FROM events") == [{"url": "https://shop.example/?coupon=C1&token=t"}]


def test_sensitive_params_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILMARK_SENSITIVE_PARAMS", " coupon, order_ref ,")
    assert Settings.from_env().sensitive_params == ("coupon", "order_ref")
    monkeypatch.delenv("TRAILMARK_SENSITIVE_PARAMS")
    assert Settings.from_env().sensitive_params == ()
