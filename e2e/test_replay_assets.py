"""A replay still looks as recorded after the site changed its stylesheet, font and images, or went
away: the collector's copies of them, in real Chromium. The site serves everything without CORS
headers from its own 127.0.0.1 port; the replay and heatmap viewer only ever load from the collector."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from collector.app import create_app
from collector.assets.fetch import Limits
from collector.auth import COOKIE, session_cookie
from e2e.pages.fidelity.measure import pixel_diff, replay_frame_png
from e2e.pages.fidelity.site import Site, fidelity_site
from tests.support.browser import DESKTOP_UA, chromium, recent_days, wait_until
from tests.support.collector import KEY, Server, ThreadedServer, free_port, make_settings, make_store

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")
LIVE = {"width": 800, "height": 500}  # the replay page shows this at scale 1 (rrweb-player never scales up)


def player(browser: Browser, server: Server, session_id: str) -> Page:
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


def png(width: int, height: int, pixel: Any) -> bytes:
    """A PNG whose pixel at (x, y) is `pixel(x, y)` (an RGB tuple), made with zlib alone."""
    rows = b"".join(b"\0" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


HERO = png(96, 48, lambda x, y: (30, 90, 160) if (x // 12 + y // 12) % 2 else (240, 190, 40))
LOGO = png(40, 20, lambda x, y: (20, 140, 80) if x < 20 else (200, 40, 40))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A collector that may copy from loopback (the test site's address; off by default)."""
    db = tmp_path / "trailmark.db"
    store = make_store(db)
    app = create_app(make_settings(db, asset_copies=Limits(allow_private=True)), store)
    port = free_port()
    with ThreadedServer(app, port):
        server = Server(f"http://127.0.0.1:{port}", port, db, store)
        server.app = app  # type: ignore[attr-defined]
        yield server


def serve_assets(site: Site) -> None:
    site.changes.update({"fonts/brand.ttf": FONT.read_bytes(), "hero.png": HERO, "logo.png": LOGO})


def visit(browser: Browser, site: Site) -> tuple[int, bytes, float]:
    """Load the page with replay on; its moment, screenshot and the title's rendered width."""
    context = browser.new_context(viewport=LIVE)
    page = context.new_page()
    page.goto(site.url + "/brand.html")
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(500)
    moment = page.evaluate("Date.now()")
    live = page.screenshot()
    width = page.evaluate(f"({TEXT_WIDTH})(document)")
    assert page.evaluate("document.fonts.check('52px Brand')")
    page.goto("about:blank")  # page hide: the recording is sent
    context.close()
    return moment, live, width


def recorded(server: Server) -> str:
    session_id = wait_until("the recording is stored",
                            lambda: server.rows("SELECT session_id FROM replay_chunks LIMIT 1"))[0]["session_id"]
    copier = server.app.state.asset_copies  # type: ignore[attr-defined]
    wait_until("the copier handled every chunk", lambda: copier.wait_idle(0.5))
    return str(session_id)


# The title text's own width (the heading box is as wide as the page): it shows which font drew it.
TEXT_WIDTH = """d => { const r = d.createRange(); r.selectNodeContents(d.getElementById('title'));
    return r.getBoundingClientRect().width; }"""


def title_width(page: Page, frame: str) -> float:
    return float(page.evaluate(f"({TEXT_WIDTH})(document.querySelector('{frame}').contentDocument)"))


def restyle(site: Site) -> None:
    """Months later: a new stylesheet, another font, the hero image gone."""
    site.changes.update({
        "brand.css": b"body { margin: 0; padding: 40px; background: #111; color: #eee; }"
                     b" h1 { font: 30px Brand, sans-serif; color: #0f0; }"
                     b" #hero { height: 40px; background: url(new.png) }",
        "fonts/brand.ttf": Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf").read_bytes(),
        "hero.png": None, "logo.png": None,
    })


def test_a_replay_keeps_the_recorded_look_after_the_site_changes_and_goes_away(
    browser: Browser, server: Server,
) -> None:
    with fidelity_site(server.url, KEY) as site:
        serve_assets(site)
        moment, live, live_width = visit(browser, site)
        session_id = recorded(server)
        copied = {r["url"].rsplit("/", 1)[1] for r in server.rows("SELECT url FROM replay_asset_refs")}
        assert copied == {"brand.ttf", "hero.png", "logo.png"}  # brand.css itself is inlined by rrweb
        restyle(site)
        changed = httpx.get(site.url + "/brand.css").text
        assert "#111" in changed
    # the site is gone altogether now

    page = player(browser, server, session_id)
    jump(page, moment)
    page.wait_for_function("document.querySelector('#replay iframe').contentDocument.fonts.check('52px Brand')")
    page.wait_for_timeout(300)
    frame = replay_frame_png(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "replay-assets-live.png").write_bytes(live)
    (SCREENSHOTS / "replay-assets-replay.png").write_bytes(frame)
    assert title_width(page, "#replay iframe") == pytest.approx(live_width, abs=0.5)
    share = pixel_diff(browser, live, frame)
    assert share <= 0.01, f"{share:.2%} of pixels differ from the live page"
    page.context.close()


def test_without_copies_the_replay_loses_the_sites_font_and_images(browser: Browser, server: Server) -> None:
    """The control: the same recording with copies turned off for the site shows what they fix."""
    answer = httpx.patch(f"{server.url}/api/sites/test", json={"replay_assets": False}, headers=server.admin)
    assert answer.json()["settings"]["replay_assets"] is False
    with fidelity_site(server.url, KEY) as site:
        serve_assets(site)
        moment, live, live_width = visit(browser, site)
        session_id = recorded(server)
    assert server.rows("SELECT count(*) AS n FROM replay_assets") == [{"n": 0}]
    page = player(browser, server, session_id)
    jump(page, moment)
    page.wait_for_timeout(500)
    frame = replay_frame_png(page)
    (SCREENSHOTS / "replay-assets-off.png").write_bytes(frame)
    assert title_width(page, "#replay iframe") != pytest.approx(live_width, abs=0.5)
    share = pixel_diff(browser, live, frame)
    assert share > 0.05, f"only {share:.2%} of pixels differ: the control shows nothing"
    page.context.close()


def test_the_heatmap_snapshot_uses_the_copies(browser: Browser, server: Server) -> None:
    with fidelity_site(server.url, KEY) as site:
        serve_assets(site)
        _moment, _live, live_width = visit(browser, site)
        recorded(server)
        restyle(site)
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/brand.html&hm_device=tablet&{recent_days()}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "snapshot", page.inner_text("#hm-status")
    page.wait_for_function("document.querySelector('#hm-stage iframe').contentDocument.fonts.check('52px Brand')")
    hero = page.evaluate("""() => { const d = document.querySelector('#hm-stage iframe').contentDocument;
        const logo = d.getElementById('logo');
        return [getComputedStyle(d.getElementById('hero')).backgroundImage, logo.naturalWidth]; }""")
    assert hero[0].startswith(f'url("{server.url}/replay-assets/') and hero[1] == 40
    assert title_width(page, "#hm-stage iframe") == pytest.approx(live_width, abs=0.5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "heatmap-assets.png"))
    context.close()
