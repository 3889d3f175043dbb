"""GET /api/sessions/{id}/replay: a session's rrweb events in order, streamed chunk by chunk,
whole or in pages of chunks (`from_seq`, `chunks`) that a player appends as it plays."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from collector.access import ANALYST, api
from collector.assets.refs import rewrite_json
from collector.assets.service import copies_of
from collector.errors import ClientError
from collector.query import answers as a
from collector.replies import returns
from collector.store import Store
from collector.wire import json_encoder

PAGE_CHUNKS = 20
MAX_PAGE_CHUNKS = 100
# A page ends after the chunk that takes its events past this much JSON (a chunk inflates to at
# most 2 MiB, so a page holds at most about 10 MiB): a player's memory grows by pages as it plays.
PAGE_JSON_BYTES = 8 * 1024 * 1024
MAX_SEQ = 1_000_000


def inner_events(data: bytes) -> bytes:
    """A stored chunk is a gzipped JSON array of events; its elements, without the brackets."""
    array = zlib.decompress(data, wbits=16 + zlib.MAX_WBITS)
    return array[1:-1].strip()


def stream_events(store: Store, site_id: str, session_id: str) -> Iterator[bytes]:
    """`{"events":[...]}` one stored chunk at a time: memory holds one chunk, never the session."""
    copies = copies_of(store, site_id, session_id)
    yield b'{"events":['
    first = True
    for data in store.replay_chunks(site_id, session_id):
        events = rewrite_json(inner_events(data), copies)
        if not events:
            continue
        yield events if first else b"," + events
        first = False
    yield b"]}"


def stream_page(
    store: Store, site_id: str, session_id: str, from_seq: int, chunks: int
) -> Iterator[bytes]:
    """One page: the events of up to `chunks` chunks from `from_seq` on, where the next page starts
    (`next_seq`, null after the last chunk), and the whole recording's extent for the timeline."""
    recording = store.replay_extent(site_id, session_id)
    copies = copies_of(store, site_id, session_id)
    yield b'{"events":['
    sent, to_seq, next_seq = 0, None, None
    # one chunk more than the page holds: its seq is where the next page starts
    for index, (seq, data) in enumerate(store.replay_chunks_from(site_id, session_id, from_seq, chunks + 1)):
        if index == chunks or sent >= PAGE_JSON_BYTES:
            next_seq = seq
            break
        events = rewrite_json(inner_events(data), copies)
        if events:
            yield events if sent == 0 else b"," + events
            sent += len(events)
        to_seq = seq
    tail = {"from_seq": from_seq, "to_seq": to_seq, "next_seq": next_seq, "recording": recording}
    yield b"]," + json_encoder.encode(tail)[1:]


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ClientError(400, f"{name} must be an integer from {low} to {high}")
    return int(raw)


@api(ANALYST)
def replay(request: Request) -> Response:
    session_id = request.path_params["id"]
    store = request.app.state.store
    paged = "from_seq" in request.query_params or "chunks" in request.query_params
    from_seq = _int_param(request, "from_seq", 0, 0, MAX_SEQ)
    chunks = _int_param(request, "chunks", PAGE_CHUNKS, 1, MAX_PAGE_CHUNKS)
    site_id = store.replay_site(session_id, request.query_params.get("site"))
    if site_id is None or not store.has_replay(site_id, session_id):
        raise ClientError(404, "no replay for this session")
    body = (stream_page(store, site_id, session_id, from_seq, chunks) if paged
            else stream_events(store, site_id, session_id))
    return StreamingResponse(
        body, media_type="application/json", headers={"Cache-Control": "private, no-store"},
    )


routes = [Route("/sessions/{id}/replay", returns(a.ReplayEvents, replay))]
