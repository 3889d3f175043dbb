"""Requests built to hurt: oversized API bodies, server faults seen from a browser, clocks that jumped."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from collector.api.base import MAX_API_BODY
from tests.support.collector import Client, Server

DAY = 86_400_000
ORIGIN = "https://shop.example"


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    """A body streamed in chunks: httpx sends it with Transfer-Encoding: chunked, no Content-Length."""
    yield b'{"site":"test","steps":[' + b" " * (size - 24)
    for _ in range(total // size):
        yield b" " * size


def test_an_api_body_past_the_limit_streamed_without_length_is_a_413(collector_server: Server) -> None:
    with httpx.Client() as http:
        answer = http.post(f"{collector_server.url}/api/funnel", content=chunks(4 * MAX_API_BODY),
                           headers=collector_server.admin)
        assert "content-length" not in answer.request.headers
        assert answer.request.headers["transfer-encoding"] == "chunked"
    assert (answer.status_code, answer.json()) == (413, {"error": f"body is larger than {MAX_API_BODY} bytes"})
    # the collector still answers the next request on a fresh connection
    ok = httpx.post(f"{collector_server.url}/api/funnel", headers=collector_server.admin,
                    json={"site": "test", "steps": [{"type": "pageview"}, {"type": "purchase"}]})
    assert ok.status_code == 200, ok.text


def test_an_api_body_with_a_large_declared_length_is_a_413_unread(client: Client) -> None:
    body = b"{}" + b" " * MAX_API_BODY
    answer = client.http.post("/api/funnel", content=body, headers=client.admin)
    assert (answer.status_code, answer.json()) == (413, {"error": f"body is larger than {MAX_API_BODY} bytes"})


def test_a_server_fault_on_ingest_is_json_with_cors(collector_server: Server) -> None:
    # A real fault, not a mock: the sites table disappears under the running collector.
    conn = sqlite3.connect(collector_server.db_path)
    conn.execute("ALTER TABLE sites RENAME TO sites_gone")
    conn.commit()
    conn.close()
    body = json.dumps({"key": "wk_not_cached_yet", "events": [{"id": "e", "type": "pageview", "ts": 1}]})
    answer = httpx.post(f"{collector_server.url}/v1/batch", content=body,
                        headers={"content-type": "text/plain", "origin": ORIGIN})
    assert (answer.status_code, answer.json()) == (500, {"error": "internal error"})
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["content-type"] == "application/json"
    # the collector keeps answering what does not need the broken table
    assert httpx.get(f"{collector_server.url}/trailmark.js", headers={"origin": ORIGIN}).status_code == 200


def _batch(client: Client, events: list[dict[str, Any]], **envelope: Any) -> Any:
    body = json.dumps({"key": client.key, **envelope, "events": events})
    return client.http.post("/v1/batch", content=body, headers={"content-type": "text/plain"})


def _event(ts: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "track", "name": "tick", "ts": ts, "anon_id": "a-1", "session_id": "s-1"}


def test_a_batch_without_sent_at_from_a_clock_a_year_behind_is_stored_with_its_gaps(client: Client) -> None:
    before = int(time.time() * 1000)
    year_ago = before - 365 * DAY
    events = [_event(year_ago), _event(year_ago + 4_000), _event(year_ago + 9_000)]
    answer = _batch(client, events)
    after = int(time.time() * 1000)
    assert answer.json() == {"accepted": 3, "rejected": []}
    rows = client.rows("SELECT id, ts, client_ts, data FROM events ORDER BY ts")
    assert [r["id"] for r in rows] == [e["id"] for e in events]
    assert [r["client_ts"] for r in rows] == [e["ts"] for e in events]
    # moved onto the server clock as one block: the newest at the receive time, the gaps kept
    assert before <= rows[-1]["ts"] <= after
    assert [r["ts"] - rows[-1]["ts"] for r in rows] == [-9_000, -5_000, 0]
    assert [json.loads(r["data"])["clock_guessed"] for r in rows] == [True, True, True]
    assert client.rows("SELECT count(*) AS n FROM dead_letters") == [{"n": 0}]


def test_old_events_with_sent_at_are_still_too_old(client: Client) -> None:
    now = int(time.time() * 1000)
    answer = _batch(client, [_event(now - 8 * DAY)], sent_at=now)
    assert answer.json() == {"accepted": 0, "rejected": [{"index": 0, "error": "ts too old"}]}


def test_a_batch_without_sent_at_inside_the_limit_keeps_its_times(client: Client) -> None:
    now = int(time.time() * 1000)
    event = _event(now - 3 * DAY)
    assert _batch(client, [event]).json() == {"accepted": 1, "rejected": []}
    assert client.rows("SELECT ts, data FROM events") == [{"ts": event["ts"], "data": '{"name":"tick","props":{}}'}]
