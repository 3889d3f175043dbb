"""Reading a request body safely: content type, size limits, bounded gzip inflation."""

from __future__ import annotations

import asyncio
import zlib

from starlette.requests import Request

from collector.errors import ClientError

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
