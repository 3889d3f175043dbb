"""POST /v1/replay and GET /api/sessions/{id}/replay against a real collector over real HTTP."""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
from typing import Any

import httpx
import pytest

from collector.ingest.replay_limits import MAX_CHUNK_JSON_BYTES as MAX_REPLAY_BODY
from collector.ingest.replay_limits import MAX_SESSION_BYTES as MAX_REPLAY_SESSION_BYTES

pytestmark = pytest.mark.e2e

T0 = int(time.time() * 1000)


def chunk(session: str, seq: int, events: list[dict[str, Any]] | None = None, key: str = "wk_test") -> dict[str, Any]:
    events = events or [{"type": 3, "data": {"source": 1, "seq": seq}, "timestamp": T0 + seq * 1000 + i}
                        for i in range(3)]
    return {"key": key, "session_id": session, "anon_id": "a1", "seq": seq, "events": events}


def post(server: Any, body: bytes | dict[str, Any], gz: bool = False) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "text/plain"}
    if gz:
        raw, headers["Content-Encoding"] = gzip.compress(raw), "gzip"
    return httpx.post(f"{server.url}/v1/replay", content=raw, headers=headers, timeout=30)


def noise(seq: int, size: int) -> dict[str, Any]:
    """One chunk of incompressible payload: what it costs in storage is about its size."""
    payload = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return chunk("s-cap", seq, [{"type": 5, "data": {"tag": "n", "payload": payload}, "timestamp": T0 + seq}])


@pytest.mark.parametrize(("body", "error"), [
    (b"{not json", "malformed JSON"),
    (b'{"key": "wk_test", "session_id": "s1", "seq": 0, "events": []}', "invalid replay chunk"),
    (b'{"key": "wk_test", "session_id": "s1", "seq": -1, "events": [{"type": 2, "timestamp": 1}]}',
     "invalid replay chunk"),
    (b'{"key": "wk_test", "session_id": "s1", "seq": 0, "events": [{"type": 2}]}', "invalid replay chunk"),
    (b'{"key": "wk_test", "session_id": "s1", "seq": 0, "events": [{"type": "x", "timestamp": 1}]}',
     "invalid replay chunk"),
    (b'{"key": "wk_test", "session_id": "s1", "seq": 0, "events": [{"type": 2, "timestamp": -5}]}',
     "invalid replay chunk"),
])
def test_malformed_chunks_get_400(collector_server: Any, body: bytes, error: str) -> None:  # noqa: F811
    answer = post(collector_server, body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)
    assert collector_server.rows("SELECT count(*) AS n FROM replay_chunks") == [{"n": 0}]


def test_unknown_key_gets_401(collector_server: Any) -> None:  # noqa: F811
    assert post(collector_server, chunk("s1", 0, key="wk_nope")).status_code == 401


@pytest.mark.parametrize("gz", [False, True])
def test_oversize_chunk_gets_413(collector_server: Any, gz: bool) -> None:  # noqa: F811
    big = noise(0, MAX_REPLAY_BODY + 1024)
    answer = post(collector_server, big, gz=gz)
    assert answer.status_code == 413
    assert str(MAX_REPLAY_BODY) in answer.json()["error"]
    assert collector_server.rows("SELECT count(*) AS n FROM replay_chunks") == [{"n": 0}]


def test_chunk_is_stored_gzipped_once_with_its_time_range(collector_server: Any) -> None:  # noqa: F811
    body = chunk("s1", 0)
    first = post(collector_server, body, gz=True)
    again = post(collector_server, body)
    assert (first.status_code, first.json()) == (200, {"accepted": 3, "stored": True})
    assert (again.status_code, again.json()) == (200, {"accepted": 3, "stored": False})
    rows = collector_server.rows("SELECT seq, first_ts, last_ts, size, data FROM replay_chunks")
    assert [(r["seq"], r["first_ts"], r["last_ts"]) for r in rows] == [(0, T0, T0 + 2)]
    assert json.loads(gzip.decompress(rows[0]["data"])) == body["events"]
    assert rows[0]["size"] == len(rows[0]["data"])


def test_session_over_the_cap_gets_413_and_a_dead_letter(collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    size = MAX_REPLAY_BODY - 4096
    seq = 0
    while True:
        answer = post(server, noise(seq, size), gz=True)
        if answer.status_code != 200:
            break
        seq += 1
    assert answer.status_code == 413
    assert answer.json() == {"error": f"replay of this session exceeds {MAX_REPLAY_SESSION_BYTES} bytes"}
    (stored,) = server.rows("SELECT count(*) AS n, sum(length(data)) AS bytes FROM replay_chunks")
    assert stored["n"] == seq and stored["bytes"] <= MAX_REPLAY_SESSION_BYTES
    assert stored["bytes"] + size * 0.7 > MAX_REPLAY_SESSION_BYTES  # refused only near the cap
    dead = server.rows("SELECT source, reason, raw FROM dead_letters")
    assert dead == [{"source": "replay", "reason": f"replay of this session exceeds {MAX_REPLAY_SESSION_BYTES} bytes",
                     "raw": f"session s-cap seq {seq}"}]
    # a retry of a chunk the collector already holds is acknowledged, not refused by the cap
    retry = post(server, noise(0, size), gz=True)
    assert (retry.status_code, retry.json()) == (200, {"accepted": 1, "stored": False})


def test_replay_api_streams_events_in_seq_order(collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    batch = {"key": "wk_test", "sent_at": T0, "events": [
        {"id": "e1", "type": "pageview", "ts": T0, "anon_id": "a1", "session_id": "s1", "url": "http://127.0.0.1/"},
    ]}
    assert httpx.post(f"{server.url}/v1/batch", json=batch).status_code == 200
    for seq in (2, 0, 1):  # arrival order differs from recording order
        assert post(server, chunk("s1", seq), gz=True).status_code == 200

    assert httpx.get(f"{server.url}/api/sessions/s1/replay").status_code == 401
    missing = httpx.get(f"{server.url}/api/sessions/nope/replay", headers=server.admin)
    assert (missing.status_code, missing.json()) == (404, {"error": "no replay for this session"})

    with httpx.stream("GET", f"{server.url}/api/sessions/s1/replay", headers=server.admin) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert "content-length" not in answer.headers  # streamed, not built whole
        body = answer.read()
    events = json.loads(body)["events"]
    assert [(e["data"]["seq"], e["timestamp"]) for e in events] == [
        (seq, T0 + seq * 1000 + i) for seq in range(3) for i in range(3)
    ]
    session = httpx.get(f"{server.url}/api/sessions/s1", headers=server.admin).json()
    assert session["has_replay"] == 1 and [e["type"] for e in session["events"]] == ["pageview"]
