"""The HTTP server `trailmark serve` runs: bounded headers, timed-out slow clients.

The collector faces the internet without a proxy in front (the Docker image), so the server
must refuse what a proxy would. Chosen by bench/http_attack.py (figures in docs/security.md):
uvicorn's default httptools parser read a 160 MB header line whole, and neither of its parsers
times out a client that trickles its headers. h11 bounds the bytes of an unfinished request;
GuardedH11 adds the missing deadline. Hypercorn has both built in but used about twice the
memory under the same attacks.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

# The request line and headers together; browsers send a few KiB, cookies included.
MAX_HEADER_BYTES = 16 * 1024
# While no request is being served: from accept, or from the last answer, to the end of the
# next request's headers (or of a body the app did not read). Slow clients get no more.
HEADER_TIMEOUT_S = 5.0


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline whenever no request is being served.

    uvicorn arms its keep-alive timer only after an answer and cancels it on the next byte, so a
    client sending one byte a second kept a connection (and a file) forever. Here the deadline is
    not moved by data: only a request whose headers are complete stops it, and the app's own
    body deadline (collector/body.py) takes over while the request is served.
    """

    timeout_s = HEADER_TIMEOUT_S
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def _serving(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _watch(self) -> None:
        if self._serving() or self.transport.is_closing():
            self._stop()
        elif self._deadline is None:
            self._deadline = self.loop.call_later(self.timeout_s, self._expire)

    def _stop(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self._serving() and not self.transport.is_closing():
            self.transport.close()


def config(app: Any, host: str, port: int, *, header_timeout_s: float = HEADER_TIMEOUT_S) -> uvicorn.Config:
    """uvicorn's settings for the collector; tests shorten the header timeout."""
    protocol = type("GuardedH11", (GuardedH11,), {"timeout_s": header_timeout_s})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=int(header_timeout_s) or 1, log_level="warning", access_log=False,
        proxy_headers=False, server_header=False, lifespan="on",
    )


def raise_file_limit() -> None:
    """Every open connection is a file: at the common default of 1,024, a thousand idle sockets
    left nothing for real visitors. The hard limit is ours to take."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(app: Any, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM (what `trailmark serve` and the Docker image run)."""
    raise_file_limit()
    uvicorn.Server(config(app, host, port)).run()
