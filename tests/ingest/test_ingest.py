"""POST /v1/batch and GET /v1/p.gif: exact answers for good and bad input, nothing else lost."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from typing import Any

import pytest

from collector.wire import MAX_BODY_BYTES
from tests.support.collector import Client

NOW = int(time.time() * 1000)


def event(type_: str = "pageview", /, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": str(uuid.uuid4()), "type": type_, "ts": NOW, "anon_id": "anon-1",
        "session_id": "sess-1", "url": "https://shop.example/",
    }
    return {**base, **fields}


def post(client: Client, body: bytes | str, **headers: str) -> Any:
    headers = {"content-type": "text/plain", **headers}
    return client.http.post("/v1/batch", content=body, headers=headers)


def batch(*events: dict[str, Any], key: str = "wk_test") -> str:
    return json.dumps({"key": key, "sent_at": NOW, "events": list(events)})


def stored_ids(client: Client) -> list[str]:
    return [r["id"] for r in client.rows("SELECT id FROM events ORDER BY rowid")]


def test_good_batch_is_stored_with_its_fields(client: Client) -> None:
    page = event(title="Home", referrer="https://www.google.com/")
    cart = event("cart", action="add", item={"sku": "tee-1", "price": 19.5, "qty": 2, "currency": "EUR"})
    answer = post(client, batch(page, cart), **{"content-type": "application/json"})
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "rejected": []}
    rows = client.rows(
        "SELECT site_id, id, session_id, type, anon_id, url, path, name, data FROM events ORDER BY rowid")
    assert rows == [
        {"site_id": "test", "id": page["id"], "session_id": "sess-1", "type": "pageview", "anon_id": "anon-1",
         "url": "https://shop.example/", "path": "/", "name": None,
         "data": '{"referrer":"https://www.google.com/","title":"Home"}'},
        {"site_id": "test", "id": cart["id"], "session_id": "sess-1", "type": "cart", "anon_id": "anon-1",
         "url": "https://shop.example/", "path": "/", "name": "add",
         "data": '{"action":"add","item":{"sku":"tee-1","name":null,"price":19.5,"qty":2,'
                 '"currency":"EUR","category":null}}'},
    ]


def test_gzip_body_is_accepted(client: Client) -> None:
    first = event()
    answer = post(client, gzip.compress(batch(first).encode()), **{"content-encoding": "gzip"})
    assert answer.json() == {"accepted": 1, "rejected": []}
    assert stored_ids(client) == [first["id"]]


GOOD = event(id="good-event")

# (body, headers, status, error): every whole-request refusal with its exact answer.
REFUSALS = [
    pytest.param(b"{not json", {}, 400, "malformed JSON: JSON is malformed: object keys must be strings (byte 1)",
                 id="invalid-json"),
    pytest.param(b'{"key": "wk_\xff", "events": [{}]}', {}, 400,
                 "malformed JSON: 'utf-8' codec can't decode byte 0xff in position 3: invalid start byte",
                 id="invalid-utf8"),
    pytest.param(json.dumps({"key": "wk_test", "events": "x"}), {}, 400,
                 "invalid batch: Expected `array`, got `str` - at `$.events`", id="events-not-a-list"),
    pytest.param(json.dumps({"key": "wk_test", "events": []}), {}, 400,
                 "invalid batch: Expected `array` of length >= 1 - at `$.events`", id="no-events"),
    pytest.param(json.dumps({"events": [GOOD]}), {}, 400,
                 "invalid batch: Object missing required field `key`", id="no-key"),
    pytest.param(batch(*[event() for _ in range(501)]), {}, 413,
                 "too many events: 501 > 500 per batch", id="501-events"),
    pytest.param(b"x" * (MAX_BODY_BYTES + 1), {}, 413, f"body is larger than {MAX_BODY_BYTES} bytes",
                 id="oversize-body"),
    pytest.param(gzip.compress(b" " * (50 * MAX_BODY_BYTES)), {"content-encoding": "gzip"}, 413,
                 f"body is larger than {MAX_BODY_BYTES} bytes after decompression", id="gzip-bomb"),
    pytest.param(b"\x1f\x8b\x08\x00garbage", {"content-encoding": "gzip"}, 400,
                 "body is not valid gzip: truncated stream", id="bad-gzip"),
    pytest.param(batch(GOOD), {"content-type": "application/x-www-form-urlencoded"}, 415,
                 "content type must be application/json or text/plain, not 'application/x-www-form-urlencoded'",
                 id="wrong-content-type"),
    pytest.param(batch(GOOD), {"content-encoding": "br"}, 415, "content encoding must be gzip or none, not 'br'",
                 id="wrong-encoding"),
    pytest.param(batch(GOOD, key="wk_nope"), {}, 401, "unknown write key", id="unknown-key"),
    pytest.param(batch(GOOD), {"origin": "https://evil.example"}, 403, "origin not allowed for this site",
                 id="wrong-origin"),
]


@pytest.mark.parametrize(("body", "headers", "status", "error"), REFUSALS)
def test_refused_requests_answer_exactly_and_lose_nothing_else(
    client: Client, body: bytes | str, headers: dict[str, str], status: int, error: str
) -> None:
    before = post(client, batch(event(id="before")))
    assert before.json() == {"accepted": 1, "rejected": []}
    answer = post(client, body, **headers)
    assert (answer.status_code, answer.json()) == (status, {"error": error})
    after = post(client, batch(event(id="after")))
    assert after.json() == {"accepted": 1, "rejected": []}
    assert stored_ids(client) == ["before", "after"]


# (event, the exact reason it is rejected with)
BAD_EVENTS = [
    pytest.param(event(ts="yesterday"), "Expected `int`, got `str` - at `$.ts`", id="wrong-type"),
    pytest.param(event("teleport"), "Invalid value 'teleport' - at `$.type`", id="unknown-type"),
    pytest.param({"type": "pageview", "ts": NOW}, "Object missing required field `id`", id="missing-field"),
    pytest.param(event("cart", action="add"), "Object missing required field `item`", id="missing-type-field"),
    pytest.param(event("survey", kind="nps", score=11), "Expected `int` <= 10 - at `$.score`", id="nps-out-of-range"),
    pytest.param(event("survey", kind="ces", score=6), "ces score must be between 1 and 5", id="ces-out-of-range"),
    pytest.param(event(colour="red"), "Object contains unknown field `colour`", id="unknown-field"),
    pytest.param(event(url="x" * 40_000), "event is larger than 32768 bytes", id="oversize-event"),
    pytest.param(event(ts=NOW - 8 * 86_400_000), "ts too old", id="too-old"),
    pytest.param(event(touchpoint="x" * 33), "Expected `str` of length <= 32 - at `$.touchpoint`",
                 id="touchpoint-too-long"),
    pytest.param(event(touchpoint=""), "Expected `str` of length >= 1 - at `$.touchpoint`",
                 id="touchpoint-empty"),
]


def test_touchpoint_is_stored_and_defaults_to_web_with_a_page_else_server(client: Client) -> None:
    page = event()
    call = event("track", name="support_call", touchpoint="call_center", url=None)
    job = event("track", name="nightly_sync", url=None)
    till = event("purchase", order_id="pos-1", value=40.0, touchpoint="store")
    assert post(client, batch(page, call, job, till)).json() == {"accepted": 4, "rejected": []}
    rows = client.rows("SELECT id, touchpoint FROM events ORDER BY rowid")
    assert [(r["id"], r["touchpoint"]) for r in rows] == [
        (page["id"], "web"), (call["id"], "call_center"), (job["id"], "server"), (till["id"], "store"),
    ]


@pytest.mark.parametrize(("bad", "reason"), BAD_EVENTS)
def test_bad_events_are_rejected_by_index_and_dead_lettered(client: Client, bad: dict[str, Any], reason: str) -> None:
    first, last = event(), event()
    answer = post(client, batch(first, bad, last))
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "rejected": [{"index": 1, "error": reason}]}
    assert stored_ids(client) == [first["id"], last["id"]]
    dead = client.rows("SELECT site_id, source, reason, raw FROM dead_letters")
    assert [(d["site_id"], d["source"], d["reason"]) for d in dead] == [("test", "batch", reason)]
    assert json.loads(dead[0]["raw"]) == bad


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_malformed_json(client: Client, literal: str) -> None:
    body = batch(event("vital", name="LCP", value=1.0)).replace("1.0", literal)
    answer = post(client, body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("malformed JSON: JSON is malformed: invalid character")
    assert stored_ids(client) == []


def test_huge_float_is_rejected_as_out_of_range(client: Client) -> None:
    answer = post(client, batch(event("vital", name="CLS", value=1e309)))
    assert answer.status_code == 400  # 1e309 overflows to inf, which JSON cannot carry


def test_lone_surrogate_from_a_cut_emoji_becomes_a_replacement_character(client: Client) -> None:
    cut = event(title="Sale \ud83d")  # JSON.stringify of a title cut inside an emoji
    whole = event(title="Sale \ud83d\ude00")
    answer = post(client, batch(cut, whole))
    assert answer.json() == {"accepted": 2, "rejected": []}
    titles = [json.loads(r["data"])["title"] for r in client.rows("SELECT data FROM events ORDER BY rowid")]
    assert titles == ["Sale \ufffd", "Sale \U0001f600"]


def test_duplicate_ids_within_and_across_batches_are_stored_once(client: Client) -> None:
    a, b = event(), event("click", x=10, y=20)
    assert post(client, batch(a, a, b)).json() == {"accepted": 3, "rejected": []}
    assert post(client, batch(b, a)).json() == {"accepted": 2, "rejected": []}
    assert stored_ids(client) == [a["id"], b["id"]]
    (session,) = client.rows("SELECT events, pageviews, clicks FROM sessions")
    assert session == {"events": 2, "pageviews": 1, "clicks": 1}


def test_same_id_on_two_sites_is_two_events(client: Client) -> None:
    client.http.app.state.store.add_site("other", "Other", key="wk_other")  # type: ignore[attr-defined]
    shared = event(id="same-id")
    assert post(client, batch(shared)).json()["accepted"] == 1
    assert post(client, batch(shared, key="wk_other")).json()["accepted"] == 1
    assert client.rows("SELECT site_id FROM events ORDER BY site_id") == [{"site_id": "other"}, {"site_id": "test"}]


def test_cors_preflight_and_allowed_origin(client: Client) -> None:
    origin = "http://127.0.0.1:5173"
    pre = client.http.options("/v1/batch", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == origin
    assert pre.headers["access-control-allow-methods"] == "POST, OPTIONS"
    answer = post(client, batch(event()), origin=origin)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    refused = post(client, batch(event()), origin="https://evil.example")
    assert refused.headers["access-control-allow-origin"] == "https://evil.example"  # so the page can read why


def test_clock_skew_is_corrected_with_sent_at(client: Client) -> None:
    skewed = event(ts=NOW - 3_600_000 - 500)  # client clock one hour behind
    body = json.dumps({"key": "wk_test", "sent_at": NOW - 3_600_000, "events": [skewed]})
    post(client, body)
    ((row),) = client.rows("SELECT ts, client_ts, received_at FROM events")
    assert row["client_ts"] == NOW - 3_600_000 - 500
    assert row["ts"] == row["received_at"] - 500


def test_pixel_records_a_pageview_and_always_answers_a_gif(client: Client) -> None:
    ok = client.http.get("/v1/p.gif", params={"k": "wk_test", "u": "https://shop.example/noscript", "r": "https://ref.example/"})
    bad = client.http.get("/v1/p.gif", params={"k": "wk_unknown", "u": "https://shop.example/"})
    for answer in (ok, bad):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/gif"
        assert answer.content.startswith(b"GIF89a")
    rows = client.rows("SELECT type, url, path, data FROM events")
    assert rows == [{"type": "pageview", "url": "https://shop.example/noscript", "path": "/noscript",
                     "data": '{"referrer":"https://ref.example/"}'}]


def test_rate_limit_answers_429_with_retry_after(tmp_path: Any) -> None:
    from starlette.testclient import TestClient

    from collector.app import create_app
    from tests.support.collector import make_settings, make_store

    db = tmp_path / "t.db"
    app = create_app(make_settings(db, rate_limit=1.0), make_store(db))
    with TestClient(app) as http:
        answers = [http.post("/v1/batch", content=batch(event()), headers={"content-type": "text/plain"})
                   for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["retry-after"] == "1"
    assert answers[2].json() == {"error": "too many requests from this address"}


def test_overload_answers_503_with_retry_after_and_recovers(tmp_path: Any) -> None:
    """Another process holds the write lock: the queue fills, the next request is told to retry."""
    import sqlite3
    import threading

    from starlette.testclient import TestClient

    from collector.app import create_app
    from tests.support.collector import make_settings, make_store, read_rows

    db = tmp_path / "t.db"
    store = make_store(db, max_pending=1)
    app = create_app(make_settings(db), store)
    blocker = sqlite3.connect(db, isolation_level=None, timeout=30)
    with TestClient(app) as http:
        send = lambda e: http.post("/v1/batch", content=batch(e), headers={"content-type": "text/plain"})  # noqa: E731
        assert send(event(id="warm-up")).status_code == 200  # today's visitor salt now exists
        blocker.execute("BEGIN IMMEDIATE")
        first: list[Any] = []
        waiting = threading.Thread(target=lambda: first.append(send(event(id="waits"))))
        waiting.start()
        while app.state.store.writer.depth == 0:
            time.sleep(0.01)
        refused = send(event(id="refused"))
        blocker.execute("ROLLBACK")
        waiting.join()
        recovered = send(event(id="recovered"))
    assert (refused.status_code, refused.headers["retry-after"], refused.json()) == (
        503, "1", {"error": "overloaded, retry later"})
    assert first[0].json() == {"accepted": 1, "rejected": []}
    assert recovered.json() == {"accepted": 1, "rejected": []}
    assert [r["id"] for r in read_rows(db, "SELECT id FROM events ORDER BY rowid")] == ["warm-up", "waits", "recovered"]
