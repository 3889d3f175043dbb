"""GET /api/sessions/{id}/replay: a session's rrweb events in order, streamed chunk by chunk."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from collector.auth import require_admin
from collector.errors import ClientError
from collector.store import Store


def inner_events(data: bytes) -> bytes:
    """A stored chunk is a gzipped JSON array of events; its elements, without the brackets."""
    array = zlib.decompress(data, wbits=16 + zlib.MAX_WBITS)
    return array[1:-1].strip()


def stream_events(store: Store, site_id: str, session_id: str) -> Iterator[bytes]:
    """`{"events":[...]}` one stored chunk at a time: memory holds one chunk, never the session."""
    yield b'{"events":['
    first = True
    for data in store.replay_chunks(site_id, session_id):
        events = inner_events(data)
        if not events:
            continue
        yield events if first else b"," + events
        first = False
    yield b"]}"


def replay(request: Request) -> Response:
    require_admin(request)
    session_id = request.path_params["id"]
    store = request.app.state.store
    site_id = store.replay_site(session_id, request.query_params.get("site"))
    if site_id is None or not store.has_replay(site_id, session_id):
        raise ClientError(404, "no replay for this session")
    return StreamingResponse(
        stream_events(store, site_id, session_id),
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},
    )


routes = [Route("/api/sessions/{id}/replay", replay)]
