"""Replay fidelity in real Chromium: a moment jumped to looks as the live page did at that moment."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from collector.auth import COOKIE, session_cookie
from e2e.pages.fidelity.measure import pixel_diff, replay_frame_png
from e2e.pages.fidelity.site import fidelity_site
from tests.support.browser import DESKTOP_UA, chromium, wait_until

pytestmark = pytest.mark.e2e

LIVE = {"width": 800, "height": 500}  # the replay page shows this at scale 1 (rrweb-player never scales up)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


def player(browser: Browser, server: Any, session_id: str) -> Page:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/sessions/{session_id}/replay")
    page.wait_for_selector("#replay[data-ready='1']")
    return page


def jump(page: Page, client_ms: int) -> None:
    """Seek the player to the visitor's clock time `client_ms`, as a marker or the event list does."""
    page.evaluate("""ms => { const root = document.getElementById('replay');
        delete root.dataset.settled;
        root.trailmarkSeek(ms - root.trailmarkPlayer.getMetaData().startTime, false); }""", client_ms)
    page.wait_for_selector("#replay[data-settled]")
    page.wait_for_timeout(200)


def test_a_jump_shows_entrance_animations_as_they_stood(browser: Browser, collector_server: Any) -> None:
    server = collector_server
    with fidelity_site(server.url, server.key) as site:
        context = browser.new_context(viewport=LIVE)
        page = context.new_page()
        page.goto(site.url + "/app.html")
        page.wait_for_function("window.trailmark && window.trailmark._replay === true")
        page.wait_for_timeout(300)
        page.click("#zoom")
        page.wait_for_timeout(1500)  # the lightbox has faded and zoomed in (0.8 s)
        moment = page.evaluate("Date.now()")
        live = page.screenshot()
        page.goto("about:blank")
        context.close()
    session_id = wait_until("the recording is stored",
                            lambda: server.rows("SELECT session_id FROM replay_chunks LIMIT 1"))[0]["session_id"]
    wait_until("the zoom click is stored", lambda: server.rows("SELECT id FROM events WHERE type = 'click'"))

    page = player(browser, server, session_id)
    jump(page, moment)
    opacity = page.evaluate("() => getComputedStyle(document.querySelector('#replay iframe')"
                            ".contentDocument.getElementById('lightbox')).opacity")
    assert opacity == "1"
    share = pixel_diff(browser, live, replay_frame_png(page))
    assert share <= 0.01, f"{share:.2%} of pixels differ from the live page"
    page.context.close()


def test_a_multi_layer_background_keeps_its_sizes(browser: Browser, collector_server: Any) -> None:
    server = collector_server
    with fidelity_site(server.url, server.key) as site:
        context = browser.new_context(viewport=LIVE)
        page = context.new_page()
        page.goto(site.url + "/layers.html")
        page.wait_for_function("window.trailmark && window.trailmark._replay === true")
        page.wait_for_timeout(500)
        moment = page.evaluate("Date.now()")
        live = page.screenshot()
        sizes = page.evaluate("['hero', 'band'].map(id =>"
                              " getComputedStyle(document.getElementById(id)).backgroundSize)")
        page.goto("about:blank")
        context.close()
    assert sizes == ["cover, cover", "24px 24px, 24px 24px"]  # what the page asks for, live
    session_id = wait_until("the recording is stored",
                            lambda: server.rows("SELECT session_id FROM replay_chunks LIMIT 1"))[0]["session_id"]

    page = player(browser, server, session_id)
    jump(page, moment)
    replayed = page.evaluate("""() => { const d = document.querySelector('#replay iframe').contentDocument;
        return ['hero', 'band'].map(id => getComputedStyle(d.getElementById(id)).backgroundSize); }""")
    assert replayed == sizes
    share = pixel_diff(browser, live, replay_frame_png(page))
    assert share <= 0.01, f"{share:.2%} of pixels differ from the live page"
    page.context.close()
