"""Behind a reverse proxy: 300 visitors through one loopback peer, against a real uvicorn.

Every request here comes from 127.0.0.1 (the proxy) and names its visitor in X-Forwarded-For,
as nginx or Caddy on the same host would. The collector runs with its default rate limit.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.config import Settings
from tests.support.collector import ADMIN_TOKEN, KEY, ThreadedServer, free_port, make_store, read_rows

VISITORS = 300
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _visitor_ip(n: int) -> str:
    return f"81.2.{n // 250}.{n % 250 + 1}"


def _pageview(n: int) -> bytes:
    """A cookieless pageview (no anon_id): the collector derives the visitor from address and UA."""
    event = {"type": "pageview", "id": f"e-{n}", "session_id": f"s-{n}", "ts": int(time.time() * 1000),
             "url": "https://shop.example/"}
    return json.dumps({"key": KEY, "events": [event]}).encode()


def _serve(tmp_path: Path, **settings: object) -> Iterator[tuple[str, Path]]:
    db_path = tmp_path / "trailmark.db"
    # The shipped defaults (Settings()), not the test fixtures' rate_limit=0.
    app = create_app(Settings(db=db_path, admin_token=ADMIN_TOKEN, **settings), make_store(db_path))  # type: ignore[arg-type]
    port = free_port()
    with ThreadedServer(app, port):
        yield f"http://127.0.0.1:{port}", db_path


@pytest.fixture
def untrusted(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield from _serve(tmp_path)


@pytest.fixture
def trusted(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield from _serve(tmp_path, trusted_proxies=("127.0.0.1",))


# Tests of whether the limit refuses use 1 request/s (a burst of 2): 300 requests sent one after
# another exceed it unless each takes over a second. The default 50/s is not exceeded by a busy
# test machine, whose requests can take longer than 20 ms each.
SLOW_LIMIT = 1.0


@pytest.fixture
def untrusted_limited(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield from _serve(tmp_path, rate_limit=SLOW_LIMIT)


@pytest.fixture
def trusted_limited(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    yield from _serve(tmp_path, trusted_proxies=("127.0.0.1",), rate_limit=SLOW_LIMIT)


def _three_hundred_visitors(url: str, header: str = "X-Forwarded-For") -> Counter[int]:
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=url) as http:
        for n in range(VISITORS):
            answer = http.post("/v1/batch", content=_pageview(n), headers={
                "Content-Type": "text/plain", "User-Agent": UA, header: _visitor_ip(n),
            })
            statuses[answer.status_code] += 1
    return statuses


def test_behind_a_trusted_proxy_300_visitors_are_300_visitors(trusted: tuple[str, Path]) -> None:
    url, db_path = trusted
    assert _three_hundred_visitors(url) == {200: VISITORS}
    visitors = read_rows(db_path, "SELECT count(DISTINCT anon_id) AS n, count(*) AS events FROM events")
    assert visitors == [{"n": VISITORS, "events": VISITORS}]
    health = httpx.get(f"{url}/healthz")
    assert (health.status_code, health.text) == (200, "ok")


def test_behind_a_trusted_proxy_one_visitor_is_still_rate_limited(trusted_limited: tuple[str, Path]) -> None:
    url, _ = trusted_limited
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=url) as http:
        for n in range(VISITORS):
            answer = http.post("/v1/batch", content=_pageview(n), headers={
                "Content-Type": "text/plain", "User-Agent": UA, "X-Forwarded-For": "81.2.69.142",
            })
            statuses[answer.status_code] += 1
            if answer.status_code == 429:
                assert answer.json()["error"] == "too many requests from this address"
    # One address sending 300 at once is refused some: the burst passes, the rest mostly not.
    assert statuses[429] > 0 and statuses[200] >= 2


def test_a_client_without_a_proxy_is_still_rate_limited(untrusted_limited: tuple[str, Path]) -> None:
    url, _ = untrusted_limited
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=url) as http:
        for n in range(VISITORS):
            answer = http.post("/v1/batch", content=_pageview(n), headers={"Content-Type": "text/plain"})
            statuses[answer.status_code] += 1
    assert statuses[429] > 0 and statuses[200] >= 2


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_an_untrusted_proxy_refuses_no_one_and_says_so(
    untrusted: tuple[str, Path], header: str, caplog: pytest.LogCaptureFixture
) -> None:
    url, db_path = untrusted
    value_of = (lambda ip: f"for={ip}") if header == "Forwarded" else (lambda ip: ip)
    caplog.set_level(logging.WARNING, logger="trailmark")
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=url) as http:
        assert http.get("/healthz").text == "ok"  # nothing seen yet
        for n in range(VISITORS):
            answer = http.post("/v1/batch", content=_pageview(n), headers={
                "Content-Type": "text/plain", "User-Agent": UA, header: value_of(_visitor_ip(n)),
            })
            statuses[answer.status_code] += 1
        health = http.get("/healthz")
    # No 429: the per-IP limit does not apply to an address that is a proxy's, not a visitor's.
    assert statuses == {200: VISITORS}
    # The visitors are indistinguishable (we cannot believe the header): they merge, and we say so.
    assert read_rows(db_path, "SELECT count(DISTINCT anon_id) AS n FROM events") == [{"n": 1}]
    warning = (
        f"requests from 127.0.0.1 carry {header} but TRAILMARK_TRUSTED_PROXIES does not list 127.0.0.1:"
        " every visitor behind that proxy shares its address (cookieless visitors merge, geo is the"
        " proxy's). If it is your reverse proxy, set TRAILMARK_TRUSTED_PROXIES=127.0.0.1 (docs/deployment.md)"
    )
    assert health.status_code == 200
    assert health.text == f"ok\nwarning: {warning}"
    # One log line for 300 requests: the warning is rate limited.
    logged = [r.getMessage() for r in caplog.records if r.name == "trailmark.proxies"]
    assert logged == [warning]


def test_a_trusted_proxy_sending_only_x_real_ip_is_named(trusted: tuple[str, Path]) -> None:
    url, _ = trusted
    assert _three_hundred_visitors(url, "X-Real-IP") == {200: VISITORS}
    assert httpx.get(f"{url}/healthz").text == (
        "ok\nwarning: requests from 127.0.0.1 carry X-Real-IP but no X-Forwarded-For, the header Trailmark"
        " reads: every visitor behind that proxy shares its address. Make the proxy send X-Forwarded-For"
        " (docs/deployment.md)"
    )


def test_a_public_peer_with_a_forged_header_raises_no_alarm() -> None:
    from collector.ingest.proxy_alarm import ProxyAlarm

    alarm = ProxyAlarm(trusted=())
    alarm.check("81.2.69.142", {"x-forwarded-for": "1.1.1.1"})
    alarm.check("10.1.2.3", {})
    assert alarm.warnings() == []
    alarm.check("10.1.2.3", {"x-forwarded-for": "1.1.1.1"})
    assert len(alarm.warnings()) == 1 and "TRAILMARK_TRUSTED_PROXIES=10.1.2.3" in alarm.warnings()[0]
