"""The embedded SQLite store: WAL, one writer thread, a pool of read-only connections."""

from __future__ import annotations

import asyncio
import hashlib
import queue
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
from sqlite_utils import Database

from collector.store.migrations import migrate
from collector.store.rows import WriteBatch, WriteResult
from collector.store.writer import Writer

SITE_CACHE_SECONDS = 10.0


class Site(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    write_key: str
    origins: tuple[str, ...] = ()
    settings: dict[str, object] = {}
    created_at: int = 0
    # The request's key was the site's secret server key, not its public write key.
    verified: bool = False


SECRET_PREFIX = "sk_"


def secret_hash(secret: str) -> str:
    """What the store keeps of a secret key: its SHA-256, so a copy of the database holds no key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def connect(path: str | Path, *, readonly: bool = False, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection with the pragmas every Trailmark connection needs."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
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
        self, path: str | Path, *, max_pending: int = 100_000, synchronous: str = "FULL"
    ) -> None:
        self.path = str(path)
        self._synchronous = synchronous
        with self._admin() as db:
            migrate(db)
        self.writer = Writer(lambda: connect(self.path, synchronous=synchronous), max_pending)
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        # Write key -> (site, when it was read): another process (`trailmark sites add`) may
        # change a site's origins or add a key, seen here within SITE_CACHE_SECONDS.
        self._sites_by_key: dict[str, tuple[Site, float]] = {}

    @contextmanager
    def _admin(self) -> Iterator[Database]:
        conn = connect(self.path, synchronous=self._synchronous)
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

    # -- reading -----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool (WAL lets readers run beside the writer)."""
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = connect(self.path, readonly=True)
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
        verified = key.startswith(SECRET_PREFIX)
        with self.read() as conn:
            if verified:
                row = conn.execute("SELECT * FROM sites WHERE secret_hash = ?", (secret_hash(key),)).fetchone()
            else:
                row = conn.execute("SELECT * FROM sites WHERE write_key = ?", (key,)).fetchone()
        if row is None:
            self._sites_by_key.pop(key, None)
            return None
        site = _site(row, verified=verified)
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

    def has_secret(self, site_id: str) -> bool:
        with self.read() as conn:
            row = conn.execute("SELECT secret_hash FROM sites WHERE id = ?", (site_id,)).fetchone()
        return row is not None and row[0] is not None

    def new_secret(self, site_id: str, secret: str | None = None) -> str:
        """Give a site a new secret server key (the old one stops working); returns it, shown once."""
        secret = secret or SECRET_PREFIX + secrets.token_urlsafe(24)
        assert secret.startswith(SECRET_PREFIX), f"a secret server key starts with {SECRET_PREFIX}"
        with self._admin() as db:
            changed = db.execute(
                "UPDATE sites SET secret_hash = ? WHERE id = ?", [secret_hash(secret), site_id]
            ).rowcount
        assert changed == 1, f"no site {site_id!r}: add it first with `trailmark sites add`"
        self._sites_by_key.clear()
        return secret


def _site(row: sqlite3.Row, *, verified: bool = False) -> Site:
    return Site(
        verified=verified,
        id=row["id"],
        name=row["name"],
        write_key=row["write_key"],
        origins=tuple(msgspec.json.decode(row["origins"])),
        settings=msgspec.json.decode(row["settings"]),
        created_at=row["created_at"],
    )
