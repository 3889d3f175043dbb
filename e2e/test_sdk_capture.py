"""trailmark.js in real Chromium against the real collector: what each capture stores."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from e2e.pages.sdk.site import browser, sdk_site  # noqa: F401  (`browser` is a fixture)

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1000, "height": 800}


def rows_until(server: Any, sql: str, *params: Any, n: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Poll the collector's SQLite file until `n` rows match (or give up and return what is there)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = server.rows(sql, *params)
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def data(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["data"])


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


def test_pageview_identify_clicks_cart_outbound_and_privacy(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        for target in ("#add", "#secret", "#email", "span.pick", "[data-testid=remove-mug]", "#out"):
            page.click(target, position={"x": 50, "y": 10} if target == "#add" else None)
            # a click is held 1.1 s to learn whether anything changed (dead); the next click must not be
            # that change (playwright scrolls the next target into view)
            page.wait_for_timeout(1200)
        page.click("#next")
        page.wait_for_url("**/shop2.html*")
        clicks = rows_until(srv, "SELECT * FROM events WHERE type = 'click' ORDER BY ts, rowid", n=6)
        pageviews = rows_until(srv, "SELECT * FROM events WHERE type = 'pageview' ORDER BY ts", n=2)
        leaves = rows_until(srv, "SELECT * FROM events WHERE type = 'page_leave'", n=1)

    shop, shop2 = site + "/shop.html", site + "/shop2.html?ref=home"
    port = int(site.rsplit(":", 1)[1])
    assert [(r["url"], r["path"]) for r in pageviews] == [(shop, "/shop.html"), (shop2, "/shop2.html")]
    assert data(pageviews[0])["title"] == "Mug shop"
    assert data(pageviews[1])["referrer"] == shop
    assert data(pageviews[1])["title"] == "Checkout"

    ident = srv.rows("SELECT * FROM events WHERE type = 'identify'")
    assert [(r["user_id"], data(r)["traits"]) for r in ident] == [("user-7", {"plan": "pro"})]

    cart = srv.rows("SELECT * FROM events WHERE type = 'cart'")
    assert [(r["name"], data(r)["item"]) for r in cart] == [
        ("add", {"sku": "mug-1", "name": "Blue mug", "price": 12.5, "qty": 2, "currency": "EUR", "category": "kitchen"})
    ]

    fields = [{k: data(r).get(k) for k in ("sel", "tag", "text", "href", "rage", "dead")} for r in clicks]
    assert fields == [
        {"sel": "#add", "tag": "button", "text": "Add to cart", "href": None, "rage": False, "dead": False},
        {"sel": "#email", "tag": "input", "text": None, "href": None, "rage": False, "dead": False},
        {"sel": "body > div:nth-of-type(1) > span:nth-of-type(2)", "tag": "span", "text": "two", "href": None,
         "rage": False, "dead": True},
        {"sel": '[data-testid="remove-mug"]', "tag": "button", "text": "Remove", "href": None, "rage": False,
         "dead": True},
        {"sel": "#out", "tag": "a", "text": "Partner deal", "href": f"http://localhost:{port}/partner", "rage": False,
         "dead": True},
        {"sel": "#next", "tag": "a", "text": "Next page", "href": site + "/shop2.html?ref=home", "rage": False,
         "dead": False},
    ]
    add = data(clicks[0])
    assert (add["x"], add["y"], add["rx"], add["ry"]) == (150, 210, 0.25, 0.2)
    assert (add["dw"], add["dh"], add["vw"], add["vh"]) == (1000, 800, 1000, 800)
    assert [r["url"] for r in clicks] == [shop] * 6

    outbound = srv.rows("SELECT * FROM events WHERE type = 'track' AND name = 'outbound'")
    assert [data(r)["props"] for r in outbound] == [{"href": clicks[4] and data(clicks[4])["href"]}]

    assert [(r["url"], data(r)["depth"]) for r in leaves] == [(shop, 100)]
    assert data(leaves[0])["engaged_ms"] > 0
    scrolls = srv.rows("SELECT * FROM events WHERE type = 'scroll' AND url = ?", shop)
    assert [(data(r)["depth"], data(r)["dh"]) for r in scrolls] == [(100, 800)]

    everything = srv.rows("SELECT * FROM events")
    assert len({r["session_id"] for r in everything}) == 1
    assert len({r["anon_id"] for r in everything}) == 1 and everything[0]["anon_id"]
    assert {r["user_id"] for r in everything if r["type"] != "pageview"} <= {"user-7"}
    stored = json.dumps(everything)
    for secret in ("visitor@example.com", "private note", "abc123", "Hidden from analytics", "x@y.z", "token"):
        assert secret not in stored
    assert srv.rows("SELECT reason FROM dead_letters") == []


def test_spa_navigation_routes_hash_and_dedupe(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key, routes="/app/product/:id,/orders/:id") as site:
        page = context.new_page()
        page.goto(site + "/app")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        for button in ("#push", "#push-same", "#replace", "#hash"):
            page.wait_for_timeout(50)
            page.click(button)
        page.wait_for_timeout(50)
        page.go_back()  # the hash entry -> /app/cart
        page.wait_for_timeout(50)
        page.go_back()  # the entry pushed twice for the same URL (replaced by /app/cart) -> /app/product/42
        page.wait_for_timeout(50)
        page.evaluate("trailmark.flush()")
        views = rows_until(srv, "SELECT * FROM events WHERE type = 'pageview' ORDER BY ts, rowid", n=6)
        leaves = rows_until(srv, "SELECT * FROM events WHERE type = 'page_leave' ORDER BY ts, rowid", n=5)

    app, product, cart = site + "/app", site + "/app/product/42", site + "/app/cart"
    orders = cart + "#/orders/9"
    # the collector fills `route` with the path where the page sent no template
    assert [(r["url"], r["route"]) for r in views] == [
        (app, "/app"),
        (product, "/app/product/:id"),
        (cart, "/app/cart"),
        (orders, "/orders/:id"),
        (cart, "/app/cart"),
        (product, "/app/product/:id"),
    ]
    assert [data(r).get("referrer") for r in views[1:]] == [app, product, cart, orders, cart]
    assert [r["url"] for r in leaves] == [app, product, cart, orders, cart]
    assert all(data(r)["engaged_ms"] > 0 for r in leaves)


def test_rage_and_dead_clicks(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/clicks.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.click("#dead")
        page.wait_for_timeout(1200)
        page.click("#live")
        page.wait_for_timeout(1200)
        for _ in range(3):
            page.click("#angry", position={"x": 10, "y": 10})
        page.wait_for_timeout(1200)  # out of the rage window
        page.click("#card")
        clicks = rows_until(srv, "SELECT * FROM events WHERE type = 'click' ORDER BY ts, rowid", n=6)

    assert [(data(r)["sel"], data(r)["rage"], data(r)["dead"]) for r in clicks] == [
        ("#dead", False, True),
        ("#live", False, False),
        ("#angry", True, True),
        ("#angry", True, True),
        ("#angry", True, True),
        ("#card", False, False),
    ]
    # text as the visitor reads it: block children are separated, not run together
    assert data(clicks[5])["text"] == "Storm Shell Jacket €189.00"


def test_scroll_depth_and_engaged_time(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/long.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.evaluate("window.scrollTo(0, 1200)")
        page.wait_for_timeout(200)
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(200)
        page.goto("about:blank")
        scrolls = rows_until(srv, "SELECT * FROM events WHERE type = 'scroll'", n=1)
        leaves = rows_until(srv, "SELECT * FROM events WHERE type = 'page_leave'", n=1)

    url = site + "/long.html"
    assert [(r["url"], data(r)["depth"], data(r)["dh"]) for r in scrolls] == [(url, 50, 4000)]
    assert [(r["url"], data(r)["depth"]) for r in leaves] == [(url, 50)]
    assert data(leaves[0])["engaged_ms"] >= 400


def test_commerce_surveys_track_and_stub_queue(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        warnings: list[str] = []
        errors: list[str] = []
        page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site + "/commerce.html")
        page.wait_for_function("window.trailmark && window.trailmark.v === 1")
        page.evaluate("runCommerce()")
        page.evaluate("trailmark.flush()")
        sql = "SELECT * FROM events WHERE type NOT IN ('pageview', 'vital') ORDER BY client_ts, rowid"
        rows = rows_until(srv, sql, n=10)
        assert page.text_content("#status") == "done"

    item = {"sku": "mug-1", "name": "Blue mug", "price": 12.5, "qty": 2, "currency": "EUR", "category": "kitchen"}
    got = [(r["type"], r["name"], {k: v for k, v in data(r).items() if k not in ("vw", "vh")}) for r in rows]
    assert got == [
        ("track", "queued_first", {"name": "queued_first", "props": {"n": 1}}),
        ("track", "queued_second", {"name": "queued_second", "props": {"n": 2}}),
        ("cart", "add", {"action": "add", "item": item}),
        ("cart", "remove", {"action": "remove", "item": {"sku": "mug-1", "name": None, "price": None, "qty": 1,
                                                          "currency": None, "category": None}}),
        ("checkout", None, {"items": [item], "value": 25.0, "currency": "EUR"}),
        ("purchase", "o-1001", {"order_id": "o-1001", "value": 25.0, "currency": "EUR", "items": [item]}),
        ("survey", "nps", {"kind": "nps", "score": 9, "comment": "great", "survey_id": "q1"}),
        ("survey", "csat", {"kind": "csat", "score": 6, "scale": 7}),
        ("survey", "ces", {"kind": "ces", "score": 2}),
        ("track", "signup", {"name": "signup", "props": {"plan": "pro"}}),
    ]
    assert warnings == [
        "[trailmark] cart.add: invalid item.sku",
        "[trailmark] purchase: invalid order_id",
        "[trailmark] survey: invalid score",
        "[trailmark] track: invalid name",
        "[trailmark] unknown method no.such.method",
    ]
    assert errors == []
    assert srv.rows("SELECT reason FROM dead_letters") == []


def test_errors_and_unhandled_rejections(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/errors.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.click("#boom")
        page.click("#reject")
        rows = rows_until(srv, "SELECT * FROM events WHERE type = 'error' ORDER BY ts, rowid", n=2)

    url = site + "/errors.html"
    boom, reject = (data(r) for r in rows)
    assert [r["name"] for r in rows] == ["Uncaught TypeError: boom from the page", "rejected on purpose"]
    assert (boom["source"], boom["line"] > 0, boom["col"] > 0) == (url, True, True)
    assert "TypeError: boom from the page" in boom["stack"]
    assert (reject["source"], reject["stack"].startswith("Error: rejected on purpose")) == ("unhandledrejection", True)


def test_web_vitals_from_the_lazy_bundle(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/vitals.html")
        page.wait_for_function("window.trailmark && window.trailmark._t && window.trailmark._t.vitals")
        page.click("#slow")
        page.wait_for_timeout(300)
        page.goto("about:blank")
        rows = rows_until(srv, "SELECT * FROM events WHERE type = 'vital' ORDER BY name", n=5)

    values = {r["name"]: data(r)["value"] for r in rows}
    assert sorted(values) == ["CLS", "FCP", "INP", "LCP", "TTFB"]
    assert values["CLS"] == 0
    assert values["INP"] >= 150
    assert 0 < values["FCP"] <= values["LCP"]
    assert values["TTFB"] >= 0
