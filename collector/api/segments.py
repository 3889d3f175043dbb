"""Saved segments: named filter sets, listed, created and deleted under /api/segments."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, VIEWER, api, api_post
from collector.api.base import decode_json, site_param, site_settings
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.scope import check_filters
from collector.replies import Reply, returns


class NewSegment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    filters: dict[str, str | int | float | bool]
    site: str | None = None


@api(VIEWER)
def segments(request: Request) -> Any:
    return {"segments": request.app.state.store.segments(site_param(request))}


@api_post(ANALYST)
def create_segment(request: Request, body: bytes) -> Any:
    ask = decode_json(body, NewSegment)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    filters = check_filters(ask.filters)
    segment = request.app.state.store.create_segment(site_id, ask.name, filters)
    return Reply(segment, 201)


@api_post(ANALYST)
def delete_segment(request: Request, body: bytes) -> Any:
    segment_id = request.path_params["id"]
    if not (segment_id.isascii() and segment_id.isdigit() and len(segment_id) <= 18):
        raise ClientError(400, "a segment id is a number")
    if not request.app.state.store.delete_segment(site_param(request), int(segment_id)):
        raise ClientError(404, f"no segment {segment_id} for this site")
    return {"deleted": int(segment_id)}


routes = [
    Route("/segments", returns(a.Segments, segments)),
    Route("/segments", returns(a.Segment, create_segment, 201), methods=["POST"]),
    Route("/segments/{id}", returns(a.Deleted, delete_segment), methods=["DELETE"]),
]
