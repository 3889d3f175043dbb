"""The HTTP server `trailmark serve` runs: bounded headers, timed-out slow clients.

The collector faces the internet without a proxy in front (the Docker image), so the server
must refuse what a proxy would. Chosen by bench/http_attack.py (figures in docs/security.md):
uvicorn's default httptools parser read a 160 MB header line whole, and neither of uvicorn's
parsers times out a client that trickles its headers. GuardedHttpTools keeps the fast parser and
adds both limits; GuardedH11 (h11 bounds headers itself) measured alike and is kept for the
benchmark. Hypercorn has both limits built in but used about four times the memory under attack.
"""

from __future__ import annotations

import asyncio
import resource
import signal
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The request line and headers together; browsers send a few KiB, cookies included.
MAX_HEADER_BYTES = 16 * 1024
# While no request is being served: from accept, or from the last answer, to the end of the
# next request's headers (or of a body the app did not read). Slow clients get no more.
HEADER_TIMEOUT_S = 5.0


class _Deadline:
    """A deadline whenever no request is being served, for uvicorn's HTTP protocols.

    uvicorn arms its keep-alive timer only after an answer and cancels it on the next byte, so a
    client sending one byte a second kept a connection (and a file) forever. Here data does not
    move the deadline: only a request whose headers are complete stops it, and the app's own body
    deadline (collector/ingest/http.py) takes over while the request is served.
    """

    timeout_s = HEADER_TIMEOUT_S
    _deadline: asyncio.TimerHandle | None = None
    # uvicorn's protocol attributes this relies on
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)  # type: ignore[misc]

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


class GuardedH11(_Deadline, H11Protocol):
    """h11 (which bounds an unfinished request itself) with the deadline: the measured alternative."""


_TOO_LARGE = b'{"error": "request headers are larger than %d bytes"}' % MAX_HEADER_BYTES
_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(_TOO_LARGE), _TOO_LARGE))


class GuardedHttpTools(_Deadline, HttpToolsProtocol):
    """httptools (fast, but it grows a header value by concatenation without any limit: a 160 MB
    header cost 31 s of CPU) with a bound on header bytes, checked before the parser sees more
    than one read past it, and the deadline."""

    _in_headers = True
    _header_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.transport.write(_431)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_headers, self._header_bytes = True, 0


def config(
    app: Any, host: str, port: int, *, header_timeout_s: float = HEADER_TIMEOUT_S,
    protocol: type[_Deadline] | None = None,
) -> uvicorn.Config:
    """uvicorn's settings for the collector; tests shorten the header timeout."""
    base = protocol or GuardedHttpTools
    protocol = type(base.__name__, (base,), {"timeout_s": header_timeout_s})
    return uvicorn.Config(
        app, host=host, port=port, http=protocol,  # type: ignore[arg-type]  # uvicorn types its own classes only
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
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


def serve(app: Any, host: str, port: int, announce: Callable[[], None] = lambda: None) -> None:
    """Serve until SIGINT or SIGTERM (what `trailmark serve` and the Docker image run); `announce`
    prints the banner once a signal can no longer be lost."""
    raise_file_limit()
    server = uvicorn.Server(config(app, host, port))
    # From here a SIGINT or SIGTERM asks the server to stop, even one sent as soon as the banner
    # shows (a script, a test) and before uvicorn installs its handlers: with Python's default
    # handler it could land in a garbage collection's weakref callback, where the
    # KeyboardInterrupt is dropped, and serve would run on.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, server.handle_exit)
    announce()
    server.run()
