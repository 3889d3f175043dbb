"""What trailmark.js stores on real-site traits: clicks the visitor did not make, masked text, hash routes."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from e2e.pages.sdk.site import sdk_site
from e2e.test_sdk_capture import rows_until
from tests.support.browser import DESKTOP_UA, chromium

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A desktop user agent: headless Chromium's own is a bot's, kept out of top pages and heatmaps."""
    with chromium(DESKTOP_UA) as b:
        yield b


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    yield ctx
    ctx.close()


def stored_bytes(srv: Any) -> bytes:
    files = sorted(srv.db_path.parent.glob(srv.db_path.name + "*"))
    return b"".join(p.read_bytes() for p in files if p.is_file())


def test_only_the_visitors_pointer_clicks_are_stored_and_masked_text_never(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/toggler.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.click("#burger")  # the site answers with toggler.click()
        page.wait_for_selector("#menu.open")
        page.click("#synthetic")  # the site answers with a dispatched click on #plain
        page.focus("#plain")
        page.keyboard.press("Enter")  # a keyboard click: no place on the page
        page.evaluate("document.getElementById('plain').click()")
        for target in ("#inside", "#holder", "#plain"):
            page.click(target)
        page.wait_for_timeout(1200)  # clicks are held 1.1 s (dead-click check)
        page.evaluate("trailmark.flush()")
        rows = rows_until(srv, "SELECT * FROM events WHERE type = 'click' ORDER BY ts, rowid", n=5)
        page.wait_for_timeout(500)  # anything else in flight lands before the count below
        rows = srv.rows("SELECT * FROM events WHERE type = 'click' ORDER BY ts, rowid")

    clicks = [(r["name"], json.loads(r["data"]).get("text")) for r in rows]
    assert clicks == [
        ("#burger", "Burger"),
        ("#synthetic", "Dispatches"),
        ("#inside", None),
        ("#holder", None),
        ("#plain", "Plain label"),
    ]
    assert all(json.loads(r["data"])["x"] > 0 and json.loads(r["data"])["y"] > 0 for r in rows)
    stored = stored_bytes(srv)
    for secret in (b"Jane Roe", b"john@example.com"):
        assert secret not in stored


def test_hash_routes_are_pages_and_anchors_are_not(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/todo.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        for link in ("#jump", "#active", "#done", "#active"):
            page.click(link)
            page.wait_for_timeout(1200)
        page.evaluate("trailmark.flush()")
        views = rows_until(srv, "SELECT * FROM events WHERE type = 'pageview' ORDER BY ts, rowid", n=4)
        clicks = rows_until(srv, "SELECT * FROM events WHERE type = 'click' ORDER BY ts, rowid", n=4)

    # the #notes anchor is no page of its own; #/active again is a new view
    assert [(r["path"], r["route"]) for r in views] == [
        ("/todo.html", "/todo.html"),
        ("/todo.html#/active", "/todo.html#/active"),
        ("/todo.html#/completed", "/todo.html#/completed"),
        ("/todo.html#/active", "/todo.html#/active"),
    ]
    assert [(r["name"], r["path"], r["route"]) for r in clicks] == [
        ("#jump", "/todo.html", "/todo.html"),
        ("#active", "/todo.html", "/todo.html"),
        ("#done", "/todo.html#/active", "/todo.html#/active"),
        ("#active", "/todo.html#/completed", "/todo.html#/completed"),
    ]
    top = srv.rows("SELECT path, pageviews FROM page_days ORDER BY path")
    assert [(r["path"], r["pageviews"]) for r in top] == [
        ("/todo.html", 1), ("/todo.html#/active", 2), ("/todo.html#/completed", 1),
    ]
    # a heatmap of one hash route holds that route's clicks only
    day = time.strftime("%Y-%m-%d", time.gmtime())
    for url, expected in (("/todo.html#/active", ["#done"]), ("/todo.html#/completed", ["#active"]),
                          ("/todo.html", ["#active", "#jump"])):
        answer = httpx.get(f"{srv.url}/api/heatmap", params={"site": "test", "url": url, "from": day, "to": day},
                           headers=srv.admin).json()
        assert sorted(e["sel"] for e in answer["elements"]) == expected
