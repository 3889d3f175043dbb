"""The heatmap viewer on real-site traits, in real Chromium: a 100vh hero keeps its recorded height
and heat lands on the clicked element at desktop, tablet and phone widths."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from collector.auth import COOKIE, session_cookie
from e2e.pages.fidelity.site import fidelity_site
from tests.support.browser import DESKTOP_UA, chromium, wait_until

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"

# device bucket -> viewport
VIEWPORTS = {"desktop": (1280, 800), "tablet": (768, 1024), "mobile": (390, 844)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


def live_boxes(page: Page, selectors: list[str]) -> dict[str, dict[str, float]]:
    """Boxes in page coordinates (as the heatmap draws them: the top of the document is y 0)."""
    return dict(page.evaluate("""sels => Object.fromEntries(sels.map(s => {
        const b = document.querySelector(s).getBoundingClientRect();
        return [s, {left: b.left + scrollX, top: b.top + scrollY, width: b.width, height: b.height}]; }))""",
                              selectors))


def visit(browser: Browser, url: str, viewport: tuple[int, int], selectors: list[str]) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.wait_for_timeout(300)
    boxes = live_boxes(page, selectors)
    for sel in selectors:
        page.click(sel)
        page.wait_for_timeout(1200)  # clicks are held 1.1 s (dead-click check)
    page.goto("about:blank")  # pagehide flushes the events and the last replay chunk
    context.close()
    return boxes


def open_viewer(browser: Browser, server: Any, route: str, device: str, width: int = 1700) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/heatmaps?site=test&hm_page={route}&hm_device={device}&kind=click")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "snapshot", page.inner_text("#hm-status")
    assert errors == []
    return page


# The element's box in the rebuilt page and the heat (canvas alpha) at its centre.
VIEWER_BOX = """sel => {
  const doc = document.querySelector('#hm-stage iframe').contentDocument;
  const el = doc.querySelector(sel);
  if (!el) return null;
  const b = el.getBoundingClientRect();
  const ctx = document.getElementById('hm-canvas').getContext('2d');
  const alpha = ctx.getImageData(Math.round(b.left + b.width / 2), Math.round(b.top + b.height / 2), 1, 1).data[3];
  return {left: b.left, top: b.top, width: b.width, height: b.height, alpha};
}"""


def test_a_100vh_hero_keeps_its_recorded_height_and_heat_stays_on_the_element(
    browser: Browser, collector_server: Any
) -> None:
    server = collector_server
    selectors = ["#signup", "#terms"]
    live: dict[str, dict[str, dict[str, float]]] = {}
    with fidelity_site(server.url, server.key) as site:
        for device, viewport in VIEWPORTS.items():
            live[device] = visit(browser, site.url + "/hero.html", viewport, selectors)
    wait_until("the clicks are stored", lambda: len(server.rows("SELECT id FROM events WHERE type = 'click'")) == 6)

    for device, (_, height) in VIEWPORTS.items():
        page = open_viewer(browser, server, "/hero.html", device)
        hero = page.evaluate("() => document.querySelector('#hm-stage iframe').contentDocument"
                             ".querySelector('.hero').getBoundingClientRect().height")
        assert hero == max(400, height), device  # one recorded screen, not the whole page
        for sel in selectors:
            got = page.evaluate(VIEWER_BOX, sel)
            want = live[device][sel]
            assert got is not None
            off = max(abs(got["top"] - want["top"]), abs(got["left"] - want["left"]))
            assert off <= 1, (device, sel, got, want)
            assert got["alpha"] > 0, (device, sel)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".hm-layout").screenshot(path=str(SCREENSHOTS / f"fidelity_hero_{device}.png"))
        page.context.close()
    # the mobile view shows the whole page (no box scrolling inside the dashboard), on a desktop
    # screen and on a phone, where it is scaled down to the panel
    whole = """() => { const s = document.getElementById('hm-scroller');
        const doc = document.querySelector('#hm-stage iframe').contentDocument;
        const scale = Number(document.getElementById('hm-stage').dataset.scale);
        return [s.scrollHeight <= s.clientHeight + 1,
                s.clientHeight >= Math.floor(doc.documentElement.scrollHeight * scale)]; }"""
    for dashboard_width in (1700, 390):
        page = open_viewer(browser, server, "/hero.html", "mobile", width=dashboard_width)
        assert page.evaluate(whole) == [True, True], dashboard_width
        if dashboard_width == 1700:
            page.context.close()
    page.screenshot(path=str(SCREENSHOTS / "fidelity_hero_mobile_on_phone.png"), full_page=True)
    page.context.close()


# The stage position of an element inside the moment view's replay frame, and the heat there.
MOMENT_BOX = """sel => {
  const stage = document.getElementById('hm-stage');
  const frame = stage.querySelector('.hm-moment iframe');
  const el = frame && frame.contentDocument.querySelector(sel);
  if (!el) return null;
  const scale = Number(stage.dataset.scale) || 1;
  const s = stage.getBoundingClientRect(), f = frame.getBoundingClientRect(), b = el.getBoundingClientRect();
  const k = f.width / frame.offsetWidth / scale;
  const left = (f.left - s.left) / scale + b.left * k, top = (f.top - s.top) / scale + b.top * k;
  const ctx = document.getElementById('hm-canvas').getContext('2d');
  const alpha = ctx.getImageData(Math.round(left + b.width * k / 2), Math.round(top + b.height * k / 2), 1, 1).data[3];
  return {left, top, width: b.width * k, height: b.height * k, alpha};
}"""


def test_an_element_that_appeared_after_load_is_shown_as_it_stood_when_clicked(
    browser: Browser, collector_server: Any
) -> None:
    server = collector_server
    with fidelity_site(server.url, server.key) as site:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(site.url + "/app.html")
        page.wait_for_function("window.trailmark && window.trailmark._replay === true")
        page.wait_for_timeout(300)
        page.click("#open")
        page.wait_for_timeout(900)  # the menu has slid in
        live = page.evaluate("() => { const b = document.querySelector('#menu-pricing').getBoundingClientRect();"
                             " return {left: b.left, top: b.top, width: b.width, height: b.height}; }")
        page.click("#menu-pricing")
        page.wait_for_timeout(1200)
        page.goto("about:blank")
        context.close()
    wait_until("the clicks are stored", lambda: len(server.rows("SELECT id FROM events WHERE type = 'click'")) == 2)

    page = open_viewer(browser, server, "/app.html", "desktop")
    # the menu item is not on the load snapshot: listed as such, and no heat on what lies at its
    # page position there (the content under the menu)
    shown = page.eval_on_selector_all("[data-show]", "bs => bs.map(b => b.dataset.show)")
    assert shown == ["#menu-pricing"]
    x, y = live["left"] + live["width"] / 2, live["top"] + live["height"] / 2
    alpha = page.evaluate("([x, y]) => document.getElementById('hm-canvas').getContext('2d')"
                          ".getImageData(x, y, 1, 1).data[3]", [round(x), round(y)])
    assert alpha == 0
    page.click("[data-show='#menu-pricing']")
    page.wait_for_selector("body[data-heatmap='moment']")
    assert "#menu-pricing as the page stood when it was clicked" in page.inner_text("#hm-status")
    got = page.evaluate(MOMENT_BOX, "#menu-pricing")
    assert got is not None
    assert max(abs(got["left"] - live["left"]), abs(got["top"] - live["top"])) <= 1, (got, live)
    assert got["alpha"] > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".hm-layout").screenshot(path=str(SCREENSHOTS / "fidelity_moment_menu.png"))
    # an element nobody clicked in a recorded session: said plainly
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/app.html&hm_device=desktop&kind=click&hm_moment=%23nope")
    page.wait_for_selector("body[data-heatmap='moment']")
    assert page.inner_text("#hm-status").startswith("#nope: no clicks on this element in this range.")
    page.context.close()
