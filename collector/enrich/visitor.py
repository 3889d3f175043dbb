"""Cookieless visitor ids: a keyed hash under a daily salt that is thrown away after two days."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta

SALT_BYTES = 32
# Today's and yesterday's salts are kept; older ones are deleted, and with them any way to
# recompute an old visitor hash from an IP and a user agent.
KEEP_DAYS = 2


def visitor_hash(salt: bytes, site_id: str, ip: str, ua: str) -> str:
    """A 32 hex char visitor id, stable for one site, address and browser within one salt day."""
    digest = hashlib.blake2b(key=salt, digest_size=16)
    digest.update(f"{site_id}\x00{ip}\x00{ua}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def utc_day(epoch_ms: int) -> str:
    """The UTC date of an epoch-ms time as YYYY-MM-DD."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).date().isoformat()


class Salts:
    """Daily salts in the `salts(day TEXT PRIMARY KEY, salt BLOB)` table, memoised per day."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._day = ""
        self._salt = b""

    def salt_for(self, day: str) -> bytes:
        """The salt of a UTC day (YYYY-MM-DD), created on first use; prunes expired salts."""
        with self._lock:
            if day != self._day:
                self._salt = self._load(day)
                self._day = day
            return self._salt

    def _load(self, day: str) -> bytes:
        # Read first: this runs on the request path, and a salt already made (by an earlier run or
        # another process) needs no write lock, which another process may be holding.
        found = self._conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
        if found is not None:
            return bytes(found[0])
        oldest_kept = (date.fromisoformat(day) - timedelta(days=KEEP_DAYS - 1)).isoformat()
        with self._conn:
            # INSERT OR IGNORE then SELECT: two processes racing on a new day agree on one salt.
            self._conn.execute(
                "INSERT OR IGNORE INTO salts (day, salt) VALUES (?, ?)",
                (day, secrets.token_bytes(SALT_BYTES)),
            )
            self._conn.execute("DELETE FROM salts WHERE day < ?", (oldest_kept,))
            (salt,) = self._conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
        return bytes(salt)
