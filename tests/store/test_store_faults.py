"""Store faults under real conditions: a lock held by another process, a full file system, files
made read-only, a damaged page. Each answers 503 with Retry-After and a JSON error, stores none
of what it refused, loses nothing it acknowledged, shows on /healthz, and passes when the fault does.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from collector.app import create_app
from collector.store import SQLiteStore, StoreUnusable
from tests.support.collector import ADMIN_TOKEN, KEY, ThreadedServer, free_port, make_settings, make_store, read_rows

pytestmark = pytest.mark.slow

LOCKED = '{"error":"the database is locked by another process, retry later"}'
FULL = '{"error":"the disk holding the database is full, retry later"}'
READ_ONLY = '{"error":"the database is read-only, retry later"}'
DAMAGED = '{"error":"the database file is damaged, retry later"}'
ORIGIN = "https://shop.example"


def _events(count: int, pad: int = 0) -> list[dict[str, object]]:
    return [
        {"type": "track", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000), "anon_id": "a",
         "session_id": "s", "name": "fault", "props": {"pad": "x" * pad}}
        for _ in range(count)
    ]


def _post(url: str, events: list[dict[str, object]]) -> httpx.Response:
    return httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": events},
                      headers={"Origin": ORIGIN}, timeout=60)


def _ids(events: list[dict[str, object]]) -> set[str]:
    return {str(e["id"]) for e in events}


def _stored(db_path: Path) -> dict[str, int]:
    return {r["id"]: r["n"] for r in read_rows(db_path, "SELECT id, count(*) AS n FROM events GROUP BY id")}


def _assert_refused(answer: httpx.Response, body: str, retry_after: str) -> None:
    assert (answer.status_code, answer.text) == (503, body)
    assert answer.headers["retry-after"] == retry_after
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == ORIGIN  # the browser SDK can read it


def _assert_unhealthy(url: str, fault: str, body: str, retry_after: str) -> None:
    health = httpx.get(f"{url}/healthz", timeout=60)
    assert health.status_code == 503
    assert health.json() == {"error": httpx.Response(200, text=body).json()["error"], "fault": fault}
    assert health.headers["retry-after"] == retry_after


def _assert_healthy(url: str) -> None:
    health = httpx.get(f"{url}/healthz", timeout=60)
    assert (health.status_code, health.text) == (200, "ok")


@contextmanager
def _serving(db_path: Path) -> Iterator[str]:
    port = free_port()
    with ThreadedServer(create_app(make_settings(db_path), make_store(db_path)), port):
        yield f"http://127.0.0.1:{port}"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))


@contextmanager
def _read_only_view(folder: Path, where: Path) -> Iterator[Path]:
    """`folder` seen through a read-only bind mount at `where`."""
    where.mkdir()
    bound = _run("mount", "--bind", str(folder), str(where))
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root or CAP_SYS_ADMIN): {bound.stderr.strip()}")
    try:
        remounted = _run("mount", "-o", "remount,ro,bind", str(where))
        assert remounted.returncode == 0, remounted.stderr
        yield where
    finally:
        _run("umount", "-l", str(where))


@contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """chattr +i: refused even to root, unlike a chmod."""
    made = _run("chattr", "+i", str(path))
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
    try:
        yield
    finally:
        assert _run("chattr", "-i", str(path)).returncode == 0


# Another process takes the write lock and holds it until its stdin closes.
_HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@contextmanager
def _locked(db_path: Path) -> Iterator[None]:
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(db_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0
        assert holder.stdout is not None
        holder.stdout.close()


def test_a_lock_held_by_another_process_answers_503_and_lets_go_after(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    with _serving(db_path) as url:
        before = _events(3)
        assert _post(url, before).status_code == 200
        refused: list[list[dict[str, object]]] = [_events(2) for _ in range(4)]
        answers: list[httpx.Response] = []
        with _locked(db_path):
            # Several requests at once: each is answered after one attempt at the lock, none waits for the others.
            threads = [threading.Thread(target=lambda e=e: answers.append(_post(url, e))) for e in refused]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for answer in answers:
                _assert_refused(answer, LOCKED, "2")
            _assert_unhealthy(url, "locked", LOCKED, "2")
            # Readers are not blocked by a writer's lock in WAL mode: the analyst API still answers.
            sites = httpx.get(f"{url}/api/sites", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert sites.status_code == 200 and [s["id"] for s in sites.json()["sites"]] == ["test"]
            assert not _ids([e for batch in refused for e in batch]) & set(_stored(db_path))
        _assert_healthy(url)
        for batch in refused:  # what the SDKs do after Retry-After
            assert _post(url, batch).json() == {"accepted": 2, "rejected": []}
        after = _events(1)
        assert _post(url, after).status_code == 200
    expected = _ids(before) | _ids(after) | _ids([e for batch in refused for e in batch])
    assert _stored(db_path) == dict.fromkeys(expected, 1)


def test_a_full_disk_answers_503_and_recovers_when_space_is_freed(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "4m") as disk:
        db_path = disk / "trailmark.db"
        with _serving(db_path) as url:
            before = _events(50)
            assert _post(url, before).status_code == 200
            _assert_healthy(url)
            filler = disk / "filler"
            # Unbuffered: a buffered file's close would flush the part of a chunk that did not fit
            # and raise again, outside the check.
            with filler.open("wb", buffering=0) as out, pytest.raises(OSError, match="No space left"):
                while True:
                    out.write(b"\0" * 65536)
            refused = [_events(200, pad=400) for _ in range(3)]
            for batch in refused:
                _assert_refused(_post(url, batch), FULL, "30")
            _assert_unhealthy(url, "disk_full", FULL, "30")
            assert not _ids([e for batch in refused for e in batch]) & set(_stored(db_path))
            filler.unlink()
            _assert_healthy(url)
            for batch in refused:
                assert _post(url, batch).json() == {"accepted": 200, "rejected": []}
        expected = _ids(before) | _ids([e for batch in refused for e in batch])
        assert _stored(db_path) == dict.fromkeys(expected, 1)


def test_a_wal_made_read_only_under_a_running_collector_answers_503(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    with _serving(db_path) as url:
        before = _events(3)
        assert _post(url, before).status_code == 200
        refused = _events(3)
        with _immutable(tmp_path / "trailmark.db-wal"):
            _assert_refused(_post(url, refused), READ_ONLY, "30")
            _assert_unhealthy(url, "read_only", READ_ONLY, "30")
        _assert_healthy(url)
        assert _post(url, refused).json() == {"accepted": 3, "rejected": []}
    assert _stored(db_path) == dict.fromkeys(_ids(before) | _ids(refused), 1)


def test_a_database_file_made_read_only_shows_on_healthz(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    with _serving(db_path) as url:
        _assert_healthy(url)
        # Commits still go into the WAL, but it can never be checkpointed into the file.
        with _immutable(db_path):
            _assert_unhealthy(url, "read_only", READ_ONLY, "30")
        _assert_healthy(url)


def test_a_damaged_page_answers_503_to_analyst_reads(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    with _serving(db_path) as url:
        assert _post(url, _events(3)).status_code == 200
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert len(httpx.get(f"{url}/api/sessions/s", headers=admin).json()["events"]) == 3
        (page_size,) = read_rows(db_path, "PRAGMA page_size")[0].values()
        read_rows(db_path, "PRAGMA wal_checkpoint(TRUNCATE)")  # every page now lives in the file
        (root,) = read_rows(db_path, "SELECT rootpage FROM sqlite_master WHERE name = 'sessions'")[0].values()
        with db_path.open("r+b") as file:
            file.seek((root - 1) * page_size)
            good = file.read(page_size)
            file.seek((root - 1) * page_size)
            file.write(b"\xff" * page_size)
        try:
            # A commit elsewhere (the health probe's) makes the readers drop their cached pages.
            assert httpx.get(f"{url}/healthz").status_code == 200
            damaged = httpx.get(f"{url}/api/sessions/s", headers=admin)
            assert (damaged.status_code, damaged.text) == (503, DAMAGED)
            assert damaged.headers["retry-after"] == "30"
        finally:
            with db_path.open("r+b") as file:
                file.seek((root - 1) * page_size)
                file.write(good)
        # The page restored, the next commit makes the readers read it again.
        assert _post(url, _events(2)).status_code == 200
        answer = httpx.get(f"{url}/api/sessions/s", headers=admin)
        assert answer.status_code == 200 and len(answer.json()["events"]) == 5
    assert read_rows(db_path, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]


# -- start-up: `trailmark serve` on a database it cannot write ------------------------------------


def _serve(db_path: Path) -> subprocess.CompletedProcess[str]:
    # timeout: if the check let a broken store through, serve would run until killed
    return subprocess.run(
        [sys.executable, "-m", "collector", "serve", "--db", str(db_path), "--port", str(free_port())],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "TRAILMARK_ADMIN_TOKEN": ADMIN_TOKEN},
    )


def _assert_refused_to_start(db_path: Path, message: str) -> None:
    served = _serve(db_path)
    assert served.returncode == 1
    assert (served.stdout, served.stderr) == ("", f"Error: {message}\n")


def _database(folder: Path) -> Path:
    """A database that has served once: its -wal and -shm files are left beside it."""
    folder.mkdir(exist_ok=True)
    db_path = folder / "trailmark.db"
    make_store(db_path).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(db_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    holder.kill()  # a killed process leaves the -wal and -shm files behind, as a crash would
    holder.wait()
    holder.stdout.close()
    assert holder.stdin is not None
    holder.stdin.close()
    return db_path


@pytest.mark.parametrize("name", ["trailmark.db-shm", "trailmark.db-wal", "trailmark.db"])
def test_serve_refuses_a_file_it_cannot_write_in_one_sentence(tmp_path: Path, name: str) -> None:
    db_path = _database(tmp_path / "data")
    with _immutable(db_path.parent / name):
        _assert_refused_to_start(db_path, (
            f"cannot open {db_path.parent / name} for writing: Operation not permitted. The"
            " database, its -wal and its -shm file must all be writable by the collector."
        ))
    SQLiteStore.for_serving(db_path).close()  # writable again: it starts


def test_serve_refuses_a_read_only_mount_in_one_sentence(tmp_path: Path) -> None:
    _database(tmp_path / "data")
    with _read_only_view(tmp_path / "data", tmp_path / "view") as view:
        _assert_refused_to_start(view / "trailmark.db", (
            f"cannot write in the database's directory {view}: Read-only file system. Trailmark"
            " keeps trailmark.db-wal and trailmark.db-shm beside the database and must create them."
        ))


def test_serve_refuses_a_full_disk_in_one_sentence(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "4m") as disk:
        db_path = _database(disk)
        # Unbuffered: a buffered file would hold the bytes of the last short write and raise again
        # on close, outside pytest.raises, whenever the free space does not end on a buffer's edge.
        with (disk / "filler").open("wb", buffering=0) as out, pytest.raises(OSError, match="No space left"):
            while True:
                out.write(b"\0" * 65536)
        with pytest.raises(StoreUnusable, match=rf"^the disk holding {disk} is full: \d+ bytes free,"):
            SQLiteStore.for_serving(db_path)
        served = _serve(db_path)
        assert served.returncode == 1 and served.stdout == ""
        assert served.stderr.startswith(f"Error: the disk holding {disk} is full: ")
        assert served.stderr.count("\n") == 1
