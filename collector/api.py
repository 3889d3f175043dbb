"""The analyst JSON API under /api; every route requires the admin token or a login session."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.auth import require_admin
from collector.body import read_limited
from collector.errors import ClientError, decode, json_response
from collector.query import commerce as commerce_queries
from collector.query import funnel as funnel_queries
from collector.query import overview as overview_queries
from collector.query import paths as path_queries
from collector.query import persons as person_queries
from collector.query import rejected as rejected_queries
from collector.query import retention as retention_queries
from collector.query import segments as segment_queries
from collector.query import sessions as session_queries
from collector.query import surveys as survey_queries
from collector.query.filters import Scope, build_scope, check_filters
from collector.query.params import DAY_MS, integer, time_bound, time_range

DEFAULT_DAYS = 30
# Funnel steps, segment filters: a few KiB at most. Read no further than this.
MAX_API_BODY = 64 * 1024


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


def admin_post(endpoint):  # type: ignore[no-untyped-def]
    """Like `admin` for endpoints that read a JSON body: `endpoint(request, body)`."""

    async def run(request: Request) -> Response:
        require_admin(request)
        body = await read_limited(request, MAX_API_BODY)
        result = await run_in_threadpool(endpoint, request, body)
        return result if isinstance(result, Response) else json_response(result)

    return run


def site_settings(request: Request, site_id: str) -> Mapping[str, object]:
    for site in request.app.state.store.sites():
        if site.id == site_id:
            return site.settings
    raise ClientError(404, f"no site {site_id!r}")


def checked_range(start: str | None, end: str | None) -> tuple[int, int]:
    lo, hi = time_range(start, end)
    if lo >= hi:
        raise ClientError(400, "from must be before to")
    return lo, hi


def charted_range(start: str | None, end: str | None) -> tuple[int, int]:
    """A bounded range for pages with a daily chart: the last 30 days by default."""
    hi = time_bound(end, end=True)
    if hi is None:
        today = dt.datetime.now(dt.UTC).date()
        hi = int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp() * 1000) + DAY_MS
    lo = time_bound(start, end=False)
    if lo is None:
        lo = hi - DEFAULT_DAYS * DAY_MS
    if lo >= hi:
        raise ClientError(400, "from must be before to")
    if hi - lo > overview_queries.MAX_DAYS * DAY_MS:
        raise ClientError(400, f"the range may span at most {overview_queries.MAX_DAYS} days")
    return lo, hi


def scope_of(
    request: Request, conn: sqlite3.Connection, *, charted: bool = False,
    params: Mapping[str, str] | None = None, site_id: str | None = None,
) -> Scope:
    """The sessions a request asks about: site, range, filters, segment, bots."""
    q = request.query_params if params is None else params
    site_id = site_id or site_param(request)
    start, end = (charted_range if charted else checked_range)(q.get("from"), q.get("to"))
    return build_scope(conn, site_id, site_settings(request, site_id), start, end, q)


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
    limit = integer(q.get("limit"), 50, name="limit", lo=1, hi=500)
    with request.app.state.store.read() as conn:
        return session_queries.list_in_scope(
            conn, scope_of(request, conn), limit=limit, cursor=q.get("cursor")
        )


@admin
def overview(request: Request) -> Any:
    with request.app.state.store.read() as conn:
        return overview_queries.overview(conn, scope_of(request, conn, charted=True))


@admin_post
def funnel(request: Request, body: bytes) -> Any:
    ask = decode_json(body, funnel_queries.FunnelRequest)
    params = {k: v for k, v in ask.filters.items()}
    for name, value in (("from", ask.from_), ("to", ask.to), ("segment", ask.segment)):
        if value is not None:
            params[name] = str(value)
    params["bots"] = "1" if ask.bots else "0"
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    with request.app.state.store.read() as conn:
        scope = scope_of(request, conn, params=params, site_id=site_id)
        return funnel_queries.funnel(conn, scope, ask.steps, ask.window_s)


@admin
def paths(request: Request) -> Any:
    q = request.query_params
    depth = integer(q.get("depth"), 3, name="depth", lo=1, hi=10)
    with request.app.state.store.read() as conn:
        scope = scope_of(request, conn)
        # Without from_url: the site's most viewed page, so the first look already shows journeys.
        from_url = q.get("from_url") or path_queries.top_page(conn, scope) or "/"
        return {**path_queries.paths(conn, scope, from_url, depth), "from_url": from_url}


@admin
def retention(request: Request) -> Any:
    weeks = integer(request.query_params.get("weeks"), 8, name="weeks", lo=1, hi=52)
    with request.app.state.store.read() as conn:
        return retention_queries.retention(conn, scope_of(request, conn), weeks)


@admin
def commerce(request: Request) -> Any:
    with request.app.state.store.read() as conn:
        return commerce_queries.commerce(conn, scope_of(request, conn, charted=True))


@admin
def surveys(request: Request) -> Any:
    with request.app.state.store.read() as conn:
        return survey_queries.surveys(
            conn, scope_of(request, conn, charted=True), request.query_params.get("survey_id")
        )


@admin
def person(request: Request) -> Any:
    site_id = site_param(request)
    with request.app.state.store.read() as conn:
        found = person_queries.person(conn, site_id, request.path_params["id"])
    if found is None:
        raise ClientError(404, "no such person")
    return found


class NewSegment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    filters: dict[str, str | int | float | bool]
    site: str | None = None


@admin
def segments(request: Request) -> Any:
    with request.app.state.store.read() as conn:
        return {"segments": segment_queries.list_segments(conn, site_param(request))}


@admin_post
def create_segment(request: Request, body: bytes) -> Any:
    ask = decode_json(body, NewSegment)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    filters = check_filters(ask.filters)
    segment = segment_queries.create_segment(request.app.state.store.path, site_id, ask.name, filters)
    return json_response(segment, 201)


@admin_post
def delete_segment(request: Request, body: bytes) -> Any:
    segment_id = request.path_params["id"]
    if not (segment_id.isascii() and segment_id.isdigit() and len(segment_id) <= 18):
        raise ClientError(400, "a segment id is a number")
    if not segment_queries.delete_segment(request.app.state.store.path, site_param(request), int(segment_id)):
        raise ClientError(404, f"no segment {segment_id} for this site")
    return {"deleted": int(segment_id)}


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
        rows = rejected_queries.rejected(conn, site_id=site_param(request), start=start, end=end, limit=limit)
    return {"rejected": rows}


@cache
def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode_json(body: bytes, kind: type[Any]) -> Any:
    return decode(_decoder(kind), body, "request")


routes = [
    Route("/api/sites", sites),
    Route("/api/sessions", sessions),
    Route("/api/sessions/{id}", session),
    Route("/api/overview", overview),
    Route("/api/funnel", funnel, methods=["POST"]),
    Route("/api/paths", paths),
    Route("/api/retention", retention),
    Route("/api/commerce", commerce),
    Route("/api/surveys", surveys),
    Route("/api/persons/{id}", person),
    Route("/api/segments", segments),
    Route("/api/segments", create_segment, methods=["POST"]),
    Route("/api/segments/{id}", delete_segment, methods=["DELETE"]),
    Route("/api/rejected", rejected),
]
