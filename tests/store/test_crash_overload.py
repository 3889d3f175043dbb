"""Overload: past the writer queue bound the collector answers 503 with Retry-After, stores nothing of it, recovers."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.store import SQLiteStore
from tests.support.collector import ADMIN_TOKEN, KEY, ThreadedServer, free_port, make_settings, read_rows

pytestmark = pytest.mark.slow

BATCH = 40


def test_a_full_writer_queue_answers_503_with_retry_after_and_recovers(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    # Room for one batch in the queue: a second concurrent batch is past capacity.
    store = SQLiteStore(db_path, max_pending=BATCH + 10)
    store.add_site("test", "Test site", key=KEY)
    port = free_port()
    acked: list[list[str]] = []
    refused: list[list[str]] = []
    answers: list[tuple[int, str | None, str]] = []
    lock = threading.Lock()

    def client(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(15):
                ids = [str(uuid.uuid4()) for _ in range(BATCH)]
                events = [{"type": "track", "id": i, "ts": int(time.time() * 1000), "anon_id": "a",
                           "session_id": "s", "name": "burst"} for i in ids]
                answer = http.post("/v1/batch", json={"key": KEY, "events": events})
                with lock:
                    answers.append((answer.status_code, answer.headers.get("retry-after"), answer.text))
                    (acked if answer.status_code == 200 else refused).append(ids)

    with ThreadedServer(create_app(make_settings(db_path, max_pending=BATCH + 10), store), port):
        url = f"http://127.0.0.1:{port}"
        threads = [threading.Thread(target=client, args=(url,)) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Recovery by itself: once the burst is over a request goes through at once.
        calm = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": [
            {"type": "track", "id": "after-burst", "ts": int(time.time() * 1000), "anon_id": "a", "name": "calm"},
        ]})
        assert calm.status_code == 200 and calm.json() == {"accepted": 1, "rejected": []}
        metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text

    statuses = {status for status, _, _ in answers}
    assert statuses == {200, 503}, statuses
    for status, retry_after, text in answers:
        if status == 503:
            assert retry_after == "1"
            assert text == '{"error":"overloaded, retry later"}'
    stored = {r["id"]: r["n"] for r in read_rows(db_path, "SELECT id, count(*) AS n FROM events GROUP BY id")}
    assert all(stored.get(i) == 1 for ids in acked for i in ids)
    assert not any(i in stored for ids in refused for i in ids)  # a 503 stored nothing: a retry is safe
    assert len(stored) == BATCH * len(acked) + 1
    assert len(refused) > 0 and len(acked) > 0
    assert "503" in metrics
