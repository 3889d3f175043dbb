"""Hostile event strings on every dashboard page in real Chromium: shown as text, never run, never markup."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from collector.app import create_app
from collector.auth import COOKIE, session_cookie
from tests.support.browser import chromium
from tests.support.collector import ADMIN_TOKEN, KEY, SECRET, ThreadedServer, free_port, make_settings, make_store

pytestmark = pytest.mark.e2e

NOW = int(time.time() * 1000)
SESSION = "sess-xss-1"
USER = "<b id=xss-user>u</b>"


def run(n: int) -> str:
    return f"window.__xss=(window.__xss||[]).concat({n})"


# Every payload either carries an element id starting with xss- (so injected markup is found in the DOM)
# or is a javascript: URL (so a clickable link to it is found).
TITLE = f"<script id=xss-script>{run(1)}</script>Cart"
URL = f"https://shop.example/p?q=<img src=x id=xss-url onerror={run(2)}>&utm_campaign=<svg id=xss-utm onload={run(3)}>"
JS_URL = f"javascript:{run(4)}"
SELECTOR = f"\"><img src=x id=xss-sel onerror={run(5)}>"
PROP_KEY = "<b id=xss-key>plan</b>"
PROP_VALUE = f"<iframe id=xss-frame srcdoc='<script>parent.{run(6)}</script>'></iframe>"
COMMENT = f"</textarea><img src=x id=xss-comment onerror={run(7)}>great"
ITEM = f"<img src=x id=xss-item onerror={run(8)}>"
ERROR = f"<details open id=xss-error ontoggle={run(9)}>"
TRACK = f"<a id=xss-track href=javascript:{run(10)}>x</a>"


def _event(type_: str, ts: int, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": str(uuid.uuid4()), "ts": ts, "anon_id": "anon-xss", "session_id": SESSION,
            **fields}


def seed(url: str) -> None:
    events = [
        _event("pageview", NOW - 60_000, url=URL, title=TITLE, referrer=JS_URL),
        _event("click", NOW - 55_000, url=URL, sel=SELECTOR, text=SELECTOR[:100], href=JS_URL, x=5, y=5,
               rage=True, dead=True),
        _event("track", NOW - 50_000, url=URL, name=TRACK, props={PROP_KEY: PROP_VALUE}),
        _event("cart", NOW - 40_000, url=URL, user_id=USER, action="add",
               item={"sku": ITEM[:200], "name": ITEM, "price": 5.0}),
        _event("survey", NOW - 35_000, url=URL, user_id=USER, kind="nps", score=3, comment=COMMENT,
               survey_id=ITEM),
        _event("error", NOW - 30_000, url=URL, user_id=USER, message=ERROR, source=JS_URL, stack=ERROR),
        _event("purchase", NOW - 25_000, url=URL, user_id=USER, order_id="<i id=xss-order>", value=5.0,
               items=[{"sku": "s", "name": ITEM}]),
        _event("pageview", NOW - 20_000, url=JS_URL, title=TITLE),
    ]
    answer = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": events})
    assert answer.json() == {"accepted": len(events), "rejected": []}, answer.text
    # Hostile traits from the site's backend (only the secret key sets traits), shown on the person page.
    login = _event("identify", NOW - 45_000, user_id=USER, traits={PROP_KEY: PROP_VALUE})
    answer = httpx.post(f"{url}/v1/batch", json={"key": SECRET, "events": [login]})
    assert answer.json() == {"accepted": 1, "rejected": []}, answer.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db_path: Path = tmp_path_factory.mktemp("xss") / "trailmark.db"
    port = free_port()
    with ThreadedServer(create_app(make_settings(db_path), make_store(db_path)), port):
        url = f"http://127.0.0.1:{port}"
        seed(url)
        yield url


# Records what would show an attempt to run: CSP violations and dialogs.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
FIND_INJECTED = """
() => ({
  xss: window.__xss || null,
  violations: window.__violations,
  injected: [...document.querySelectorAll('[id^="xss-"]')].map(e => e.outerHTML.slice(0, 80)),
  handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name)))
              .map(e => e.outerHTML.slice(0, 80)),
  jsLinks: [...document.querySelectorAll('a[href], area[href], iframe[src], form[action]')]
              .filter(e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src')
                                                   || e.getAttribute('action') || ''))
              .map(e => e.outerHTML.slice(0, 80)),
  srcdoc: [...document.querySelectorAll('iframe[srcdoc]')].length,
  text: document.body.innerText,
})
"""
PAGES = ["/overview", "/sessions", f"/sessions/{SESSION}", "/people", f"/people/{quote(USER, safe='')}",
         "/surveys", "/paths", "/commerce", "/funnels", "/retention", "/segments", "/heatmaps", "/settings"]


def test_hostile_strings_never_run_on_any_dashboard_page(server: str) -> None:
    shown: dict[str, list[str]] = {}
    with chromium() as browser:
        context = browser.new_context()
        context.add_cookies([{"name": COOKIE, "value": session_cookie(ADMIN_TOKEN), "url": server}])
        context.add_init_script(WATCH)
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in PAGES:
            page.goto(f"{server}{path}{'&' if '?' in path else '?'}site=test", wait_until="networkidle")
            page.wait_for_timeout(300)  # charts and lists render after their fetches settle
            # Hover and click what the payloads could hide behind (rows, links): nothing may run then either.
            for link in page.query_selector_all("main a")[:5]:
                if link.is_visible():
                    link.hover(timeout=2000)
            found = page.evaluate(FIND_INJECTED)
            assert found["xss"] is None, (path, found["xss"])
            assert found["injected"] == [], (path, found["injected"])
            assert found["handlers"] == [], (path, found["handlers"])
            assert found["jsLinks"] == [], (path, found["jsLinks"])
            assert found["srcdoc"] == 0, path
            assert found["violations"] == [], (path, found["violations"])
            shown[path] = [s for s in ("id=xss-sel", "id=xss-url", "id=xss-comment", "id=xss-user", "id=xss-item",
                                       "xss-script", "javascript:", "id=xss-order", "id=xss-track")
                           if s in found["text"]]
        assert dialogs == []
    # The strings did reach the screen, as text: the session, people and survey pages show them.
    assert "id=xss-sel" in shown[f"/sessions/{SESSION}"] or "id=xss-url" in shown[f"/sessions/{SESSION}"], shown
    assert any("id=xss-comment" in s for s in shown.values()), shown
    assert sum(len(s) for s in shown.values()) >= 5, shown
