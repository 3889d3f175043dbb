"""The loud warning for a reverse proxy the collector was not told to trust.

Behind nginx, Caddy or a Docker network every request comes from the proxy's address. Unless
TRAILMARK_TRUSTED_PROXIES lists it, X-Forwarded-For cannot be believed (anyone could send it),
so all visitors share one address: cookieless visitors merge and geo is the proxy's. Nothing
fails, which is why this says so in the log and in /healthz.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache

from collector.enrich.proxies import TrustedProxies, is_trusted, parse_address

log = logging.getLogger("trailmark.proxies")

# A proxy sends on every request; one log line per interval is loud enough and never a flood.
LOG_EVERY_S = 600.0
# The headers proxies set; Forwarded (RFC 7239) and X-Real-IP are only recognised, never read.
MAX_PROXIES = 10
HEADERS = {"x-forwarded-for": "X-Forwarded-For", "forwarded": "Forwarded", "x-real-ip": "X-Real-IP"}


class ProxyAlarm:
    """Notices a loopback or private peer forwarding for others in a way we cannot use."""

    def __init__(
        self, trusted: TrustedProxies, *, every_s: float = LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trusted = trusted
        self.every_s = every_s
        self.clock = clock
        self._found: dict[str, str] = {}  # peer -> its warning, the first one seen
        self._logged_at: float | None = None
        self._lock = threading.Lock()
        self._local_peer = lru_cache(maxsize=1024)(self._classify)

    def _classify(self, peer: str) -> tuple[bool, bool]:
        """(loopback or private, trusted) for a peer address."""
        address = parse_address(peer)
        if address is None:
            return False, False
        return address.is_loopback or address.is_private, is_trusted(address, self.trusted)

    def check(self, peer: str | None, headers: Mapping[str, str]) -> bool:
        """True when `peer` is a proxy we cannot see through: its address is not the client's."""
        sent = [name for name in HEADERS if name in headers]
        if not sent or not peer:
            return False
        local, trusted = self._local_peer(peer)
        if not local:
            return False  # a public peer sending the header is a client forging it: the peer is the client
        if not trusted:
            header = HEADERS[sent[0]]
            self._raise(peer, (
                f"requests from {peer} carry {header} but TRAILMARK_TRUSTED_PROXIES does not list {peer}:"
                " every visitor behind that proxy shares its address (cookieless visitors merge, geo is the"
                f" proxy's). If it is your reverse proxy, set TRAILMARK_TRUSTED_PROXIES={peer} (docs/deployment.md)"
            ))
            return True
        if "x-forwarded-for" not in headers:
            header = HEADERS[sent[0]]
            self._raise(peer, (
                f"requests from {peer} carry {header} but no X-Forwarded-For, the header Trailmark reads:"
                " every visitor behind that proxy shares its address. Make the proxy send X-Forwarded-For"
                " (docs/deployment.md)"
            ))
            return True
        return False

    def _raise(self, peer: str, warning: str) -> None:
        with self._lock:
            if len(self._found) < MAX_PROXIES:
                self._found.setdefault(peer, warning)
            now = self.clock()
            if self._logged_at is not None and now - self._logged_at < self.every_s:
                return
            self._logged_at = now
        log.warning(warning)

    def warnings(self) -> list[str]:
        """What /healthz reports: one line per proxy seen since start-up."""
        with self._lock:
            return list(self._found.values())
