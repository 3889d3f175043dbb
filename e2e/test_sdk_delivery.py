"""trailmark.js delivery and privacy in real Chromium: offline, unload, DNT/GPC, opt-out, hostile pages."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from e2e.pages.sdk.site import browser, sdk_site  # noqa: F401  (`browser` is a fixture)
from e2e.test_sdk_capture import VIEWPORT, data, rows_until
from tests.support.collector import free_port

pytestmark = pytest.mark.e2e

DNT = "Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'})"
GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
NO_STORAGE = ("Object.defineProperty(window, 'localStorage', "
              "{get() { throw new DOMException('The operation is insecure.', 'SecurityError'); }})")
LOADED = "window.trailmark && window.trailmark.v === 1"


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


def tracks(srv: Any, n: int) -> list[str]:
    rows = rows_until(srv, "SELECT name FROM events WHERE type = 'track' ORDER BY client_ts, rowid", n=n)
    return [r["name"] for r in rows]


def test_offline_events_are_sent_once_when_back_online(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        context.set_offline(True)
        for name in ("offline_1", "offline_2", "offline_3"):
            page.evaluate(f"trailmark.track('{name}')")
        page.evaluate("trailmark.flush()")  # fails: the browser is offline, a retry is scheduled
        page.wait_for_timeout(300)
        queued = page.evaluate(
            "JSON.parse(localStorage.getItem('tm_q')).filter(e => e.type == 'track').map(e => e.name)")
        assert queued == ["offline_1", "offline_2", "offline_3"]
        context.set_offline(False)  # fires `online`: sent at once, no backoff wait
        assert tracks(srv, 3) == ["offline_1", "offline_2", "offline_3"]
        page.wait_for_function("localStorage.getItem('tm_q') === null")


def test_events_left_offline_are_sent_by_the_next_page_load(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        context.set_offline(True)
        page.evaluate("trailmark.track('made_offline')")
        page.goto("about:blank")  # left while offline: the outbox stays in localStorage
        context.set_offline(False)
        page.goto(site + "/shop2.html?again=1")
        assert tracks(srv, 1) == ["made_offline"]
        views = rows_until(srv, "SELECT url FROM events WHERE type = 'pageview' ORDER BY ts", n=2)
        page.wait_for_function("localStorage.getItem('tm_q') === null")
        page.goto("about:blank")
        leaves = rows_until(srv, "SELECT url FROM events WHERE type = 'page_leave' ORDER BY ts", n=2)
    assert [r["url"] for r in views] == [site + "/shop2.html", site + "/shop2.html?again=1"]
    assert [r["url"] for r in leaves] == [site + "/shop2.html", site + "/shop2.html?again=1"]
    # two pageviews, two page_leaves, two scrolls, one track: each stored once
    counts = srv.rows("SELECT type, count(*) AS n FROM events WHERE type != 'vital' GROUP BY type ORDER BY type")
    assert [(r["type"], r["n"]) for r in counts] == [("page_leave", 2), ("pageview", 2), ("scroll", 2), ("track", 1)]


def test_events_made_just_before_unload_are_delivered(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        page.wait_for_function(LOADED)
        # well inside the 2 s batch window: only the pagehide keepalive request can carry these
        page.evaluate("trailmark.track('last_words'); trailmark.purchase({order_id: 'o-9', value: 5})")
        page.goto("about:blank")
        assert tracks(srv, 1) == ["last_words"]
        purchase = rows_until(srv, "SELECT name FROM events WHERE type = 'purchase'", n=1)
    assert [r["name"] for r in purchase] == ["o-9"]
    sql = "SELECT type FROM events WHERE type IN ('pageview', 'page_leave') ORDER BY ts"
    assert [r["type"] for r in srv.rows(sql)] == ["pageview", "page_leave"]


@pytest.mark.parametrize("signal", [DNT, GPC], ids=["dnt", "gpc"])
def test_dnt_and_gpc_are_honoured_unless_the_site_turns_that_off(
    collector_server: Any, browser: Any, signal: str
) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as honoured, sdk_site(srv.url, srv.key, respect_dnt="false") as ignored:
        ctx = browser.new_context(viewport=VIEWPORT)
        ctx.add_init_script(signal)
        try:
            page = ctx.new_page()
            page.goto(honoured + "/shop.html")
            page.wait_for_function(LOADED)
            page.click("#add")
            page.evaluate("trailmark.track('should_not_be_sent'); trailmark.flush()")
            stored = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tm_'))")
            cookies = [c["name"] for c in ctx.cookies() if c["name"].startswith("tm_")]
            page.goto(ignored + "/shop2.html")  # same browser signal, but this site opted out of honouring it
            views = rows_until(srv, "SELECT url FROM events WHERE type = 'pageview'", n=1)
            page.goto("about:blank")
            rows_until(srv, "SELECT id FROM events WHERE type = 'page_leave'", n=1)
        finally:
            ctx.close()
    assert stored == [] and cookies == []
    assert [r["url"] for r in views] == [ignored + "/shop2.html"]
    assert srv.rows("SELECT type FROM events WHERE url LIKE ?", honoured + "%") == []


def test_opt_out_is_remembered_and_opt_in_resumes(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.evaluate("trailmark.optOut(); trailmark.track('after_opt_out'); trailmark.flush()")
        page.goto(site + "/shop2.html?second=1")
        page.wait_for_function(LOADED)
        page.evaluate("trailmark.track('still_out'); trailmark.flush()")
        assert page.evaluate("localStorage.getItem('tm_aid')") is None
        page.evaluate("trailmark.optIn(); trailmark.track('back_in')")
        assert tracks(srv, 1) == ["back_in"]
        views = rows_until(srv, "SELECT url FROM events WHERE type = 'pageview' ORDER BY ts", n=2)
    assert [r["url"] for r in views] == [site + "/shop2.html", site + "/shop2.html?second=1"]
    assert srv.rows("SELECT name FROM events WHERE name IN ('after_opt_out', 'still_out')") == []


def test_a_hostile_host_page_keeps_working_and_is_still_measured(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site + "/throws.html")
        page.wait_for_function(LOADED)
        page.click("#work")
        assert page.text_content("#status") == "still working"
        assert tracks(srv, 1) == ["after_throw"]
        clicks = rows_until(srv, "SELECT name FROM events WHERE type = 'click'", n=1)
        views = srv.rows("SELECT url FROM events WHERE type = 'pageview'")
    assert [r["name"] for r in clicks] == ["#work"]
    assert [r["url"] for r in views] == [site + "/throws.html"]
    # only the host's own error: nothing thrown by trailmark.js reached the page
    assert errors == ["host script failed before load"]


def test_blocked_local_storage_falls_back_to_a_first_party_cookie(collector_server: Any, browser: Any) -> None:
    srv = collector_server
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(NO_STORAGE)
    try:
        with sdk_site(srv.url, srv.key) as site:
            page = ctx.new_page()
            page.goto(site + "/shop2.html")
            page.wait_for_function(LOADED)
            page.evaluate("trailmark.track('no_storage')")
            page.goto(site + "/shop2.html?next=1")
            views = rows_until(srv, "SELECT * FROM events WHERE type = 'pageview' ORDER BY ts", n=2)
            assert tracks(srv, 1) == ["no_storage"]
            cookies = {c["name"]: c["value"] for c in ctx.cookies() if c["name"].startswith("tm_")}
    finally:
        ctx.close()
    assert len({(r["anon_id"], r["session_id"]) for r in views}) == 1
    assert cookies["tm_aid"] == views[0]["anon_id"]
    assert unquote(cookies["tm_sid"]).split("|")[0] == views[0]["session_id"]


def test_cookieless_mode_stores_nothing_in_the_browser(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key, cookieless="true") as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        page.wait_for_function(LOADED)
        page.evaluate("trailmark.track('cookieless')")
        assert tracks(srv, 1) == ["cookieless"]
        views = rows_until(srv, "SELECT * FROM events WHERE type = 'pageview'", n=1)
        stored = page.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))")
        cookies = context.cookies()
    assert stored == [] and cookies == []
    assert views[0]["anon_id"]  # derived by the collector
    assert "anon_id" not in data(views[0])


def test_loading_twice_is_harmless_and_switches_work(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key, autocapture="false") as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        page.wait_for_function(LOADED)
        page.evaluate("""new Promise(done => {
            const s = document.createElement('script');
            s.src = document.querySelector('script[data-key]').src;
            s.dataset.key = 'wk_test';
            s.onload = done;
            document.head.appendChild(s);
        })""")
        page.click("h1")
        page.evaluate("trailmark.track('once'); trailmark.page(); trailmark.page(); trailmark.flush()")
        assert tracks(srv, 1) == ["once"]
        page.goto("about:blank")
        rows = rows_until(srv, "SELECT type FROM events ORDER BY client_ts, rowid", n=2)
    # autocapture off: no automatic pageview, click, scroll or page_leave; page() twice is one pageview
    assert [r["type"] for r in rows] == ["track", "pageview"]
    assert srv.rows("SELECT reason FROM dead_letters") == []


def test_a_collector_that_is_down_leaves_the_page_working(collector_server: Any, context: Any) -> None:
    srv = collector_server
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with sdk_site(srv.url, srv.key, collector=down) as site:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(site + "/shop.html")
        page.wait_for_function(LOADED)
        page.evaluate("trailmark.track('while_down'); trailmark.flush()")
        page.click("#add")
        assert page.text_content("#status") == "added"
        page.wait_for_function("(JSON.parse(localStorage.getItem('tm_q')) || []).some(e => e.name == 'while_down')")
    assert errors == []
    assert srv.rows("SELECT id FROM events") == []


def test_a_blocked_script_leaves_the_stub_harmless(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/trailmark.js", lambda route: route.abort())  # what an ad blocker does
        page.goto(site + "/shop.html")
        page.evaluate("trailmark('track', 'blocked'); trailmark('cart.add', {sku: 'x'})")
        queued = page.evaluate("trailmark.q.length")
    assert (errors, queued) == ([], 3)  # the page's own identify and these two wait; nothing thrown


DEEP_PROP = "(() => { let v = []; for (let i = 0; i < 2000; i++) v = [v]; return {p: v}; })()"


def test_an_event_with_a_2000_deep_property_does_not_stop_the_events_after_it(
    collector_server: Any, context: Any,
) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/shop2.html")
        rows_until(srv, "SELECT id FROM events WHERE type = 'pageview'", n=1)
        page.evaluate(f"trailmark.track('poisoned', {DEEP_PROP}); trailmark.track('after_1')")
        page.evaluate("trailmark.flush()")
        page.evaluate("trailmark.track('after_2'); trailmark.flush()")
        assert tracks(srv, 2) == ["after_1", "after_2"]
        page.wait_for_function("localStorage.getItem('tm_q') === null")  # the rejected one is dropped too
        page.evaluate("trailmark.track('after_3'); trailmark.flush()")
        assert tracks(srv, 3) == ["after_1", "after_2", "after_3"]
    [dead] = srv.rows("SELECT source, reason FROM dead_letters")
    assert dead == {"source": "batch", "reason": "nested deeper than 32 levels"}
