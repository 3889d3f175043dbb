"""What a recording can make the analyst's browser do: no request to another host (a second local
server on another port stands for the recorded site), no Referer from the frame, and no page size
the heatmap viewer cannot draw. Real Chromium, real collector, real HTTP on loopback."""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from collector.auth import COOKIE, session_cookie
from tests.support.browser import DESKTOP_UA, chromium, recent_days, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
T0 = int(time.time() * 1000) - 60_000
PAGE_URL = "https://shop.example/landing"


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Recorder.seen.append((self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_POST = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_host() -> Iterator[str]:
    """A second HTTP server (another port: another origin) that counts every request it gets."""
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


def el(node_id: int, tag: str, attributes: dict[str, Any] | None = None, *children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes or {}, "childNodes": list(children)}


def text(node_id: int, value: str) -> dict[str, Any]:
    return {"type": 3, "id": node_id, "textContent": value}


def hostile_page(other: str, collector: str) -> dict[str, Any]:
    """A recorded page whose every kind of subresource points at `other`, and one image at the collector."""
    css = (f"@import url({other}/import.css); @font-face {{ font-family: Rec; src: url({other}/font.woff2) }}"
           f" body {{ font-family: Rec; background-image: url({other}/css-bg.png) }}"
           f" .cursor {{ cursor: url({other}/cursor.png), auto }}")
    head = el(4, "head", {},
              el(5, "style", {"_cssText": css}),
              el(6, "link", {"rel": "stylesheet", "href": f"{other}/style.css"}),
              el(7, "link", {"rel": "preload", "as": "image", "href": f"{other}/preload.png"}),
              el(8, "link", {"rel": "preload", "as": "font", "href": f"{other}/preload.woff2", "crossorigin": ""}),
              el(9, "link", {"rel": "prefetch", "href": f"{other}/prefetch.html"}),
              el(10, "link", {"rel": "icon", "href": f"{other}/favicon.ico"}),
              el(11, "meta", {"http-equiv": "refresh", "content": f"0;url={other}/refresh"}))
    body = el(20, "body", {"style": f"background: url({other}/body-bg.png)"},
              el(21, "h1", {"class": "cursor"}, text(22, "Recorded landing page")),
              el(23, "img", {"src": f"{other}/img.png", "alt": "product"}),
              el(24, "img", {"srcset": f"{other}/srcset-1x.png 1x, {other}/srcset-2x.png 2x"}),
              el(25, "picture", {}, el(26, "source", {"srcset": f"{other}/source.png"}), el(27, "img", {})),
              el(28, "video", {"poster": f"{other}/poster.png", "src": f"{other}/video.mp4"}),
              el(29, "audio", {"src": f"{other}/audio.mp3", "autoplay": ""}),
              el(30, "div", {"style": f"width:50px;height:50px;background-image:url({other}/div-bg.png)"}),
              el(31, "input", {"type": "image", "src": f"{other}/input.png"}),
              el(32, "object", {"data": f"{other}/object.bin"}),
              el(33, "iframe", {"src": f"{other}/frame.html"}),
              el(34, "img", {"src": f"{collector}/ui/static/favicon.svg?probe=recorded"}))
    return {"type": 0, "id": 1, "childNodes": [
        {"type": 1, "id": 2, "name": "html", "publicId": "", "systemId": ""},
        el(3, "html", {}, head, body)]}


def record(server: Any, session: str, node: dict[str, Any], width: int = 1280, height: int = 800) -> None:
    """A pageview of PAGE_URL and a recording of it: meta, full snapshot, then a few seconds of mouse moves."""
    batch = {"key": "wk_test", "sent_at": T0, "events": [
        {"id": f"pv-{session}", "type": "pageview", "ts": T0, "anon_id": "a1", "session_id": session,
         "url": PAGE_URL, "vw": width, "vh": height}]}
    answer = httpx.post(f"{server.url}/v1/batch", json=batch, headers={"User-Agent": DESKTOP_UA})
    assert answer.json() == {"accepted": 1, "rejected": []}
    events = [{"type": 4, "timestamp": T0, "data": {"href": PAGE_URL, "width": width, "height": height}},
              {"type": 2, "timestamp": T0 + 1, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}}]
    events += [{"type": 3, "timestamp": T0 + 500 * i, "data": {"source": 1, "positions": [
        {"x": 10 * i, "y": 10 * i, "id": 21, "timeOffset": 0}]}} for i in range(1, 8)]
    chunk = {"key": "wk_test", "session_id": session, "anon_id": "a1", "seq": 0, "events": events}
    answer = httpx.post(f"{server.url}/v1/replay", json=chunk)
    assert answer.status_code == 200, answer.text


def analyst(browser: Browser, server: Any) -> tuple[Page, list[dict[str, str]], list[str]]:
    """A logged-in page; the headers of every request it (and its frames) makes to the probe image."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    probes: list[dict[str, str]] = []
    errors: list[str] = []
    page.on("request", lambda r: "probe=recorded" in r.url and probes.append(r.all_headers()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, probes, errors


def test_a_replay_makes_no_request_to_other_hosts_and_sends_no_referer(
    browser: Browser, collector_server: Any, other_host: str,  # noqa: F811
) -> None:
    server = collector_server
    record(server, "s-hostile", hostile_page(other_host, server.url))
    page, probes, errors = analyst(browser, server)
    page.goto(f"{server.url}/sessions/s-hostile/replay")
    page.wait_for_selector("#replay[data-ready='1']")
    page.evaluate("document.getElementById('replay').trailmarkPlayer.play()")
    wait_until("the frame fetched the collector's own image", lambda: probes)
    page.wait_for_timeout(4000)  # the recording plays through; late loads (fonts, lazy images) would show
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "replay-hostile-recording.png"))
    frame_text = page.evaluate("document.querySelector('#replay iframe').contentDocument.body.innerText")
    assert "Recorded landing page" in frame_text  # the recording did render
    assert Recorder.seen == []
    assert [p.get("referer") for p in probes] == [None] * len(probes)
    # rrweb plays the recorded <audio autoplay>, whose source the policy blocked
    assert set(errors) <= {"The element has no supported sources."}
    page.context.close()


def test_a_heatmap_snapshot_makes_no_request_to_other_hosts_and_sends_no_referer(
    browser: Browser, collector_server: Any, other_host: str,  # noqa: F811
) -> None:
    server = collector_server
    record(server, "s-hostile-heat", hostile_page(other_host, server.url))
    page, probes, errors = analyst(browser, server)
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/landing&hm_device=desktop&{recent_days()}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "snapshot", page.inner_text("#hm-status")
    wait_until("the frame fetched the collector's own image", lambda: probes)
    page.wait_for_timeout(3000)
    page.screenshot(path=str(SCREENSHOTS / "heatmap-hostile-recording.png"))
    assert Recorder.seen == []
    assert [p.get("referer") for p in probes] == [None] * len(probes)
    # the dashboard's own requests keep their same-origin Referer (its posts need their Origin)
    assert page.evaluate("document.querySelector('meta[name=referrer]').content") == "same-origin"
    assert errors == []
    page.context.close()


def test_the_heatmap_viewer_clamps_absurd_page_sizes(browser: Browser, collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    # what ingest now refuses may be stored from before: a meta event 2e9 px wide, written directly
    node = {"type": 0, "id": 1, "childNodes": [el(3, "html", {}, el(4, "head"), el(5, "body", {},
            el(6, "div", {"style": "height: 2000000000px; background: #eef"}, text(7, "Very tall page"))))]}
    record(server, "s-absurd", node, width=1280, height=800)
    events = [{"type": 4, "timestamp": T0, "data": {"href": PAGE_URL, "width": 2e9, "height": 2e9}},
              {"type": 2, "timestamp": T0 + 1, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}}]
    conn = sqlite3.connect(server.db_path)
    conn.execute("UPDATE replay_chunks SET data = ? WHERE session_id = 's-absurd'",
                 (gzip.compress(json.dumps(events).encode()),))
    conn.commit()
    conn.close()
    page, _, errors = analyst(browser, server)
    page.goto(f"{server.url}/heatmaps?site=test&hm_page=/landing&hm_device=desktop&{recent_days()}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.body.dataset.heatmap") == "snapshot", page.inner_text("#hm-status")
    sizes = page.evaluate("""() => {
      const frame = document.querySelector('#hm-stage iframe'), canvas = document.getElementById('hm-canvas');
      return {frame: [frame.offsetWidth, frame.offsetHeight], canvas: [canvas.width, canvas.height]};
    }""")
    assert sizes == {"frame": [3840, 8333], "canvas": [3840, 8333]}  # 3,840 px wide, 32 Mpx at most
    page.screenshot(path=str(SCREENSHOTS / "heatmap-absurd-size.png"))
    assert errors == []
    page.context.close()
