"""The HTTP server `trailmark serve` runs: bounded headers, timed-out slow clients.

The collector faces the internet without a proxy in front (the Docker image), so the server
must refuse what a proxy would. Chosen by bench/http_attack.py (figures in docs/security.md):
uvicorn's httptools parser read a 160 MB header line whole, and neither of its parsers times
out a client that trickles its headers. Hypercorn (h11) bounds the bytes of an unfinished
request and closes a connection that has not sent a whole request within the idle timeout,
however slowly it sends.
"""

from __future__ import annotations

import asyncio
import resource
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

# The request line and headers together; browsers send a few KiB, cookies included.
MAX_HEADER_BYTES = 16 * 1024
# From accept to the end of the headers, and between requests on a kept-alive connection.
HEADER_TIMEOUT_S = 10.0
# Longest wait for the next piece of a request body.
READ_TIMEOUT_S = 15


def config(host: str, port: int, **overrides: Any) -> Config:
    """Hypercorn's settings for the collector; `overrides` for tests that need short timeouts."""
    cfg = Config()
    cfg.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    cfg.h11_max_incomplete_size = MAX_HEADER_BYTES
    cfg.keep_alive_timeout = HEADER_TIMEOUT_S
    cfg.read_timeout = READ_TIMEOUT_S
    cfg.include_server_header = False
    cfg.accesslog = None
    cfg.errorlog = "-"
    cfg.loglevel = "WARNING"
    for name, value in overrides.items():
        setattr(cfg, name, value)
    return cfg


async def run(app: Any, cfg: Config, stop: Callable[[], Awaitable[None]]) -> None:
    """Serve with `cfg` until `stop()` returns; the app's lifespan then drains the writer."""
    await hypercorn_serve(app, cfg, shutdown_trigger=stop)


def raise_file_limit() -> None:
    """Every open connection is a file: at the common default of 1,024, a thousand idle sockets
    left nothing for real visitors. The hard limit is ours to take."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(app: Any, host: str, port: int, **overrides: Any) -> None:
    """Serve until SIGINT or SIGTERM (what `trailmark serve` and the Docker image run)."""
    raise_file_limit()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(app, config(host, port, **overrides), stop.wait)

    asyncio.run(main())
