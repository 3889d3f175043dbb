"""The /v1/* handlers: decode -> validate each event -> enrich -> write, acknowledged after commit."""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector import replay_limits, schema
from collector.body import read_body
from collector.depth import MAX_DEPTH, MAX_REPLAY_DEPTH, deep_items, deeper_than
from collector.enrich import guess_sent_at
from collector.enrich.urls import strip_in_json
from collector.errors import ClientError, decode, json_response
from collector.normalize import TooOld, to_row
from collector.store import Overloaded, Site, StoreFault, WriterStopped
from collector.store.model import ChunkRow, DeadLetter, EventRow, WriteBatch, WriteResult

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# A replay chunk's body, compressed and inflated; a session's stored bytes (replay_limits.py).
MAX_REPLAY_BODY = replay_limits.MAX_CHUNK_JSON_BYTES
MAX_REPLAY_SESSION_BYTES = replay_limits.MAX_SESSION_BYTES
RETRY_AFTER_OVERLOAD = 1


def now_ms() -> int:
    return int(time.time() * 1000)


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


def _check_site_limit(request: Request, site: Site) -> None:
    wait = request.app.state.limits.per_site.retry_after(site.id)
    if wait:
        raise ClientError(429, "too many requests for this site", wait)


def _site(request: Request, key: str, *, page: bool = False) -> Site:
    site: Site | None = request.app.state.store.site_for_key(key)
    if site is None:
        raise ClientError(401, "unknown write key")
    if site.verified and (page or request.headers.get("origin")):
        # A browser sent it, so the key is in a page for anyone to copy: refuse it loudly.
        raise ClientError(403, "the secret server key belongs on your server: browsers use the write key")
    if not origin_allowed(site, request.headers.get("origin")):
        raise ClientError(403, "origin not allowed for this site")
    _check_site_limit(request, site)
    return site


async def _commit(request: Request, batch: WriteBatch) -> WriteResult:
    try:
        result: WriteResult = await request.app.state.store.write(batch)
        return result
    except Overloaded:
        raise ClientError(503, "overloaded, retry later", RETRY_AFTER_OVERLOAD) from None
    except WriterStopped:
        raise ClientError(503, "shutting down, retry later", RETRY_AFTER_OVERLOAD) from None
    except StoreFault as fault:  # nothing of the batch was stored: the SDK's retry is safe
        raise ClientError(503, fault.message, fault.retry_after) from None


def _admit(request: Request) -> None:
    """Who is asking (client IP behind trusted proxies), and whether they may ask now.

    The per-IP limit applies only when the address is the visitor's. Behind a proxy we were not
    told to trust it is the proxy's, shared by every visitor: limiting it would refuse a busy
    site's real traffic (the per-site limit and the writer's bounded queue still apply).
    """
    client_ip, behind_unknown_proxy = request.app.state.enricher.client(request)
    request.state.client_ip = client_ip
    if behind_unknown_proxy:
        return
    wait = request.app.state.limits.per_ip.retry_after(client_ip)
    if wait:
        raise ClientError(429, "too many requests from this address", wait)


async def handle(request: Request, endpoint: Callable[[Request], Awaitable[Response]]) -> Response:
    """Run an ingest endpoint with the shared error handling, CORS and metrics."""
    cors = cors_headers(request)
    metrics = request.app.state.metrics
    try:
        _admit(request)
        response: Response = await endpoint(request)
    except ClientError as exc:
        metrics.refused[exc.status] += 1
        return exc.response(cors)
    except StoreFault as fault:  # a read (the site, replay bytes) or the day's salt met a fault
        metrics.refused[503] += 1
        return ClientError(503, fault.message, fault.retry_after).response(cors)
    response.headers.update(cors)
    return response


# A \uD800-\uDFFF escape without its partner. JSON.stringify emits these for strings cut in the
# middle of an emoji; msgspec refuses them anywhere in a body, which would lose the whole batch.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


# Stands in for an event nested too deep for msgspec to skip: the index stays, the event is refused.
_TOO_DEEP = b'"\\u0000too deep"'
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def _shallow(body: bytes) -> bytes:
    """The body with each event deeper than MAX_DEPTH replaced by _TOO_DEEP, so that decoding
    the envelope cannot recurse without bound and the good events of the batch still count."""
    if not deeper_than(body, MAX_DEPTH + 2):  # the envelope object and its events array
        return body
    spans = deep_items(body, 2, MAX_DEPTH)
    if spans is None:
        raise ClientError(400, f"malformed JSON: {TOO_DEEP}, in a body too complex to split")
    parts, last = [], 0
    for start, end in spans:
        parts += [body[last:start], _TOO_DEEP]
        last = end
    shallow = b"".join([*parts, body[last:]])
    if deeper_than(shallow, MAX_DEPTH + 2):  # deep outside any event: not a batch we can read
        raise ClientError(400, f"malformed JSON: {TOO_DEEP}")
    return shallow


def _decode_envelope(body: bytes) -> schema.Envelope:
    body = _shallow(body)
    try:
        envelope = schema.envelope_decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # Only when decoding failed: repair lone surrogates, or raise the 400 this body earns.
        repaired, count = _LONE_SURROGATE.subn(rb"\\ufffd", body)
        envelope = decode(schema.envelope_decoder, repaired if count else body, "batch")
    if len(envelope.events) > schema.MAX_EVENTS:
        raise ClientError(
            413, f"too many events: {len(envelope.events)} > {schema.MAX_EVENTS} per batch"
        )
    return envelope


def _event(raw: msgspec.Raw) -> schema.Event:
    """One event of a batch decoded alone; a ValueError names what is wrong with it."""
    if len(raw) > schema.MAX_EVENT_BYTES:
        raise ValueError(f"event is larger than {schema.MAX_EVENT_BYTES} bytes")
    text = bytes(raw)  # msgspec.Raw is a buffer without bytes' methods
    if text == _TOO_DEEP or deeper_than(text, MAX_DEPTH):
        raise ValueError(TOO_DEEP)
    try:
        event: schema.Event = schema.event_decoder.decode(text)
        return event
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise ValueError(str(exc)) from None
    except UnicodeDecodeError:
        raise ValueError("event is not valid UTF-8") from None


def _reason_kind(error: Exception) -> str:
    if isinstance(error, TooOld):
        return "too_old"
    if str(error) == TOO_DEEP:
        return "too_deep"
    return "too_large" if "larger than" in str(error) else "invalid"


async def batch(request: Request) -> Response:
    """POST /v1/batch: store every valid event, report the others by index."""
    received_at = now_ms()
    body = await read_body(request, schema.MAX_BODY_BYTES)
    envelope = _decode_envelope(body)
    site = _site(request, envelope.key)
    facts = request.app.state.enricher.facts(request, site, received_at, envelope.sent_at)
    decoded: list[schema.Event | ValueError] = []
    for raw in envelope.events:
        try:
            decoded.append(_event(raw))
        except ValueError as exc:
            decoded.append(exc)
    if envelope.sent_at is None:
        times = [e.ts for e in decoded if not isinstance(e, ValueError)]
        facts.sent_at = guess_sent_at(times, received_at)
        facts.clock_guessed = facts.sent_at is not None
    rows: list[EventRow] = []
    rejected: list[dict[str, object]] = []
    dead: list[DeadLetter] = []
    metrics = request.app.state.metrics
    names = request.app.state.enricher.sensitive_names(site)
    for index, (raw, event) in enumerate(zip(envelope.events, decoded, strict=True)):
        try:
            if isinstance(event, ValueError):
                raise event
            rows.append(request.app.state.enricher.row(to_row(event, facts), facts, site))
        except ValueError as exc:
            reason = str(exc)
            rejected.append({"index": index, "error": reason})
            # kept for debugging, but without the secrets its accepted twin would not keep
            dead.append(DeadLetter(source="batch", reason=reason, raw=strip_in_json(_text(raw), names)))
            metrics.rejected[_reason_kind(exc)] += 1
    result = await _commit(request, WriteBatch(
        site_id=site.id, received_at=received_at, verified=site.verified, context=facts.context,
        events=rows, dead=dead,
    ))
    metrics.accepted += len(rows)
    metrics.duplicates += result.duplicates
    return json_response({"accepted": len(rows), "rejected": rejected})


async def pixel(request: Request) -> Response:
    """GET /v1/p.gif: a pageview for pages without JavaScript; always answers the GIF."""
    headers = {"Cache-Control": "no-store", "Content-Type": "image/gif"}
    gif = Response(PIXEL, 200, headers)
    params = request.query_params
    received_at = now_ms()
    try:
        _admit(request)
        site = _site(request, params.get("k", ""), page=True)
        facts = request.app.state.enricher.facts(request, site, received_at, None)
        event = schema.Pageview(
            id=str(uuid.uuid4()), ts=received_at, url=params.get("u", "")[:2048] or None,
            referrer=params.get("r", "")[:2048] or None,
        )
        row = request.app.state.enricher.row(to_row(event, facts), facts, site)
        await _commit(request, WriteBatch(
            site_id=site.id, received_at=received_at, context=facts.context, events=[row],
        ))
        request.app.state.metrics.accepted += 1
    except (ClientError, ValueError, StoreFault):
        pass  # an image tag cannot read an error; the GIF keeps the page intact
    return gif


_chunk_decoder = msgspec.json.Decoder(schema.ReplayChunk)


async def replay(request: Request) -> Response:
    """POST /v1/replay: one chunk of a session recording, stored compressed."""
    body = await read_body(request, MAX_REPLAY_BODY)
    chunk = decode(_chunk_decoder, body, "replay chunk", MAX_REPLAY_DEPTH + 2)
    site = _site(request, chunk.key)
    names = request.app.state.enricher.sensitive_names(site)
    # Up to 2 MiB: checked, scrubbed and compressed off the event loop (zlib releases the GIL).
    packed = await run_in_threadpool(replay_limits.pack, chunk, names)
    ledger: replay_limits.ReplayLedger = request.app.state.replay_ledger
    received_at = now_ms()
    try:
        hold = ledger.reserve(site.id, chunk.session_id, len(packed.data), received_at)
    except replay_limits.OverBudget as over:
        # a retry of a chunk already held is acknowledged, not refused for the bytes it once added
        if request.app.state.store.chunk_held(site.id, chunk.session_id, chunk.seq):
            return json_response({"accepted": packed.count, "stored": False})
        if over.error.status == 413:
            await _commit(request, WriteBatch(
                site_id=site.id, received_at=received_at,
                dead=[DeadLetter(source="replay", reason=over.error.message,
                                 raw=f"session {chunk.session_id} seq {chunk.seq}")],
            ))
        # a site over its hourly or daily budget is refused without a dead letter per request:
        # a flood must not turn into dead-letter rows instead
        raise over.error from None
    stored = False
    try:
        result = await _commit(request, WriteBatch(
            site_id=site.id, received_at=received_at,
            chunks=[ChunkRow(session_id=chunk.session_id, anon_id=chunk.anon_id, seq=chunk.seq,
                             first_ts=packed.first_ts, last_ts=packed.last_ts, data=packed.data)],
        ))
        stored = bool(result.chunks_stored)
    finally:
        ledger.settle(hold, stored=stored)
    request.app.state.metrics.replay_chunks += result.chunks_stored
    if stored:  # copies of what it loads are made in the background (collector/assets/)
        request.app.state.asset_copies.offer(site, chunk.session_id, packed.last_ts, packed.data)
    return json_response({"accepted": packed.count, "stored": stored})


def _text(raw: bytes) -> str:
    return bytes(raw).decode("utf-8", "replace")
