"""Cookieless visitor ids: a keyed hash under a daily salt that is thrown away after two days."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime


def visitor_hash(salt: bytes, site_id: str, ip: str, ua: str) -> str:
    """A 32 hex char visitor id, stable for one site, address and browser within one salt day."""
    digest = hashlib.blake2b(key=salt, digest_size=16)
    digest.update(f"{site_id}\x00{ip}\x00{ua}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def utc_day(epoch_ms: int) -> str:
    """The UTC date of an epoch-ms time as YYYY-MM-DD."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).date().isoformat()


class Salts:
    """Daily salts kept by the store (`load(day)` makes or reads one), memoised per day."""

    def __init__(self, load: Callable[[str], bytes]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._day = ""
        self._salt = b""

    def salt_for(self, day: str) -> bytes:
        """The salt of a UTC day (YYYY-MM-DD), asked of the store once a day."""
        with self._lock:
            if day != self._day:
                self._salt = self._load(day)
                self._day = day
            return self._salt
