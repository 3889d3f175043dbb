"""POST /v1/batch: decode the envelope, run each event through the pipeline, store the good ones
and report the others by index, acknowledged only after the commit."""

from __future__ import annotations

import re

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from collector import wire
from collector.depth import MAX_DEPTH, deep_items, deeper_than
from collector.enrich import guess_sent_at
from collector.enrich.urls import strip_in_json
from collector.errors import ClientError, decode, json_response
from collector.ingest.http import commit, now_ms, read_body, site_for, user_agent
from collector.ingest.pipeline import TOO_DEEP_MARK, Rejected
from collector.ingest.pipeline import decode as decode_event
from collector.store.model import DeadLetter, EventRow, WriteBatch

# A \uD800-\uDFFF escape without its partner. JSON.stringify emits these for strings cut in the
# middle of an emoji; msgspec refuses them anywhere in a body, which would lose the whole batch.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def _shallow(body: bytes) -> bytes:
    """The body with each event deeper than MAX_DEPTH replaced by TOO_DEEP_MARK, so that decoding
    the envelope cannot recurse without bound and the good events of the batch still count."""
    if not deeper_than(body, MAX_DEPTH + 2):  # the envelope object and its events array
        return body
    spans = deep_items(body, 2, MAX_DEPTH)
    if spans is None:
        raise ClientError(400, f"malformed JSON: {TOO_DEEP}, in a body too complex to split")
    parts, last = [], 0
    for start, end in spans:
        parts += [body[last:start], TOO_DEEP_MARK]
        last = end
    shallow = b"".join([*parts, body[last:]])
    if deeper_than(shallow, MAX_DEPTH + 2):  # deep outside any event: not a batch we can read
        raise ClientError(400, f"malformed JSON: {TOO_DEEP}")
    return shallow


def _careful(body: bytes) -> wire.Envelope:
    """The envelope of a body that did not decode as it is: deep events marked, lone surrogates
    repaired, or the 400 it earns."""
    body = _shallow(body)
    try:
        return wire.envelope_decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        repaired, count = _LONE_SURROGATE.subn(rb"\\ufffd", body)
        return decode(wire.envelope_decoder, repaired if count else body, "batch")


def decode_envelope(body: bytes) -> wire.Envelope:
    """The batch's envelope, its events still raw. Decoded as it is first: msgspec counts each
    level against Python's recursion limit and raises RecursionError, not a deeper recursion, so a
    body that nests too deep fails like any other bad body and only then is scanned (`_careful`).
    Scanning every body first cost a batch of 50 events as much as decoding it. An event deeper
    than MAX_DEPTH that still decodes stays raw here and is refused alone (pipeline.decode)."""
    try:
        envelope = wire.envelope_decoder.decode(body)
    except (RecursionError, msgspec.DecodeError, UnicodeDecodeError):
        envelope = _careful(body)
    if len(envelope.events) > wire.MAX_EVENTS:
        raise ClientError(
            413, f"too many events: {len(envelope.events)} > {wire.MAX_EVENTS} per batch"
        )
    return envelope


async def batch(request: Request, client_ip: str) -> Response:
    """POST /v1/batch: store every valid event, report the others by index."""
    received_at = now_ms()
    body = await read_body(request, wire.MAX_BODY_BYTES)
    envelope = decode_envelope(body)
    site = site_for(request, envelope.key)
    pipeline = request.app.state.pipeline
    facts = pipeline.facts(client_ip, user_agent(request), site, received_at, envelope.sent_at)
    decoded: list[wire.Event | Rejected] = []
    for raw in envelope.events:
        try:
            decoded.append(decode_event(bytes(raw)))  # msgspec.Raw is a buffer without bytes' methods
        except Rejected as rejection:
            decoded.append(rejection)
    if envelope.sent_at is None:
        times = [e.ts for e in decoded if not isinstance(e, Rejected)]
        facts.sent_at = guess_sent_at(times, received_at)
        facts.clock_guessed = facts.sent_at is not None
    rows: list[EventRow] = []
    rejected: list[dict[str, object]] = []
    dead: list[DeadLetter] = []
    metrics = request.app.state.metrics
    names = pipeline.sensitive_names(site)
    for index, (raw, event) in enumerate(zip(envelope.events, decoded, strict=True)):
        try:
            if isinstance(event, Rejected):
                raise event
            rows.append(pipeline.row(event, facts, site))
        except Rejected as rejection:
            rejected.append({"index": index, "error": rejection.message})
            # kept for debugging, but without the secrets its accepted twin would not keep
            raw_text = bytes(raw).decode("utf-8", "replace")
            dead.append(DeadLetter(source="batch", reason=rejection.message, kind=rejection.kind,
                                   raw=strip_in_json(raw_text, names)))
            metrics.rejected[rejection.kind] += 1
    result = await commit(request, WriteBatch(
        site_id=site.id, received_at=received_at, verified=site.verified, context=facts.context,
        events=rows, dead=dead,
    ))
    metrics.accepted += len(rows)
    metrics.duplicates += result.duplicates
    return json_response({"accepted": len(rows), "rejected": rejected})
