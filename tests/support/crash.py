"""Crash safety: SIGKILL a real `trailmark serve` several times while the Python SDK and raw clients send.

After the last restart every acknowledged event must be stored exactly once, nothing unsent may appear,
and the SDK (which retries) must have delivered exactly what it was given. `run` does it; the tests
(tests/store/test_crash_multikill.py) and bench/crash.py call it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk_python"))

import trailmark  # noqa: E402

KEY = "wk_crash"
TRAILMARK = str(Path(sys.executable).parent / "trailmark")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector:
    """`trailmark serve` as a child process on 127.0.0.1, restartable on the same port and file."""

    def __init__(self, db: Path, port: int, store: str | None = None) -> None:
        self.db, self.port = db, port
        self.store = ["--store", store] if store else ["--db", str(db)]
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "TRAILMARK_RATE_LIMIT": "0", "TRAILMARK_ADMIN_TOKEN": "crash-admin-token-0123456789"}

    def start(self) -> None:
        log = self.db.with_suffix(".log")
        with open(log, "ab") as sink:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [TRAILMARK, "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.store],
                env=self.env, stdout=subprocess.DEVNULL, stderr=sink,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"collector exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("collector did not come up within 30 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class RawClient:
    """Posts batches of fresh events and retries each batch until it is acknowledged (or time is up)."""

    url: str
    name: str
    batch: int
    stop: threading.Event
    acked: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    retried: int = 0

    def run(self) -> None:
        with httpx.Client(timeout=5) as http:
            while not self.stop.is_set():
                events = [
                    {"type": "track", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000),
                     "anon_id": self.name, "session_id": f"{self.name}-s", "name": "raw-crash"}
                    for _ in range(self.batch)
                ]
                self.sent.extend(e["id"] for e in events)
                body = {"key": KEY, "events": events}
                while True:  # a retried batch must not be stored twice: the ids stay the same
                    try:
                        answer = http.post(f"{self.url}/v1/batch", json=body)
                    except httpx.HTTPError as exc:
                        kind = type(exc).__name__
                    else:
                        if answer.status_code == 200 and answer.json()["accepted"] == len(events):
                            self.acked.extend(e["id"] for e in events)
                            break
                        kind = str(answer.status_code)
                    self.errors[kind] = self.errors.get(kind, 0) + 1
                    if self.stop.is_set():
                        return
                    self.retried += 1
                    time.sleep(0.05)


# Counts what a ClickHouse store holds, in a process of its own (chdb serves a directory to one process).
CHDB_COUNTS = """
import json, sys
from collector.store.clickhouse import ClickHouseStore
store = ClickHouseStore(sys.argv[1])
db = store.db
counts = db.rows(f"SELECT id, count() FROM {db.t('events')} WHERE site_id = 'crash' GROUP BY id")
checks = db.rows(f"CHECK TABLE {db.t('events')}") + db.rows(f"CHECK TABLE {db.t('sessions')}")
folded = dict(db.rows(f"SELECT id, events FROM {db.t('sessions')} FINAL WHERE site_id = 'crash'"))
stored = dict(db.rows(f"SELECT session_id, count() FROM {db.t('events')} WHERE site_id = 'crash' GROUP BY session_id"))
store.close()
print(json.dumps({"counts": dict(counts), "integrity": "ok" if all(c[1] == 1 for c in checks) else str(checks),
                  "short_sessions": sum(folded.get(s) != n for s, n in stored.items())}))
"""
# Sessions whose row counts other events than the store holds for them (SQLite).
SHORT_SESSIONS = """SELECT count(*) FROM (SELECT e.session_id, count(*) AS n FROM events e WHERE e.site_id = 'crash'
    GROUP BY e.session_id) e LEFT JOIN sessions s ON s.site_id = 'crash' AND s.id = e.session_id
    WHERE s.events IS NOT e.n"""


def run(
    db: Path, *, kills: int, interval: float, clients: int, batch: int, sdk_rate: float, chdb: bool = False
) -> dict[str, Any]:
    store = f"chdb://{db.with_suffix('.chdb')}" if chdb else None
    if store is None:
        sqlite3.connect(db).close()
    where = ["--store", store] if store else ["--db", str(db)]
    subprocess.run([TRAILMARK, "sites", "add", "crash", "--key", KEY, *where], check=True, capture_output=True)
    collector = Collector(db, free_port(), store)
    collector.start()
    stop = threading.Event()
    raws = [RawClient(collector.url, f"raw{i}", batch, stop) for i in range(clients)]
    threads = [threading.Thread(target=r.run, daemon=True) for r in raws]
    sdk_errors: list[str] = []
    sdk = trailmark.Client(
        KEY, host=collector.url, max_retries=1000, backoff_base=0.05, max_backoff=0.5, flush_interval=0.05,
        timeout=5, max_queue_size=1_000_000, shutdown_timeout=120,
        on_error=lambda exc, events: sdk_errors.append(f"{exc!r} ({len(events)} events)"),
    )
    sdk_ids: list[str] = []

    def sdk_sender() -> None:
        i = 0
        while not stop.is_set():
            sdk_ids.append(sdk.track(f"user-{i % 50}", "sdk-crash", {"i": i}))
            i += 1
            time.sleep(1 / sdk_rate)

    threads.append(threading.Thread(target=sdk_sender, daemon=True))
    started = time.monotonic()
    for t in threads:
        t.start()
    downtime = 0.0
    try:
        for _ in range(kills):
            time.sleep(interval)
            collector.kill()
            down = time.monotonic()
            collector.start()
            downtime += time.monotonic() - down
        time.sleep(interval)
        stop.set()
        for t in threads:
            t.join(30)
        flushed = sdk.shutdown(120)
    finally:
        collector.stop()
    elapsed = time.monotonic() - started

    if store is None:
        conn = sqlite3.connect(db)
        counts = dict(conn.execute("SELECT id, count(*) FROM events WHERE site_id = 'crash' GROUP BY id"))
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        short = conn.execute(SHORT_SESSIONS).fetchone()[0]
        conn.close()
    else:
        found = json.loads(subprocess.run([sys.executable, "-c", CHDB_COUNTS, store], check=True,
                                          capture_output=True, text=True, cwd=ROOT).stdout.splitlines()[-1])
        counts, integrity, short = found["counts"], found["integrity"], found["short_sessions"]
    acked = [i for r in raws for i in r.acked]
    sent = {i for r in raws for i in r.sent} | set(sdk_ids)
    errors: dict[str, int] = {}
    for r in raws:
        for kind, n in r.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    return {
        "kills": kills, "seconds": elapsed, "restart_seconds": downtime / max(1, kills),
        "raw_acked": len(acked), "raw_acked_not_exactly_once": sum(counts.get(i) != 1 for i in acked),
        "raw_retries": sum(r.retried for r in raws), "raw_errors": errors,
        "sdk_sent": len(sdk_ids), "sdk_delivered": sdk.delivered, "sdk_failed": sdk.failed,
        "sdk_dropped": sdk.dropped, "sdk_flushed": flushed, "sdk_errors": sdk_errors[:3],
        "sdk_not_exactly_once": sum(counts.get(i) != 1 for i in sdk_ids),
        "stored": sum(counts.values()), "duplicates": sum(n - 1 for n in counts.values()),
        "unknown_stored": len(set(counts) - sent), "integrity": integrity, "short_sessions": short,
    }


def ok(result: dict[str, Any]) -> bool:
    return (
        result["raw_acked_not_exactly_once"] == 0 and result["sdk_not_exactly_once"] == 0
        and result["sdk_delivered"] == result["sdk_sent"] and result["sdk_failed"] == 0
        and result["duplicates"] == 0 and result["unknown_stored"] == 0 and result["integrity"] == "ok"
        and result["short_sessions"] == 0
    )
