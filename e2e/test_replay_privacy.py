"""Replays hold no URL secret and no typed text: real Chromium records a page opened from a link
with tokens in its query and fragment, whose links, form, frame and CSS carry more, while the
visitor types into a rich-text editor and into a field the page echoes; every uploaded and stored
byte is then searched for them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Request
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from e2e.test_replay import SCREENSHOTS, frame_text, replay_player
from tests.support.browser import chromium, wait_until
from tests.support.collector import ThreadedServer, free_port

pytestmark = pytest.mark.e2e

QUERY, HASH, LINK, FORM, FRAME, HIDDEN, ADDED, CHANGED = (
    f"SECRET-{w}-31337" for w in ("QUERY", "HASH", "LINK", "FORM", "FRAME", "HIDDEN", "ADDED", "CHANGED"))
EDITOR_TEXT = "typed-into-editor-5150"
EDITOR_MORE = "second-line-7272"
ECHOED = "echoed-name-6161"
SECRETS = (QUERY, HASH, LINK, FORM, FRAME, HIDDEN, ADDED, CHANGED)
TYPED = (EDITOR_TEXT, EDITOR_MORE, ECHOED)


def site(collector: str, key: str, frame_origin: str) -> Starlette:
    """One account page: secrets in links, a form, a frame, a hidden field and (via the page URL) CSS."""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Account</title>
<style>.hero {{ background: url(hero.png) }}</style>
<script async src="{collector}/trailmark.js" data-key="{key}" data-replay="1"
  data-replay-mask-selector="#preview2"></script></head>
<body><h1 class="hero">Your account</h1>
<p><a id="reset" href="/reset?token={LINK}&step=2">Reset password</a> <a href="#reviews">Reviews</a></p>
<form action="/pay?apiKey={FORM}&plan=2"><input type="hidden" name="csrf" value="{HIDDEN}"></form>
<iframe width="200" height="50" src="{frame_origin}/frame?accessToken={FRAME}"></iframe>
<div id="editor" contenteditable="true" style="border:1px solid #999;min-height:3em"></div>
<label>Name <input id="name"></label>
<p>Preview: <span id="preview" data-tm-mask></span></p>
<p>Also: <span id="preview2"></span></p>
<script>
document.getElementById("name").addEventListener("input", function (e) {{
  document.getElementById("preview").textContent = e.target.value;
  document.getElementById("preview2").textContent = e.target.value;
}});
window.changePage = function () {{
  var a = document.createElement("a");
  a.href = "/next?API_KEY={ADDED}&n=1";
  a.textContent = "Next";
  document.body.appendChild(a);
  document.getElementById("reset").setAttribute("href", "/reset#/again?Password={CHANGED}&x=1");
}};
</script></body></html>"""

    async def account(request: Any) -> HTMLResponse:
        return HTMLResponse(page)

    async def frame(request: Any) -> HTMLResponse:
        return HTMLResponse("<p>payment frame</p>")

    return Starlette(routes=[Route("/account", account), Route("/frame", frame)])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def upload(request: Request) -> bytes | None:
    """The JSON a replay upload carries, or None for any other request."""
    if request.method != "POST" or not request.url.endswith("/v1/replay"):
        return None
    body = request.post_data_buffer or b""
    return gzip.decompress(body) if request.headers.get("content-encoding") == "gzip" else body


def test_replay_keeps_no_url_secret_and_no_typed_text(browser: Browser, collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    port = free_port()
    bodies: list[bytes] = []
    with ThreadedServer(site(server.url, server.key, f"http://localhost:{port}"), port):
        page = browser.new_context(viewport={"width": 1000, "height": 700}).new_page()
        page.on("request", lambda r: (body := upload(r)) is not None and bodies.append(body))
        # a "/" in the query after the token: rrweb then resolves the relative CSS url() into it
        page.goto(f"http://127.0.0.1:{port}/account?q=mugs&token={QUERY}&next=/home"
                  f"#access_token={HASH}&state=ok")
        page.wait_for_function("window.trailmark && window.trailmark._replay === true")
        session_id = str(page.evaluate("trailmark._ctx().session_id"))
        page.click("#editor")
        page.keyboard.type(EDITOR_TEXT, delay=10)
        page.keyboard.press("Enter")
        page.keyboard.type(EDITOR_MORE, delay=10)
        page.click("#name")
        page.keyboard.type(ECHOED, delay=10)
        page.click("h1")  # the field's change event: rrweb records a field's last value on it
        # the page's changes leave in a chunk of their own, which this page can still see sent
        with page.expect_request(lambda r: b"Next" in (upload(r) or b"")):
            page.evaluate("changePage()")
        page.goto("about:blank")  # page hide: the last chunk leaves as a keepalive request
        page.context.close()

    def stored() -> list[dict[str, Any]]:
        rows = server.rows("SELECT data FROM replay_chunks WHERE session_id = ? ORDER BY seq", session_id)
        return [e for r in rows for e in json.loads(gzip.decompress(r["data"]))]

    def typed_and_changed() -> bool:
        text = json.dumps(stored())
        return "/next" in text and "*" * len(EDITOR_MORE) in text

    wait_until("the whole visit is stored", typed_and_changed)
    events = stored()
    text = json.dumps(events)

    # the recording holds the page and the masked typing: the searches below can fail
    assert "Your account" in text and "contenteditable" in text
    inputs = [e["data"]["text"] for e in events if e["type"] == 3 and e["data"].get("source") == 5]
    assert inputs == ["*" * len(ECHOED)]
    editor_texts = [t["value"] for e in events if e["type"] == 3 and e["data"].get("source") == 0
                    for t in e["data"]["texts"]]
    assert "*" * len(EDITOR_TEXT) in editor_texts
    (meta,) = [e["data"]["href"] for e in events if e["type"] == 4]
    assert meta == f"http://127.0.0.1:{port}/account?q=mugs&next=/home#state=ok"
    # (no frame URL here: rrweb keeps it, as rr_src, only when it cannot enter the frame at snapshot time)
    for kept in ("/reset?step=2", "/pay?plan=2", "/reset#/again?x=1",
                 f"http://127.0.0.1:{port}/account?q=mugs&next=/hero.png"):
        assert kept in text, kept
    assert '"value": "' + "*" * len(HIDDEN) + '"' in text  # the hidden field, masked

    # nothing secret or typed in what the browser uploaded, nor in any stored byte
    assert bodies
    uploads = b"".join(bodies)
    files = [server.db_path, server.db_path.with_name(server.db_path.name + "-wal")]
    stored_bytes = b"".join(p.read_bytes() for p in files if p.exists())
    chunks = text.encode()
    for private in (*SECRETS, *TYPED):
        for where, data in (("upload", uploads), ("chunks", chunks), ("database", stored_bytes)):
            assert private.encode() not in data, (private, where)

    # what the analyst sees: the editor and both echoes as stars
    player = replay_player(browser, server, session_id)
    player.evaluate("() => { const p = document.getElementById('replay').trailmarkPlayer; p.setSpeed(8); p.play(); }")
    wait_until("playback reaches the page's changes", lambda: "Next" in frame_text(player))
    shown = player.evaluate("""() => { const d = document.querySelector('#replay iframe').contentDocument;
        return [...['editor', 'preview', 'preview2'].map(id => d.getElementById(id).innerText),
                d.getElementById('name').value]; }""")
    assert shown == ["*" * len(EDITOR_TEXT) + "\n" + "*" * len(EDITOR_MORE), *["*" * len(ECHOED)] * 3]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    player.screenshot(path=str(SCREENSHOTS / "replay_masked_editor.png"))
    player.context.close()
