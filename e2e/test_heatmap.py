"""Heatmaps end to end: real Chromium clicks a button that moves between widths; the API keeps the
clicks on one element per bucket, and the viewer draws heat over that button in each bucket."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from collector.auth import COOKIE, session_cookie
from tests.support.browser import DESKTOP_UA, chromium, wait_until
from tests.support.collector import ThreadedServer, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# bucket -> (viewport width, height, clicks on the button)
BUCKETS = {"desktop": (1280, 800, 3), "tablet": (820, 900, 2), "mobile": (390, 760, 1)}

# The button sits top right on desktops, in the middle on tablets and below a tall block on phones.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Heat test</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { margin: 0; font: 16px sans-serif; background: #fafafa; }
header { height: 80px; background: #1e293b; color: #fff; padding: 20px; box-sizing: border-box; }
.hero { position: relative; height: 600px; background: #e2e8f0; }
#cta { position: absolute; right: 60px; top: 40px; width: 180px; height: 56px; font-size: 18px; }
.intro { padding: 20px; }
@media (max-width: 1023px) { #cta { right: auto; left: calc(50% - 90px); top: 300px; } }
@media (max-width: 767px) { .hero { height: 900px; } #cta { position: static; display: block; margin: 20px auto; } }
</style>
<script>window.trailmark=window.trailmark||function(){(trailmark.q=trailmark.q||[]).push(arguments)}</script>
<script async src="COLLECTOR/trailmark.js" data-key="KEY" data-replay="1"></script>
</head><body><header>Heat test shop</header>
<div class="hero"><p class="intro" id="intro">Spring sale on every mug.</p></div>
<button id="cta" type="button">Buy now</button>
<p id="footer">Footer text</p>
</body></html>"""


def site_app(collector: str, key: str) -> Starlette:
    async def heat(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.replace("COLLECTOR", collector).replace("KEY", key))

    return Starlette(routes=[Route("/heat", heat)])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


def visit(browser: Browser, site: str, width: int, height: int, clicks: int) -> None:
    """One visit at this viewport: a recorded snapshot, `clicks` clicks on the button, one on the intro."""
    context = browser.new_context(viewport={"width": width, "height": height}, user_agent=DESKTOP_UA)
    page = context.new_page()
    page.goto(site + "/heat")
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.wait_for_timeout(500)
    for _ in range(clicks):
        page.click("#cta")
        page.wait_for_timeout(600)  # three clicks within a second would be a rage burst
    page.click("#intro")
    page.wait_for_timeout(1300)  # clicks are held 1.1 s to learn whether they were dead
    page.goto("about:blank")  # pagehide flushes events and the last replay chunk
    context.close()


def heatmap(server: Any, device: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/heatmap", params={"site": "test", "url": "/heat", "device": device},
                       headers=server.admin)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def viewer(browser: Browser, server: Any, device: str) -> Page:
    context = browser.new_context(viewport={"width": 1700, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/heat&hm_device={device}&kind=click")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "snapshot", page.inner_text("#hm-status")
    assert errors == []
    return page


# Inside the page: the button's box in the rebuilt page, and the canvas alpha inside it and in an
# empty corner of the page (below the hero, left of where any click landed).
PROBE = """() => {
  const frame = document.querySelector('#hm-stage iframe');
  const box = frame.contentDocument.querySelector('#cta').getBoundingClientRect();
  const canvas = document.getElementById('hm-canvas');
  const ctx = canvas.getContext('2d');
  const alpha = (x, y, w, h) => {
    const px = ctx.getImageData(Math.round(x), Math.round(y),
                                Math.max(1, Math.round(w)), Math.max(1, Math.round(h))).data;
    let sum = 0, max = 0;
    for (let i = 3; i < px.length; i += 4) { sum += px[i]; max = Math.max(max, px[i]); }
    return {mean: sum / (px.length / 4), max};
  };
  return {
    box: {left: box.left, top: box.top, width: box.width, height: box.height},
    frame: {width: frame.offsetWidth, sandbox: frame.getAttribute('sandbox')},
    canvas: {width: canvas.width, height: canvas.height},
    inside: alpha(box.left + box.width * 0.25, box.top + box.height * 0.25, box.width / 2, box.height / 2),
    empty: alpha(0, canvas.height - 40, 40, 40),
  };
}"""


def test_clicks_stay_on_the_moving_button_in_every_bucket(browser: Browser, collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    with ThreadedServer(site_app(server.url, server.key), port := free_port()):
        for width, height, clicks in BUCKETS.values():
            visit(browser, f"http://127.0.0.1:{port}", width, height, clicks)

    def stored() -> bool:
        return all(heatmap(server, device)["total"] == clicks + 1 for device, (_, _, clicks) in BUCKETS.items())

    wait_until("every bucket's clicks are stored", stored)
    positions = {}
    selectors = set()
    for device, (_, _, clicks) in BUCKETS.items():
        answer = heatmap(server, device)
        button = answer["elements"][0]
        assert (button["count"], button["tag"], button["text"]) == (clicks, "button", "Buy now")
        assert answer["elements"][1]["count"] == 1 and answer["elements"][1]["sel"] != button["sel"]
        selectors.add(button["sel"])
        positions[device] = button["points"][0][:2]
    assert len(selectors) == 1 and "cta" in selectors.pop()  # one element, wherever the layout put it
    assert len({tuple(p) for p in positions.values()}) == 3  # ... and it really moved on the page

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for device, (width, _, _) in BUCKETS.items():
        page = viewer(browser, server, device)
        probe = page.evaluate(PROBE)
        assert probe["frame"]["width"] == width
        assert probe["frame"]["sandbox"] == "allow-same-origin"  # no allow-scripts: nothing recorded runs
        assert probe["canvas"]["width"] == width
        assert probe["inside"]["max"] > 0 and probe["inside"]["mean"] > 40, probe
        assert probe["empty"]["max"] == 0, probe
        rows = page.eval_on_selector_all("#hm-elements tbody tr", "rs => rs.map(r => r.dataset.sel)")
        assert len(rows) == 2 and "cta" in rows[0]
        # the button in view (the stage is scaled to the panel), then the picture
        page.evaluate("""top => { const s = document.getElementById('hm-scroller');
            s.scrollTop = Math.max(0, top * Number(document.getElementById('hm-stage').dataset.scale) - 200); }""",
                      probe["box"]["top"])
        page.locator(".hm-layout").screenshot(path=str(SCREENSHOTS / f"heatmap_{device}.png"))
        page.context.close()

    # the scroll map of the same page: every visit reported a depth, with the fold line drawn
    page = viewer(browser, server, "desktop")
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/heat&hm_device=desktop&kind=scroll")
    page.wait_for_selector("body[data-ready='1']")
    assert page.eval_on_selector_all("#hm-scroll tbody tr", "rs => rs.length") == 11
    page.locator(".hm-layout").screenshot(path=str(SCREENSHOTS / "heatmap_scroll_desktop.png"))
    page.context.close()

    # without a recorded snapshot the viewer says so and draws the page points on a plain page
    with sqlite3.connect(server.db_path) as conn:
        conn.execute("DELETE FROM replay_chunks")
    context = browser.new_context(viewport={"width": 1700, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/heat&hm_device=mobile&kind=click")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "plain"
    assert "No recorded snapshot of this page for mobile" in page.inner_text("#hm-status")
    px, py = positions["mobile"]
    size = heatmap(server, "mobile")["point_px"]
    alpha = page.evaluate("([x, y]) => document.getElementById('hm-canvas').getContext('2d')"
                          ".getImageData(x, y, 1, 1).data[3]", [int((px + 0.5) * size), int((py + 0.5) * size)])
    assert alpha > 0
    page.locator(".hm-layout").screenshot(path=str(SCREENSHOTS / "heatmap_plain_mobile.png"))
    context.close()
