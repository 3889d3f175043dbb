"""Replay storage bounds under attack: concurrent uploads to one session, floods of fresh sessions,
chunks that inflate or count beyond the limits, absurd page sizes. Real uvicorn, real HTTP."""

from __future__ import annotations

import base64
import gzip
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.ingest.replay_limits import (
    DAY_MS,
    HOUR_MS,
    MAX_CHUNK_EVENTS,
    MAX_CHUNK_JSON_BYTES,
    MAX_PAGE_PX,
    MAX_VIEWPORT_PX,
    OverBudget,
    ReplayLedger,
)
from collector.ingest.replay_limits import MAX_CHUNK_JSON_BYTES as MAX_REPLAY_BODY
from collector.ingest.replay_limits import MAX_SESSION_BYTES as MAX_REPLAY_SESSION_BYTES
from tests.support.collector import Server, ThreadedServer, free_port, make_settings, make_store

T0 = int(time.time() * 1000)
MIB = 1024 * 1024


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start a real uvicorn with the given settings; every server started is stopped at the end."""
    running: list[ThreadedServer] = []

    def start(**settings: Any) -> Server:
        db_path = tmp_path / f"trailmark-{len(running)}.db"
        store = make_store(db_path)
        port = free_port()
        server = ThreadedServer(create_app(make_settings(db_path, **settings), store), port)
        running.append(server.__enter__())
        return Server(f"http://127.0.0.1:{port}", port, db_path, store)

    yield start
    for server in running:
        server.__exit__(None, None, None)


def chunk(session: str, seq: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": "wk_test", "session_id": session, "anon_id": "a1", "seq": seq, "events": events}


def noise(session: str, seq: int, size: int) -> bytes:
    """A gzipped chunk of incompressible payload: it costs about 0.76 * size in storage."""
    payload = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    body = chunk(session, seq, [{"type": 5, "data": {"tag": "n", "payload": payload}, "timestamp": T0 + seq}])
    return gzip.compress(json.dumps(body).encode(), 1)


def post(url: str, body: bytes | dict[str, Any]) -> httpx.Response:
    if isinstance(body, dict):
        return httpx.post(f"{url}/v1/replay", content=json.dumps(body).encode(),
                          headers={"Content-Type": "text/plain"}, timeout=60)
    return httpx.post(f"{url}/v1/replay", content=body, timeout=60,
                      headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"})


def post_all(url: str, bodies: list[bytes]) -> list[httpx.Response]:
    """Every body at once, from as many threads: the uploads overlap inside the collector."""
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(lambda b: post(url, b), bodies))


def stored(server: Server, session: str | None = None) -> dict[str, int]:
    where, params = ("WHERE session_id = ?", (session,)) if session else ("", ())
    (row,) = server.rows(f"SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM replay_chunks {where}",
                         *params)
    return row


def test_the_session_cap_holds_under_30_parallel_uploads(serve: Any) -> None:
    server = serve()
    bodies = [noise("s-race", seq, MAX_REPLAY_BODY - 64 * 1024) for seq in range(30)]
    answers = post_all(server.url, bodies)
    codes = sorted(a.status_code for a in answers)
    got = stored(server, "s-race")
    assert got["bytes"] <= MAX_REPLAY_SESSION_BYTES
    assert codes.count(200) == got["n"] and codes.count(413) == 30 - got["n"]
    # the cap refuses only what would not fit: one more chunk of this size would have crossed it
    assert got["bytes"] + 1.4 * MIB > MAX_REPLAY_SESSION_BYTES
    session = server.rows("SELECT replay_bytes FROM sessions WHERE id = 's-race'")
    assert session in ([], [{"replay_bytes": got["bytes"]}])


def seconds_to_next_hour(now: float) -> int:
    return 3600 - int(now) % 3600


def waits_between(before: float, after: float) -> range | list[int]:
    """The Retry-After values a refusal between `before` and `after` may carry: the seconds left
    in its UTC hour (a run that straddles the hour has two hours)."""
    low, high = seconds_to_next_hour(after), seconds_to_next_hour(before)
    return range(low, high + 1) if low <= high else [*range(1, high + 1), *range(low, 3601)]


def test_a_flood_of_fresh_sessions_stops_at_the_sites_hourly_budget(serve: Any) -> None:
    budget = 8 * MIB
    server = serve(replay_site_hour_bytes=budget)
    bodies = [noise(f"s-{i}", 0, MIB) for i in range(20)]  # about 0.76 MiB stored each
    before = time.time()
    answers = post_all(server.url, bodies)
    after = time.time()
    hours = server.rows("SELECT received_at / 3600000 AS hour, count(*) AS n, sum(size) AS bytes"
                        " FROM replay_chunks GROUP BY hour")
    for hour in hours:
        assert hour["bytes"] <= budget
    # refused only once the next chunk would not fit (in the hour that refused it)
    assert max(h["bytes"] for h in hours) + 0.8 * MIB > budget
    ok = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(ok) == sum(h["n"] for h in hours) and len(refused) == 20 - len(ok) > 0
    for answer in refused:
        assert answer.status_code == 429
        assert answer.json() == {"error": f"replay storage for this site is over its hourly budget of {budget} bytes"}
        assert int(answer.headers["Retry-After"]) in waits_between(before, after)
    # the refused uploads cost nothing: no dead letter per flood request
    assert server.rows("SELECT count(*) AS n FROM dead_letters") == [{"n": 0}]
    # a retry of a chunk already held is still acknowledged while the budget is spent
    held = next(i for i, a in enumerate(answers) if a.status_code == 200)
    again = post(server.url, bodies[held])
    assert (again.status_code, again.json()) == (200, {"accepted": 1, "stored": False})


def test_the_daily_budget_counts_what_was_stored_before_a_restart(serve: Any, tmp_path: Path) -> None:
    budget = 3 * MIB
    first = serve(replay_site_day_bytes=budget)
    for i in range(3):
        assert post(first.url, noise(f"d-{i}", 0, MIB)).status_code == 200
    # a second collector on the same file (a restart) starts from what the file holds today
    port = free_port()
    with ThreadedServer(create_app(make_settings(first.db_path, replay_site_day_bytes=budget),
                                   make_store(first.db_path)), port):
        refused = post(f"http://127.0.0.1:{port}", noise("d-3", 0, MIB))
        assert refused.status_code == 429
        assert refused.json() == {"error": f"replay storage for this site is over its daily budget of {budget} bytes"}
        assert 0 < int(refused.headers["Retry-After"]) <= 86400
    assert stored(first)["n"] == 3


def test_a_budget_of_zero_turns_the_site_bound_off(serve: Any) -> None:
    server = serve(replay_site_hour_bytes=0, replay_site_day_bytes=0)
    answers = post_all(server.url, [noise(f"z-{i}", 0, MIB) for i in range(6)])
    assert [a.status_code for a in answers] == [200] * 6


def events(n: int) -> list[dict[str, Any]]:
    return [{"type": 3, "data": {"source": 1, "positions": []}, "timestamp": T0 + i} for i in range(n)]


def test_a_chunk_with_too_many_events_is_refused(serve: Any) -> None:
    server = serve()
    answer = post(server.url, chunk("s-many", 0, events(MAX_CHUNK_EVENTS + 1)))
    assert answer.status_code == 413
    assert answer.json() == {"error": f"too many replay events: {MAX_CHUNK_EVENTS + 1} > {MAX_CHUNK_EVENTS} per chunk"}
    assert post(server.url, chunk("s-many", 1, events(MAX_CHUNK_EVENTS))).status_code == 200
    assert server.rows("SELECT seq FROM replay_chunks") == [{"seq": 1}]


def test_a_chunk_that_inflates_beyond_the_limit_is_refused_unread(serve: Any) -> None:
    server = serve()
    # a few KB on the wire, far more once inflated: refused without inflating it whole
    filler = "0" * (MAX_CHUNK_JSON_BYTES + 1)
    bomb = gzip.compress(json.dumps(chunk("s-bomb", 0, [{"type": 5, "data": filler, "timestamp": T0}])).encode())
    assert len(bomb) < 16 * 1024
    answer = post(server.url, bomb)
    assert answer.status_code == 413
    assert answer.json() == {"error": f"body is larger than {MAX_CHUNK_JSON_BYTES} bytes after decompression"}
    assert stored(server)["n"] == 0


def meta(width: Any, height: Any) -> dict[str, Any]:
    return {"type": 4, "data": {"href": "http://shop.example/", "width": width, "height": height}, "timestamp": T0}


def full_snapshot(top: Any = 0, left: Any = 0) -> dict[str, Any]:
    node = {"type": 0, "childNodes": [], "id": 1}
    return {"type": 2, "data": {"node": node, "initialOffset": {"top": top, "left": left}}, "timestamp": T0 + 1}


def resize(width: Any, height: Any) -> dict[str, Any]:
    return {"type": 3, "data": {"source": 4, "width": width, "height": height}, "timestamp": T0 + 2}


@pytest.mark.parametrize(("bad", "error"), [
    (meta(2e9, 800), f"Expected `float` <= {MAX_VIEWPORT_PX:.1f} - at `$[0].data.width`"),
    (meta(1280, 2_000_000_000), f"Expected `float` <= {MAX_VIEWPORT_PX:.1f} - at `$[0].data.height`"),
    (meta(-5, 800), "Expected `float` >= 0.0 - at `$[0].data.width`"),
    (meta("wide", 800), "Expected `float | null`, got `str` - at `$[0].data.width`"),
    ({"type": 4, "data": "wide", "timestamp": T0}, "Expected `object | null`, got `str` - at `$[0].data`"),
    (resize(1280, 2e9), f"Expected `float` <= {MAX_VIEWPORT_PX:.1f} - at `$[0].data.height`"),
    (full_snapshot(top=2e9), f"Expected `float` <= {MAX_PAGE_PX:.1f} - at `$[0].data.initialOffset.top`"),
])
def test_absurd_page_sizes_are_refused(serve: Any, bad: dict[str, Any], error: str) -> None:
    server = serve()
    answer = post(server.url, chunk("s-absurd", 0, [bad]))
    assert (answer.status_code, answer.json()) == (400, {"error": f"invalid replay chunk: {error}"})
    assert stored(server)["n"] == 0


def test_real_page_sizes_are_stored(serve: Any) -> None:
    server = serve()
    good = [meta(1280, 800), full_snapshot(top=12_000), resize(390, 844),
            {"type": 3, "data": {"source": 2, "type": 2, "id": 5, "x": 10, "y": 20}, "timestamp": T0 + 3}]
    answer = post(server.url, chunk("s-ok", 0, good))
    assert (answer.status_code, answer.json()) == (200, {"accepted": 4, "stored": True})


def test_the_ledger_charges_windows_refunds_unstored_bytes_and_rolls_over(tmp_path: Path) -> None:
    ledger = ReplayLedger(make_store(tmp_path / "t.db"), hour_bytes=100, day_bytes=250, session_bytes=1000)
    day = 20_000 * DAY_MS
    end_of_hour = day + 5 * HOUR_MS - 1500  # 1.5 s before 05:00 UTC
    first = ledger.reserve("test", "a", 60, end_of_hour)
    with pytest.raises(OverBudget) as over:
        ledger.reserve("test", "b", 50, end_of_hour)
    assert (over.value.error.status, over.value.error.retry_after) == (429, 2)
    ledger.settle(first, stored=False)  # a duplicate or a failed write keeps no bytes
    ledger.settle(ledger.reserve("test", "b", 50, end_of_hour), stored=True)
    # the next hour has its own budget; the day keeps counting
    ledger.settle(ledger.reserve("test", "c", 100, end_of_hour + 2000), stored=True)
    ledger.settle(ledger.reserve("test", "d", 100, end_of_hour + HOUR_MS + 2000), stored=True)
    with pytest.raises(OverBudget) as over:
        ledger.reserve("test", "e", 1, end_of_hour + HOUR_MS + 2000)
    assert over.value.error.message == "replay storage for this site is over its daily budget of 250 bytes"
    assert over.value.error.retry_after == (day + DAY_MS - (end_of_hour + HOUR_MS + 2000)) // 1000 + 1
    # another site has budgets of its own
    ledger.settle(ledger.reserve("other", "a", 100, end_of_hour + HOUR_MS + 2000), stored=True)


def test_the_ledger_counts_bytes_in_flight_against_the_session_cap(tmp_path: Path) -> None:
    ledger = ReplayLedger(make_store(tmp_path / "t.db"), hour_bytes=0, day_bytes=0, session_bytes=100)
    held = [ledger.reserve("test", "s", 40), ledger.reserve("test", "s", 40)]
    with pytest.raises(OverBudget) as over:
        ledger.reserve("test", "s", 40)  # nothing is stored yet: the first two are still in flight
    assert (over.value.error.status, over.value.error.message) == (413, "replay of this session exceeds 100 bytes")
    ledger.settle(held[0], stored=False)
    ledger.settle(ledger.reserve("test", "s", 40), stored=False)
