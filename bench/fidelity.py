"""Replay and heatmap fidelity on the e2e test pages (e2e/pages/fidelity/), in real Chromium.

For each page: the share of pixels that differ between the live page and the replay jumped to
the same moment (the baseline: rrweb's own seek, without the animation settling the player does),
and, at 1280, 768 and 390 px, how far the heat the viewer draws lies from the clicked element's
live box and what share of it lies on that element. Prints a Markdown table for docs/replay.md and
docs/heatmaps.md.

    .venv/bin/python bench/fidelity.py
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.app import create_app  # noqa: E402
from collector.auth import COOKIE, session_cookie  # noqa: E402
from e2e.pages.fidelity.measure import pixel_diff, replay_frame_png  # noqa: E402
from e2e.pages.fidelity.site import fidelity_site  # noqa: E402
from tests.support.browser import DESKTOP_UA, chromium  # noqa: E402
from tests.support.collector import ADMIN_TOKEN, KEY, ThreadedServer, free_port, make_settings, make_store, read_rows  # noqa: E402

VIEWPORTS = {"desktop": (1280, 800), "tablet": (768, 1024), "mobile": (390, 844)}
LIVE = (800, 500)  # replay comparisons: shown at scale 1 by the player
NEAR_PX = 8

# page -> (what the visitor does before the moment: selectors clicked, then ms waited)
REPLAY_MOMENTS = {
    "hero.html": ([], 300),
    "layers.html": ([], 300),
    "app.html (menu open)": (["#open"], 1200),
    "app.html (lightbox open)": (["#zoom"], 1500),
}
HEAT_PAGES = {"hero.html": ["#signup", "#terms"], "app.html": ["#open", "#menu-pricing"]}


def wait(what: str, check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"never happened: {what}")
        time.sleep(0.1)
    return got


def admin_page(browser: Any, url: str, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(ADMIN_TOKEN), "url": url}])
    return context.new_page()


def replay_row(browser: Any, server: str, db: Path, site: Any, name: str) -> tuple[float, float]:
    """(baseline share, share) of differing pixels at the moment, for one recorded visit."""
    page_name = name.split(" ")[0]
    clicks, settle_ms = REPLAY_MOMENTS[name]
    before = {r["session_id"] for r in read_rows(db, "SELECT DISTINCT session_id FROM replay_chunks")}
    context = browser.new_context(viewport={"width": LIVE[0], "height": LIVE[1]})
    page = context.new_page()
    page.goto(f"{site.url}/{page_name}")
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.wait_for_timeout(300)
    for sel in clicks:
        page.click(sel)
    page.wait_for_timeout(settle_ms)
    moment = page.evaluate("Date.now()")
    live = page.screenshot()
    page.goto("about:blank")
    context.close()
    session = wait("the recording", lambda: {r["session_id"] for r in read_rows(
        db, "SELECT DISTINCT session_id FROM replay_chunks")} - before).pop()
    time.sleep(1)  # the last chunk of the visit lands

    shares = []
    for settle in (False, True):
        viewer = admin_page(browser, server, 1500, 1000)
        viewer.goto(f"{server}/sessions/{session}/replay")
        viewer.wait_for_selector("#replay[data-ready='1']")
        if settle:  # the player's own jump: loads the pages up to the moment, settles animations
            viewer.evaluate("""ms => { const root = document.getElementById('replay');
                root.trailmarkSeek(ms - root.trailmarkPlayer.getMetaData().startTime, false); }""", moment)
            viewer.wait_for_selector("#replay[data-settled]")
        else:  # rrweb-player's seek alone (what a jump did before)
            viewer.evaluate("""ms => { const p = document.getElementById('replay').trailmarkPlayer;
                p.goto(ms - p.getMetaData().startTime, false); }""", moment)
        viewer.wait_for_timeout(300)
        shares.append(pixel_diff(browser, live, replay_frame_png(viewer)))
        viewer.context.close()
    return shares[0], shares[1]


VIEWER_BOXES = """sels => {
  const doc = document.querySelector('#hm-stage iframe').contentDocument;
  return Object.fromEntries(sels.map(s => { const el = doc.querySelector(s); if (!el) return [s, null];
    const b = el.getBoundingClientRect(); return [s, {left: b.left, top: b.top, width: b.width, height: b.height}]; }));
}"""


def distance(x: float, y: float, box: dict[str, float]) -> float:
    dx = max(box["left"] - x, 0.0, x - (box["left"] + box["width"]))
    dy = max(box["top"] - y, 0.0, y - (box["top"] + box["height"]))
    return math.hypot(dx, dy)


def heat_row(browser: Any, server: str, db: Path, site: Any, name: str, device: str) -> dict[str, Any]:
    """Heat of the clicks on `name` at one viewport: its distance from the live boxes."""
    width, height = VIEWPORTS[device]
    selectors = HEAT_PAGES[name]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{site.url}/{name}")
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.wait_for_timeout(300)
    live = {}
    for sel in selectors:
        page.click(sel)  # after the click: a menu item exists only once the menu is open
        box = page.evaluate("""s => { const b = document.querySelector(s).getBoundingClientRect();
            return {left: b.left + scrollX, top: b.top + scrollY, width: b.width, height: b.height,
                    vleft: b.left, vtop: b.top}; }""", sel)
        live[sel] = box
        page.wait_for_timeout(1200)
    page.goto("about:blank")
    context.close()
    time.sleep(1.5)

    viewer = admin_page(browser, server, 1700, 1000)
    viewer.goto(f"{server}/heatmaps?site=test&hm_page=/{name}&hm_device={device}&kind=click")
    viewer.wait_for_selector("body[data-ready='1']")
    answer = viewer.evaluate("""q => fetch('/api/heatmap?' + q).then(r => r.json())""",
                             f"site=test&url=/{name}&device={device}")
    boxes = viewer.evaluate(VIEWER_BOXES, selectors)
    weight = on = 0.0
    worst = 0.0
    moments = []
    for el in answer["elements"]:
        sel = el["sel"]
        if sel not in live:
            continue
        box = boxes.get(sel)
        if box is None:  # not on the load snapshot: shown in the moment view, measured there
            moments.append(sel)
            continue
        for gx, gy, n in el["cells"]:
            x = box["left"] + (gx + 0.5) / answer["grid"] * box["width"]
            y = box["top"] + (gy + 0.5) / answer["grid"] * box["height"]
            d = distance(x, y, live[sel])
            worst = max(worst, d)
            weight += n
            on += n if d <= NEAR_PX else 0
    viewer.context.close()
    for sel in moments:
        viewer = admin_page(browser, server, 1700, 1000)
        viewer.goto(f"{server}/heatmaps?site=test&hm_page=/{name}&hm_device={device}&kind=click&hm_moment={sel.replace('#', '%23')}")
        viewer.wait_for_selector("body[data-heatmap='moment']")
        got = viewer.evaluate("""sel => { const stage = document.getElementById('hm-stage');
            const frame = stage.querySelector('.hm-moment iframe'); const el = frame && frame.contentDocument.querySelector(sel);
            if (!el) return null; const b = el.getBoundingClientRect(); return {left: b.left, top: b.top}; }""", sel)
        el = next(e for e in answer["elements"] if e["sel"] == sel)
        for _, _, n in el["cells"]:
            weight += n
            if got is not None:
                d = math.hypot(got["left"] - live[sel]["vleft"], got["top"] - live[sel]["vtop"])
                worst = max(worst, d)
                on += n if d <= NEAR_PX else 0
        viewer.context.close()
    return {"worst": worst, "on": on / weight if weight else 0.0}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "fidelity.db"
        port = free_port()
        server = f"http://127.0.0.1:{port}"
        with (ThreadedServer(create_app(make_settings(db), make_store(db)), port),
              fidelity_site(server, KEY) as site, chromium(DESKTOP_UA) as browser):
            print("| page, moment | pixels differing: rrweb seek alone | with Trailmark's jump |")
            print("|---|---:|---:|")
            for name in REPLAY_MOMENTS:
                base, share = replay_row(browser, server, db, site, name)
                print(f"| {name} | {base:.2%} | {share:.2%} |")
            print()
            print("| page | width | farthest heat from the clicked box | heat within 8 px of it |")
            print("|---|---:|---:|---:|")
            for name in HEAT_PAGES:
                for device, (width, _) in VIEWPORTS.items():
                    row = heat_row(browser, server, db, site, name, device)
                    print(f"| {name} | {width} | {row['worst']:.1f} px | {row['on']:.0%} |")


if __name__ == "__main__":
    main()
