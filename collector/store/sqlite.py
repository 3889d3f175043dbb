"""The embedded SQLite store: WAL, one writer thread, a pool of read-only connections."""

from __future__ import annotations

import asyncio
import queue
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
from sqlite_utils import Database

from collector.store.faults import (
    StoreFault,
    StoreUnusable,
    check_files,
    check_write,
    fault_of,
    free_bytes,
    unwritable,
)
from collector.store.migrations import migrate
from collector.store.rows import WriteBatch, WriteResult
from collector.store.writer import Writer, WriterStopped

SITE_CACHE_SECONDS = 10.0
# How long a statement waits for another connection's lock before failing with "locked".
# Requests wait BUSY_TIMEOUT at most, then answer 503 (our own group commits hold the lock for
# milliseconds); tools that should outwait a collector's commits (purge, backup) pass TOOL_BUSY_TIMEOUT.
BUSY_TIMEOUT = 1.0
TOOL_BUSY_TIMEOUT = 30.0
# Below this much free space on the database's file system /healthz reports the disk full:
# a batch of up to 1 MiB may need that much of the WAL, so smaller writes would pass a probe.
MIN_FREE_BYTES = 1024 * 1024
# How long /healthz waits for its probe to pass the writer queue.
HEALTH_TIMEOUT = 5.0


class Site(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    write_key: str
    origins: tuple[str, ...] = ()
    settings: dict[str, object] = {}
    created_at: int = 0


def connect(
    path: str | Path, *, readonly: bool = False, synchronous: str = "FULL",
    busy_timeout: float = BUSY_TIMEOUT,
) -> sqlite3.Connection:
    """A connection with the pragmas every Trailmark connection needs."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
    )
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: an acknowledged event survives power loss, not just a killed process.
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


class SQLiteStore:
    """Storage behind the narrow interface ingest and queries use: write batches, read rows."""

    def __init__(
        self, path: str | Path, *, max_pending: int = 100_000, synchronous: str = "FULL",
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        self.path = str(path)
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        with self._admin() as db:
            migrate(db)
        self.writer = Writer(
            lambda: connect(self.path, synchronous=synchronous, busy_timeout=busy_timeout),
            max_pending,
            self.path,
        )
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        # Write key -> (site, when it was read): another process (`trailmark sites add`) may
        # change a site's origins or add a key, seen here within SITE_CACHE_SECONDS.
        self._sites_by_key: dict[str, tuple[Site, float]] = {}

    @classmethod
    def for_serving(
        cls, path: str | Path, *, max_pending: int = 100_000, synchronous: str = "FULL"
    ) -> SQLiteStore:
        """The store `serve` runs on, or StoreUnusable saying in a sentence why it cannot write."""
        check_files(path, MIN_FREE_BYTES)
        try:
            store = cls(path, max_pending=max_pending, synchronous=synchronous)
            conn = connect(store.path, busy_timeout=store._busy_timeout)
        except sqlite3.Error as exc:
            fault = fault_of(exc)
            what = fault.message.removesuffix(", retry later") if fault else "it failed"
            raise StoreUnusable(f"cannot open {path}: {what} ({exc}).") from None
        try:
            check_write(conn, path)
        finally:
            conn.close()
        return store

    @contextmanager
    def _admin(self) -> Iterator[Database]:
        conn = connect(self.path, synchronous=self._synchronous, busy_timeout=self._busy_timeout)
        try:
            yield Database(conn)
        finally:
            conn.close()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.writer.start()

    def close(self) -> None:
        self.writer.stop()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break

    # -- writing -----------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> asyncio.Future[WriteResult]:
        """Queue a batch for the next group commit; resolves once it is durable."""
        return self.writer.submit(batch)

    async def health(self) -> StoreFault | None:
        """None when the store can be read and written now, else the fault that stops it."""
        try:
            await asyncio.to_thread(self._read_check)
            free = free_bytes(Path(self.path).parent)
            if free < MIN_FREE_BYTES:
                return StoreFault("disk_full", f"{free} bytes free")
            # A read-only database file still takes commits into its WAL for a while, but could
            # not be checkpointed, nor reopened after a restart.
            if blocked := unwritable(self.path):
                return StoreFault("read_only", f"{blocked} cannot be written")
            if not self.writer.wrote_lately():
                await asyncio.wait_for(self.writer.probe(), HEALTH_TIMEOUT)
        except TimeoutError:
            return StoreFault("unresponsive", f"the write probe took over {HEALTH_TIMEOUT:g} s")
        except WriterStopped as exc:
            return StoreFault("unresponsive", str(exc))
        except (sqlite3.Error, StoreFault) as exc:
            fault = fault_of(exc)
            if fault is None:
                raise
            return fault
        return None

    def _read_check(self) -> None:
        with self.read() as conn:
            conn.execute("SELECT count(*) FROM sites").fetchone()  # reads a page, unlike SELECT 1

    # -- reading -----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool (WAL lets readers run beside the writer)."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = connect(self.path, readonly=True, busy_timeout=self._busy_timeout)
            conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._readers.put(conn)

    def replay_bytes(self, site_id: str, session_id: str) -> int:
        """Compressed replay bytes stored so far for a session."""
        with self.read() as conn:
            (total,) = conn.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM replay_chunks"
                " WHERE site_id = ? AND session_id = ?",
                (site_id, session_id),
            ).fetchone()
        return int(total)

    def meta(self, key: str, default: str) -> str:
        """A stored setting, set to `default` the first time it is asked for."""
        with self._admin() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [key, default])
            return str(db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()[0])

    # -- sites -------------------------------------------------------------------------------

    def site_for_key(self, key: str) -> Site | None:
        now = time.monotonic()
        cached = self._sites_by_key.get(key)
        if cached is not None and now - cached[1] < SITE_CACHE_SECONDS:
            return cached[0]
        with self.read() as conn:
            row = conn.execute("SELECT * FROM sites WHERE write_key = ?", (key,)).fetchone()
        if row is None:
            self._sites_by_key.pop(key, None)
            return None
        site = _site(row)
        self._sites_by_key[key] = (site, now)
        return site

    def sites(self) -> list[Site]:
        with self.read() as conn:
            return [_site(r) for r in conn.execute("SELECT * FROM sites ORDER BY created_at, id")]

    def add_site(
        self, site_id: str, name: str, *, origins: tuple[str, ...] = (), key: str | None = None,
        settings: dict[str, object] | None = None,
    ) -> Site:
        """Create a site (or update its origins and settings); returns it with its write key."""
        with self._admin() as db:
            existing = db.execute(
                "SELECT write_key, created_at FROM sites WHERE id = ?", [site_id]
            ).fetchone()
            write_key = key or (existing[0] if existing else "wk_" + secrets.token_urlsafe(18))
            db["sites"].upsert(
                {
                    "id": site_id,
                    "name": name,
                    "write_key": write_key,
                    "origins": msgspec.json.encode(list(origins)).decode(),
                    "settings": msgspec.json.encode(settings or {}).decode(),
                    "created_at": existing[1] if existing else int(time.time() * 1000),
                },
                pk="id",
            )
        self._sites_by_key.clear()
        found = self.site_for_key(write_key)
        assert found is not None
        return found


def _site(row: sqlite3.Row) -> Site:
    return Site(
        id=row["id"],
        name=row["name"],
        write_key=row["write_key"],
        origins=tuple(msgspec.json.decode(row["origins"])),
        settings=msgspec.json.decode(row["settings"]),
        created_at=row["created_at"],
    )
