"""`trailmark purge --older-than` enforces retention down to the file bytes; `trailmark backup` copies while serving."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
from click.testing import CliRunner

from collector.cli import main
from tests.support.collector import SECRET, Client, Server

NOW = int(time.time() * 1000)
DAY = 86_400_000
TRAILMARK = str(Path(sys.executable).parent / "trailmark")


def _send(client: Client, session: str, anon: str, marker: str) -> None:
    events = [
        {"type": "pageview", "id": str(uuid.uuid4()), "ts": NOW - 1000, "anon_id": anon, "session_id": session,
         "url": f"https://shop.example/{marker}"},
        {"type": "survey", "id": "x", "ts": NOW, "anon_id": anon, "kind": "ces", "score": 9, "comment": marker},
    ]
    assert client.http.post("/v1/batch", json={"key": client.key, "events": events}).json()["accepted"] == 1
    login = {"type": "identify", "id": str(uuid.uuid4()), "ts": NOW - 900, "anon_id": anon, "session_id": session,
             "user_id": f"user-{marker}"}  # sent by the site's backend: it creates the person
    assert client.http.post("/v1/batch", json={"key": SECRET, "events": [login]}).json()["accepted"] == 1
    chunk = {"key": client.key, "session_id": session, "seq": 0, "events": [{"type": 2, "timestamp": NOW}]}
    assert client.http.post("/v1/replay", json=chunk).status_code == 200


def _age(db: Path, session: str, anon: str, days: int) -> None:
    """Move a session's rows back in time (ingest refuses old events, so history is written directly)."""
    shift = days * DAY
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE events SET ts = ts - ? WHERE session_id = ?", (shift, session))
        conn.execute("UPDATE sessions SET first_ts = first_ts - ?1, last_ts = last_ts - ?1 WHERE id = ?2",
                     (shift, session))
        conn.execute("UPDATE replay_chunks SET first_ts = first_ts - ?1, last_ts = last_ts - ?1"
                     " WHERE session_id = ?2", (shift, session))
        conn.execute("UPDATE identities SET ts = ts - ? WHERE anon_id = ?", (shift, anon))
        conn.execute("UPDATE persons SET first_ts = first_ts - ?1, last_ts = last_ts - ?1 WHERE user_id = ?2",
                     (shift, f"user-{anon}"))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "page_days" in tables:  # the overview's daily rollup of the same pageviews
            conn.execute("UPDATE page_days SET day = day - ? WHERE path = ?", (days, f"/{anon}"))
        conn.execute("UPDATE dead_letters SET received_at = received_at - ? WHERE raw LIKE ?",
                     (shift, f"%{anon}%"))
    conn.close()


def test_purge_deletes_exactly_what_is_older_and_leaves_no_bytes_behind(client: Client) -> None:
    _send(client, "sess-old-41f0", "old-41f0", "old-41f0")
    _send(client, "sess-new-93aa", "new-93aa", "new-93aa")
    _age(client.db_path, "sess-old-41f0", "old-41f0", 91)
    before = client.rows("SELECT session_id, type FROM events WHERE session_id = 'sess-new-93aa' ORDER BY rowid")

    result = CliRunner().invoke(main, ["purge", "--older-than", "90d", "--db", str(client.db_path), "--yes"])
    assert result.exit_code == 0, result.output
    assert "purging" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "events=2 sessions=1 replay_chunks=1 dead_letters=1 identities=1 persons=1"
        " trigger_deliveries=0 trigger_checks=0 trigger_fired=0 session_days=1 page_days=1 source_days=0"
        " salts=0"
    )
    assert client.rows("SELECT DISTINCT session_id FROM events") == [{"session_id": "sess-new-93aa"}]
    assert client.rows("SELECT session_id, type FROM events WHERE session_id = 'sess-new-93aa' ORDER BY rowid") \
        == before
    assert client.rows("SELECT id FROM sessions") == [{"id": "sess-new-93aa"}]
    assert client.rows("SELECT session_id FROM replay_chunks") == [{"session_id": "sess-new-93aa"}]
    assert client.rows("SELECT user_id FROM persons") == [{"user_id": "user-new-93aa"}]
    raw = b"".join(p.read_bytes() for p in client.db_path.parent.glob("trailmark.db*"))
    assert b"old-41f0" not in raw
    assert b"new-93aa" in raw
    again = CliRunner().invoke(main, ["purge", "--older-than", "90d", "--db", str(client.db_path), "--yes"])
    assert again.output.strip().splitlines()[-1].startswith("events=0 sessions=0")


def test_purge_refuses_an_age_it_cannot_read(client: Client) -> None:
    for bad in ("90", "ninety days", "-3d", "5y"):
        result = CliRunner().invoke(main, ["purge", "--older-than", bad, "--db", str(client.db_path), "--yes"])
        assert result.exit_code == 2, (bad, result.output)
        assert "use a number and h, d or w" in result.output


def test_backup_while_serving_is_a_consistent_copy(collector_server: Server, tmp_path: Path) -> None:
    stop = threading.Event()
    acked: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=collector_server.url, timeout=10) as http:
            n = 0
            while not stop.is_set():
                session = f"s{n % 7}"
                events = [{"type": "click", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000),
                           "anon_id": "a", "session_id": session, "sel": "#b"} for _ in range(20)]
                if http.post("/v1/batch", json={"key": collector_server.key, "events": events}).status_code == 200:
                    acked.append(len(events))
                n += 1

    senders = [threading.Thread(target=send) for _ in range(3)]
    for t in senders:
        t.start()
    while sum(acked) < 2000:
        time.sleep(0.01)
    at_start = sum(acked)
    target = tmp_path / "copy.db"
    done = subprocess.run([TRAILMARK, "backup", str(target), "--db", str(collector_server.db_path)],
                          capture_output=True, text=True, timeout=120)
    at_end = sum(acked)
    stop.set()
    for t in senders:
        t.join()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up {collector_server.db_path} to {target}: ")
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    (events,) = copy.execute("SELECT count(*) FROM events").fetchone()
    # A snapshot between the two moments, with each session's rollup matching its events exactly.
    assert at_start <= events <= at_end + 3 * 20
    mismatched = copy.execute(
        "SELECT s.id, s.clicks, (SELECT count(*) FROM events e WHERE e.session_id = s.id) AS n"
        " FROM sessions s WHERE s.clicks != n"
    ).fetchall()
    assert mismatched == []
    copy.close()
    again = subprocess.run([TRAILMARK, "backup", str(target), "--db", str(collector_server.db_path)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "exists (use --force to overwrite)" in again.stderr
