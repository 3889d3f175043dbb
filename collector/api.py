"""The analyst JSON API under /api; every route requires the admin token or a login session."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.auth import require_admin
from collector.errors import ClientError, json_response
from collector.query import sessions as session_queries
from collector.query.params import integer, time_range


def site_param(request: Request) -> str:
    site_id = request.query_params.get("site")
    if not site_id:
        sites = request.app.state.store.sites()
        if len(sites) == 1:  # one site: nothing to choose
            return sites[0].id
        raise ClientError(400, "site is required (see /api/sites)")
    if site_id not in {s.id for s in request.app.state.store.sites()}:
        raise ClientError(404, f"no site {site_id!r}")
    return site_id


def admin(endpoint):  # type: ignore[no-untyped-def]
    """Wrap a sync endpoint: check the admin, run it off the event loop, answer JSON."""

    def run(request: Request) -> Response:
        require_admin(request)
        result = endpoint(request)
        return result if isinstance(result, Response) else json_response(result)

    return run


@admin
def sites(request: Request) -> Any:
    return {
        "sites": [
            {"id": s.id, "name": s.name, "write_key": s.write_key, "origins": list(s.origins)}
            for s in request.app.state.store.sites()
        ]
    }


@admin
def sessions(request: Request) -> Any:
    q = request.query_params
    start, end = time_range(q.get("from"), q.get("to"))
    with request.app.state.store.read() as conn:
        return session_queries.list_sessions(
            conn, site_param(request), start, end,
            limit=integer(q.get("limit"), 50, name="limit", lo=1, hi=500),
            cursor=q.get("cursor"),
            include_bots=q.get("bots") == "1",
        )


@admin
def session(request: Request) -> Any:
    with request.app.state.store.read() as conn:
        found = session_queries.get_session(
            conn, request.path_params["id"], request.query_params.get("site")
        )
    if found is None:
        raise ClientError(404, "no such session")
    return found


@admin
def rejected(request: Request) -> Any:
    q = request.query_params
    start, end = time_range(q.get("from"), q.get("to"))
    limit = integer(q.get("limit"), 100, name="limit", lo=1, hi=1000)
    with request.app.state.store.read() as conn:
        rows = conn.execute(
            "SELECT rowid AS id, site_id, received_at, source, reason, raw FROM dead_letters"
            " WHERE site_id IS ? AND received_at >= ? AND received_at < ?"
            " ORDER BY rowid DESC LIMIT ?",
            (site_param(request), start, end, limit),
        ).fetchall()
    return {"rejected": [dict(r) for r in rows]}


def decode_json(body: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        raise ClientError(400, f"invalid request: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ClientError(400, f"malformed JSON: {exc}") from None


routes = [
    Route("/api/sites", sites),
    Route("/api/sessions", sessions),
    Route("/api/sessions/{id}", session),
    Route("/api/rejected", rejected),
]
