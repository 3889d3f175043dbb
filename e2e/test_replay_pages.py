"""The player streams a recording of many chunks page by page: real Chromium, real collector."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from collector.api.replay import PAGE_CHUNKS
from collector.auth import COOKIE, session_cookie
from tests.support.browser import DESKTOP_UA, chromium, wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
T0 = int(time.time() * 1000) - 3_600_000
CHUNKS = 60
CHUNK_MS = 5000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP_UA) as b:
        yield b


def snapshot() -> dict[str, Any]:
    def el(node_id: int, tag: str, attributes: dict[str, str], *children: dict[str, Any]) -> dict[str, Any]:
        return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes, "childNodes": list(children)}

    text = {"type": 3, "id": 8, "textContent": "Chunk 0"}
    paragraph = el(7, "p", {"style": "font: 48px sans-serif; margin: 40px"}, text)
    return {"type": 0, "id": 1, "childNodes": [el(3, "html", {}, el(4, "head", {}), el(5, "body", {}, paragraph))]}


def chunk_events(seq: int) -> list[dict[str, Any]]:
    """Chunk `seq` covers 5 s: its text change, mouse moves and 100 KB of noise (a heavy recording)."""
    at = T0 + seq * CHUNK_MS
    events: list[dict[str, Any]] = []
    if seq == 0:
        meta = {"href": "https://shop.example/long", "width": 1000, "height": 600}
        events += [{"type": 4, "timestamp": at, "data": meta},
                   {"type": 2, "timestamp": at, "data": {"node": snapshot(), "initialOffset": {"top": 0, "left": 0}}}]
    events.append({"type": 3, "timestamp": at + 10, "data": {
        "source": 0, "texts": [{"id": 8, "value": f"Chunk {seq}"}], "attributes": [], "removes": [], "adds": []}})
    events += [{"type": 3, "timestamp": at + 500 * i, "data": {"source": 1, "positions": [
        {"x": 40 + 20 * i, "y": 100 + 10 * i, "id": 7, "timeOffset": 0}]}} for i in range(1, 10)]
    events.append({"type": 5, "timestamp": at + 4900, "data": {
        "tag": "noise", "payload": base64.b64encode(os.urandom(75_000)).decode()}})
    return events


def test_a_recording_of_many_chunks_plays_page_by_page(browser: Browser, collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    batch = {"key": "wk_test", "sent_at": T0, "events": [{"id": "pv", "type": "pageview", "ts": T0, "anon_id": "a1",
                                                         "session_id": "s-long", "url": "https://shop.example/long"}]}
    assert httpx.post(f"{server.url}/v1/batch", json=batch).status_code == 200
    for seq in range(CHUNKS):
        chunk = {"key": "wk_test", "session_id": "s-long", "anon_id": "a1", "seq": seq, "events": chunk_events(seq)}
        answer = httpx.post(f"{server.url}/v1/replay", json=chunk, timeout=30)
        assert answer.status_code == 200, answer.text

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": COOKIE, "value": session_cookie(server.admin_token), "url": server.url}])
    page = context.new_page()
    errors: list[str] = []
    fetched: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: "/replay" in r.url and "/api/" in r.url and fetched.append(r.url.split("/api/")[1]))
    page.goto(f"{server.url}/sessions/s-long/replay")
    page.wait_for_selector("#replay[data-ready='1']")
    # the first page holds 20 chunks (100 s); the second is loaded ahead, the third waits for the playhead
    wait_until("two pages loaded", lambda: page.evaluate("document.getElementById('replay').dataset.pages") == "2")
    page.wait_for_timeout(1000)
    assert fetched == ["sessions/s-long/replay?from_seq=0", f"sessions/s-long/replay?from_seq={PAGE_CHUNKS}"]
    assert page.evaluate("document.getElementById('replay').dataset.complete") is None

    def frame_text() -> str:
        return str(page.evaluate("document.querySelector('#replay iframe').contentDocument.body.innerText"))

    page.evaluate("t => document.getElementById('replay').trailmarkSeek(t, false)", 62_000)
    wait_until("chunk 12 on screen", lambda: "Chunk 12" in frame_text())
    # near the end: the player asks for the last page and shows its content
    page.evaluate("t => document.getElementById('replay').trailmarkSeek(t, false)", 58 * CHUNK_MS + 2000)
    wait_until("the last page loaded", lambda: page.evaluate("document.getElementById('replay').dataset.complete"))
    wait_until("chunk 58 on screen", lambda: "Chunk 58" in frame_text())
    assert fetched == [f"sessions/s-long/replay?from_seq={n}" for n in (0, PAGE_CHUNKS, 2 * PAGE_CHUNKS)]
    total = page.evaluate("document.getElementById('replay').trailmarkPlayer.getMetaData().totalTime")
    assert total == (CHUNKS - 1) * CHUNK_MS + 4900
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "replay-paged-recording.png"))
    assert errors == []
    context.close()
