"""GET /api/sessions/{id}/replay: a session's rrweb events in order, streamed chunk by chunk."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from collector.auth import require_admin
from collector.errors import ClientError
from collector.store import SQLiteStore


def replay_site(conn: sqlite3.Connection, session_id: str, site_id: str | None) -> str | None:
    """The site whose replay is asked for: given, else the session's site, else the only site."""
    if site_id:
        return site_id
    row = conn.execute("SELECT site_id FROM sessions WHERE id = ? LIMIT 1", (session_id,)).fetchone()
    if row is not None:
        return str(row[0])
    sites = conn.execute("SELECT id FROM sites LIMIT 2").fetchall()
    return str(sites[0][0]) if len(sites) == 1 else None


def has_replay(conn: sqlite3.Connection, site_id: str, session_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM replay_chunks WHERE site_id = ? AND session_id = ? LIMIT 1",
        (site_id, session_id),
    ).fetchone()
    return found is not None


def inner_events(data: bytes) -> bytes:
    """A stored chunk is a gzipped JSON array of events; its elements, without the brackets."""
    array = zlib.decompress(data, wbits=16 + zlib.MAX_WBITS)
    return array[1:-1].strip()


def stream_events(store: SQLiteStore, site_id: str, session_id: str) -> Iterator[bytes]:
    """`{"events":[...]}` one stored chunk at a time: memory holds one chunk, never the session."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT data FROM replay_chunks WHERE site_id = ? AND session_id = ? ORDER BY seq",
            (site_id, session_id),
        )
        yield b'{"events":['
        first = True
        for (data,) in rows:
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
    with store.read() as conn:
        site_id = replay_site(conn, session_id, request.query_params.get("site"))
        if site_id is None or not has_replay(conn, site_id, session_id):
            raise ClientError(404, "no replay for this session")
    return StreamingResponse(
        stream_events(store, site_id, session_id),
        media_type="application/json",
        headers={"Cache-Control": "private, no-store"},
    )


routes = [Route("/api/sessions/{id}/replay", replay)]
