"""HTTP to the collector: one kept-alive connection, gzip JSON bodies, answers parsed."""

from __future__ import annotations

import gzip
import http.client
import json
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .version import VERSION

# A guard against an absurd header, not a policy: waiting an hour inside a host app helps nobody.
MAX_RETRY_AFTER = 300.0
# Level 6 compresses event JSON about as well as 9 at a third of the CPU time.
GZIP_LEVEL = 6
USER_AGENT = f"trailmark-python/{VERSION}"


class Answer(NamedTuple):
    """What the collector said: status, JSON body (or None) and Retry-After in seconds."""

    status: int
    body: Any
    retry_after: float | None


def batch_url(host: str) -> tuple[str, str, int | None, str]:
    """Scheme, host name, port and path of the batch endpoint; ValueError for a bad host."""
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"host must be an http:// or https:// URL, not {host!r}")
    return parts.scheme, parts.hostname, parts.port, parts.path.rstrip("/") + "/v1/batch"


def envelope(write_key: str, parts: list[bytes]) -> bytes:
    """The batch body around events already encoded one by one (they are never re-encoded)."""
    sent_at = time.time_ns() // 1_000_000
    head = b'{"key":%s,"sent_at":%d,"events":[' % (json.dumps(write_key).encode(), sent_at)
    return head + b",".join(parts) + b"]}"


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Transport:
    """Posts batches over one persistent connection; not thread-safe, one per sender."""

    def __init__(self, host: str, timeout: float, compress: bool) -> None:
        self.scheme, self.hostname, self.port, self.path = batch_url(host)
        self.timeout = timeout
        self.compress = compress
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> Answer:
        """Send one body; raises OSError or HTTPException on network trouble."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self.compress:
            body = gzip.compress(body, compresslevel=GZIP_LEVEL)
            headers["Content-Encoding"] = "gzip"
        for attempt in (1, 2):
            reused = self.conn is not None
            conn = self.conn or self._connect()
            try:
                conn.request("POST", self.path, body, headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                self.close()
                # A kept-alive connection the server closed while idle fails on first use;
                # one fresh connection is not a retry (and ingest is idempotent anyway).
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            return Answer(response.status, _json(data), retry_after(response.getheader("Retry-After")))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Drop the connection; the next post opens a new one."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            self.conn = http.client.HTTPSConnection(self.hostname, self.port, timeout=self.timeout)
        else:
            self.conn = http.client.HTTPConnection(self.hostname, self.port, timeout=self.timeout)
        return self.conn


def _json(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None
