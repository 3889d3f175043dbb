"""The database file (and its WAL) never holds a raw client IP or a value typed into a form field."""

from __future__ import annotations

import gzip
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from tests.support.browser import chromium
from tests.support.collector import KEY, ThreadedServer, free_port, make_settings, make_store, read_rows

IPS = ["203.0.113.77", "2001:db8::77", "198.51.100.23"]
TYPED = ["typed-secret-4242", "hunter2-password-9f1", "4111 1111 1111 1111", "jane.typed@example.org"]


def file_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*")) if p.is_file())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db_path = tmp_path / "trailmark.db"
    # Loopback is a trusted proxy here, so X-Forwarded-For stands for the visitor's address.
    settings = make_settings(db_path, trusted_proxies=("127.0.0.1",), synchronous="FULL")
    port = free_port()
    with ThreadedServer(create_app(settings, make_store(db_path)), port):
        yield f"http://127.0.0.1:{port}", db_path


def test_raw_client_ips_are_never_written(server: tuple[str, Path]) -> None:
    url, db_path = server
    browser_ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    for ip in IPS:
        headers = {"X-Forwarded-For": ip, "User-Agent": browser_ua}
        # Cookieless: no anon_id, so the collector derives the visitor from the address (hashed with a salt).
        event = {"type": "pageview", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000),
                 "url": "https://shop.example/"}
        assert httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": [event]}, headers=headers).status_code == 200
        assert httpx.get(f"{url}/v1/p.gif", params={"k": KEY, "u": "https://shop.example/x"},
                         headers=headers).status_code == 200
        bad = {"type": "pageview", "id": "", "ts": 0}  # a dead letter from that address too
        httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": [bad]}, headers=headers)
    visitors = {r["anon_id"] for r in read_rows(db_path, "SELECT anon_id FROM events")}
    assert len(visitors) == len(IPS) and None not in visitors  # the address was used, as a hash
    raw = file_bytes(db_path)
    assert len(raw) > 0
    for ip in IPS:
        assert ip.encode() not in raw, ip
        assert ip.encode("utf-16-le") not in raw, ip


PAGE = """<!doctype html><html><head><title>Checkout</title>
<script src="{collector}/trailmark.js" data-key="{key}" data-replay="1"></script></head>
<body><h1>Checkout</h1>
<form id="f" onsubmit="event.preventDefault()">
  <label>Name <input id="name" name="name"></label>
  <label>Password <input id="pw" type="password" name="pw"></label>
  <label>Card <input id="card" name="card" autocomplete="cc-number"></label>
  <label>Email <input id="email" type="email" name="email"></label>
  <textarea id="note"></textarea>
  <button id="go" type="submit">Pay</button>
</form></body></html>"""


def test_values_typed_into_forms_are_never_written(server: tuple[str, Path]) -> None:
    url, db_path = server
    html = PAGE.format(collector=url, key=KEY).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    shop = ThreadingHTTPServer(("127.0.0.1", 0), Shop)  # another loopback origin, allowed for site "test"
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    try:
        _type_into_forms(f"http://127.0.0.1:{shop.server_address[1]}/checkout")
    finally:
        shop.shutdown()
        shop.server_close()
    _assert_nothing_typed_is_stored(db_path)


def _type_into_forms(page_url: str) -> None:
    with chromium() as browser:
        page = browser.new_page()
        page.goto(page_url)
        page.wait_for_function("() => window.trailmark && typeof window.trailmark.flush === 'function'")
        for selector, value in zip(("#name", "#pw", "#card", "#email"), TYPED, strict=True):
            page.click(selector)
            page.keyboard.type(value, delay=5)
        page.fill("#note", TYPED[0] + " in a textarea")
        page.click("#go")
        page.click("h1")
        page.wait_for_timeout(1500)  # replay chunks go out on a timer
        page.evaluate("() => window.trailmark.flush()")
        page.goto("about:blank")  # page hide sends what is left
        page.wait_for_timeout(1000)


def _assert_nothing_typed_is_stored(db_path: Path) -> None:
    kinds = {r["type"] for r in read_rows(db_path, "SELECT DISTINCT type FROM events")}
    assert {"pageview", "click"} <= kinds, kinds  # the page was tracked, clicks and all
    raw = file_bytes(db_path)
    for value in TYPED:
        assert value.encode() not in raw, value
    # Replays are stored gzipped: look inside them too.
    chunks = read_rows(db_path, "SELECT data FROM replay_chunks")
    assert chunks, "the replay recorded the typing (masked), so its chunks are checked too"
    for chunk in chunks:
        inside = gzip.decompress(chunk["data"])
        for value in TYPED:
            assert value.encode() not in inside, value


# Each secret sits in another place a recorder puts a URL, spelled as sites spell it.
URL_SECRETS = [f"SECRET-{i}-{word}" for i, word in enumerate(
    ["meta", "hash", "link", "form", "frame", "srcset", "attr", "added", "css", "style"])]


def _el(node_id: int, tag: str, children: list[object] | None = None, **attrs: str) -> dict[str, object]:
    return {"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children or [], "id": node_id}


def recording(t0: int) -> list[dict[str, object]]:
    """What rrweb sends for a page opened with secrets in its URL and links, then changed by script."""
    s = URL_SECRETS
    body = _el(4, "body", [
        _el(5, "a", href=f"https://shop.example/reset?Api-Key={s[2]}&page=2"),
        _el(6, "form", action=f"/pay?sessionId={s[3]}&step=1"),
        _el(7, "iframe", rr_src=f"https://pay.example/frame?accessToken={s[4]}"),
        _el(8, "img", src="/mug.png?w=200", srcset=f"/mug.png?SIG={s[5]} 1x, /mug@2.png?w=400 2x"),
        _el(10, "div", style=f"background: url('https://shop.example/p?auth={s[9]}&n=/bg.png')"),
    ])
    # rrweb rewrites relative url()s against the page URL: its query stays when it holds a "/"
    css = f"h1 {{ background: url(https://shop.example/cb?token={s[8]}&next=/h.png) }}"
    head = _el(3, "head", [_el(11, "style", _cssText=css)])
    doc = {"type": 0, "id": 1, "childNodes": [_el(2, "html", [head, body])]}
    return [
        {"type": 4, "timestamp": t0,
         "data": {"href": f"https://shop.example/cb?q=mugs&token={s[0]}#access_token={s[1]}&state=ok",
                  "width": 800, "height": 600}},
        {"type": 2, "timestamp": t0 + 1, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}},
        {"type": 3, "timestamp": t0 + 2, "data": {
            "source": 0, "texts": [], "removes": [],
            "attributes": [{"id": 5, "attributes": {"href": f"/account#/reset?password={s[6]}&x=1"}}],
            "adds": [{"parentId": 4, "nextId": None,
                      "node": _el(9, "a", href=f"/next?API_KEY={s[7]}", title="?token=not-a-url")}],
        }},
        {"type": 3, "timestamp": t0 + 3,
         "data": {"source": 1, "positions": [{"x": 1, "y": 2, "id": 5, "timeOffset": 0}]}},
    ]


def test_replay_chunks_are_stored_without_url_secrets(server: tuple[str, Path]) -> None:
    url, db_path = server
    t0 = int(time.time() * 1000)
    events = recording(t0)
    chunk = {"key": KEY, "session_id": "s-urls", "anon_id": "a-urls", "seq": 0, "events": events}
    answer = httpx.post(f"{url}/v1/replay", json=chunk)
    assert (answer.status_code, answer.json()) == (200, {"accepted": 4, "stored": True})

    (row,) = read_rows(db_path, "SELECT data FROM replay_chunks WHERE session_id = 's-urls'")
    inside = gzip.decompress(row["data"])
    raw = file_bytes(db_path)
    for secret in URL_SECRETS:
        assert secret.encode() not in inside, secret
        assert secret.encode() not in raw, secret
    stored = json.loads(inside)
    assert stored[0]["data"]["href"] == "https://shop.example/cb?q=mugs#state=ok"
    head, body = stored[1]["data"]["node"]["childNodes"][0]["childNodes"]
    assert head["childNodes"][0]["attributes"] == {
        "_cssText": "h1 { background: url(https://shop.example/cb?next=/h.png) }"}
    a, form, frame, img, div = body["childNodes"]
    assert a["attributes"] == {"href": "https://shop.example/reset?page=2"}
    assert form["attributes"] == {"action": "/pay?step=1"}
    assert frame["attributes"] == {"rr_src": "https://pay.example/frame"}
    assert img["attributes"] == {"src": "/mug.png?w=200", "srcset": "/mug.png 1x, /mug@2.png?w=400 2x"}
    assert div["attributes"] == {"style": "background: url('https://shop.example/p?n=/bg.png')"}
    mutation = stored[2]["data"]
    assert mutation["attributes"] == [{"id": 5, "attributes": {"href": "/account#/reset?x=1"}}]
    # only URL attributes are URLs: a title is text, and stays as recorded
    assert mutation["adds"][0]["node"]["attributes"] == {"href": "/next", "title": "?token=not-a-url"}
    assert stored[3] == events[3]  # events without URLs are stored as sent


def test_dead_letters_keep_no_url_secrets(server: tuple[str, Path]) -> None:
    url, db_path = server
    s = URL_SECRETS
    now = int(time.time() * 1000)
    bad = {"type": "pageview", "id": "", "ts": now,  # an empty id: rejected
           "url": f"https://shop.example/cb?code={s[0]}&q=1#accessToken={s[1]}",
           "referrer": f"https://idp.example/?client-secret={s[2]}",
           "props": {"links": [f"/a?api_key={s[3]}", {"next": f"/#/reset?Password={s[4]}&step=2"}]}}
    good = {"type": "pageview", "id": "p-ok", "ts": now, "url": f"https://shop.example/?apiKey={s[5]}&q=2"}
    big = {"type": "track", "id": "t-big", "ts": now, "name": "x", "url": f"/x?ACCESS-TOKEN={s[6]}&ok=1",
           "props": {"pad": "x" * 70_000}}  # over the per-event limit: rejected before decoding
    answer = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": [bad, good, big]})
    assert answer.status_code == 200
    assert [r["index"] for r in answer.json()["rejected"]] == [0, 2]

    rows = read_rows(db_path, "SELECT source, raw FROM dead_letters ORDER BY rowid")
    assert [r["source"] for r in rows] == ["batch", "batch"]
    assert json.loads(rows[0]["raw"]) == {
        "type": "pageview", "id": "", "ts": now, "url": "https://shop.example/cb?q=1",
        "referrer": "https://idp.example/",
        "props": {"links": ["/a", {"next": "/#/reset?step=2"}]}}
    assert json.loads(rows[1]["raw"]) == {**big, "url": "/x?ok=1"}
    assert read_rows(db_path, "SELECT url FROM events") == [{"url": "https://shop.example/?q=2"}]
    raw = file_bytes(db_path)
    for secret in s[:7]:
        assert secret.encode() not in raw, secret
