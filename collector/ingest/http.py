"""What every /v1 request goes through before its events do: admission (client IP, rate limits),
the site and its origins, CORS, the body (content type, size, bounded gzip), and the commit that
turns a stored batch into an answer or a clear 503."""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase

from starlette.requests import Request
from starlette.responses import Response

from collector.errors import ClientError
from collector.store import Overloaded, Site, StoreFault, WriterStopped
from collector.store.model import WriteBatch, WriteResult

RETRY_AFTER_OVERLOAD = 1

JSON_TYPES = ("application/json", "text/plain")
# A whole body, however it trickles in: the server's read timeout only bounds the gap between
# two pieces, so a client sending a byte every few seconds would hold a request for days.
# 2 MiB (the largest body) over a slow 3G link takes about 20 s.
BODY_TIMEOUT_S = 30.0


async def read_body(request: Request, limit: int) -> bytes:
    """The decompressed body, refused with a ClientError when it is not what we accept."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise ClientError(
            415, f"content type must be application/json or text/plain, not {media_type or 'none'!r}"
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ClientError(415, f"content encoding must be gzip or none, not {encoding!r}")
    raw = await read_limited(request, limit)
    return gunzip(raw, limit) if encoding == "gzip" else raw


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused with a 413 as soon as it passes `limit` bytes: a declared length
    is refused before reading, and a chunked body is never held beyond the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ClientError(413, f"body is larger than {limit} bytes")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ClientError(413, f"body is larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise ClientError(408, f"body not received within {BODY_TIMEOUT_S:g} s") from None
    return b"".join(chunks)


def gunzip(data: bytes, limit: int) -> bytes:
    """Inflate at most `limit` bytes: a gzip bomb is refused without being inflated whole."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ClientError(400, f"body is not valid gzip: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ClientError(413, f"body is larger than {limit} bytes after decompression")
    if not inflater.eof:
        raise ClientError(400, "body is not valid gzip: truncated stream")
    return out


# ---- admission ---------------------------------------------------------------------------------

class RateLimiter:
    """`rate` requests per second with bursts of `2 * rate`; a rate of 0 lets everything through.
    Token buckets kept in memory, at most `max_keys` of them."""

    def __init__(self, rate: float, max_keys: int = 100_000) -> None:
        self.rate = rate
        self.burst = max(1.0, 2 * rate)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """None when a request by `key` may go ahead (and is counted); else seconds to wait."""
        if self.rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            tokens -= 1
            wait = None
        else:
            wait = max(1, math.ceil((1 - tokens) / self.rate))
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


def admit(request: Request) -> str:
    """Who is asking (the client IP, behind trusted proxies), once they may ask now.

    The per-IP limit applies only when the address is the visitor's. Behind a proxy we were not
    told to trust it is the proxy's, shared by every visitor: limiting it would refuse a busy
    site's real traffic (the per-site limit and the writer's bounded queue still apply).
    """
    peer = request.client.host if request.client else None
    ip, behind_unknown_proxy = request.app.state.pipeline.client(peer, request.headers)
    if not behind_unknown_proxy:
        wait = request.app.state.limits.per_ip.retry_after(ip)
        if wait:
            raise ClientError(429, "too many requests from this address", wait)
    return str(ip)


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


# ---- the site and CORS -------------------------------------------------------------------------

def cors_headers(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def origin_allowed(site: Site, origin: str | None) -> bool:
    """An empty allow-list accepts any origin; requests without Origin (servers, beacons) pass."""
    if not origin or not site.origins:
        return True
    return any(fnmatchcase(origin, pattern) for pattern in site.origins)


async def preflight(request: Request) -> Response:
    """CORS preflight: the site (and its origins) is only known from the body, checked on POST."""
    headers = cors_headers(request)
    headers.update({
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Content-Encoding",
        "Access-Control-Max-Age": "86400",
    })
    return Response(status_code=204, headers=headers)


def site_for(request: Request, key: str, *, page: bool = False) -> Site:
    """The site a write key names, once its origin and its rate limit let this request in."""
    site: Site | None = request.app.state.store.site_for_key(key)
    if site is None:
        raise ClientError(401, "unknown write key")
    if site.verified and (page or request.headers.get("origin")):
        # A browser sent it, so the key is in a page for anyone to copy: refuse it loudly.
        raise ClientError(403, "the secret server key belongs on your server: browsers use the write key")
    if not origin_allowed(site, request.headers.get("origin")):
        raise ClientError(403, "origin not allowed for this site")
    wait = request.app.state.limits.per_site.retry_after(site.id)
    if wait:
        raise ClientError(429, "too many requests for this site", wait)
    return site


# ---- commit and answer -------------------------------------------------------------------------

async def commit(request: Request, batch: WriteBatch) -> WriteResult:
    """The batch stored through the store's one writer, or the 503 that makes a retry safe."""
    try:
        result: WriteResult = await request.app.state.store.write(batch)
        return result
    except Overloaded:
        raise ClientError(503, "overloaded, retry later", RETRY_AFTER_OVERLOAD) from None
    except WriterStopped:
        raise ClientError(503, "shutting down, retry later", RETRY_AFTER_OVERLOAD) from None
    except StoreFault as fault:  # nothing of the batch was stored: the SDK's retry is safe
        raise ClientError(503, fault.message, fault.retry_after) from None


Endpoint = Callable[[Request, str], Awaitable[Response]]


def endpoint(handler: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    """An ingest endpoint, handed the admitted client IP, with the shared refusals, CORS and metrics."""

    async def run(request: Request) -> Response:
        cors = cors_headers(request)
        metrics = request.app.state.metrics
        try:
            response = await handler(request, admit(request))
        except ClientError as exc:
            metrics.refused[exc.status] += 1
            return exc.response(cors)
        except StoreFault as fault:  # a read (the site, replay bytes) or the day's salt met a fault
            metrics.refused[503] += 1
            return ClientError(503, fault.message, fault.retry_after).response(cors)
        response.headers.update(cors)
        return response

    return run


def now_ms() -> int:
    return int(time.time() * 1000)
