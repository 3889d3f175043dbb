"""GET /api/heatmap, /api/heatmap/pages and /api/heatmap/snapshot, and the viewer page's routes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.api.base import admin, checked_range, returns, site_param
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.heatmap import Scope
from collector.query.scope import exposure_filters


def _scope(request: Request) -> Scope:
    q = request.query_params
    start, end = checked_range(q.get("from"), q.get("to"))
    rage = q.get("rage", "0")
    if rage not in ("0", "1", "true", "false"):
        raise ClientError(400, "rage must be 0 or 1")
    return Scope(
        site_id=site_param(request), url=q.get("url", ""), device=q.get("device", ""),
        start=start, end=end, rage=rage in ("1", "true"), exposures=exposure_filters(q),
    )


@admin
def heatmap(request: Request) -> Any:
    kind = request.query_params.get("kind", "click")
    if kind not in ("click", "scroll"):
        raise ClientError(400, "kind must be click or scroll")
    scope = _scope(request)
    store = request.app.state.store
    return store.heatmap_clicks(scope) if kind == "click" else store.heatmap_scroll(scope)


@admin
def pages(request: Request) -> Any:
    q = request.query_params
    start, end = checked_range(q.get("from"), q.get("to"))
    site_id = site_param(request)
    return {"pages": request.app.state.store.heatmap_pages(site_id, start, end)}


@admin
def snapshot(request: Request) -> Any:
    scope = _scope(request)
    found = request.app.state.store.heatmap_snapshot(scope)
    if found is None:
        raise ClientError(404, "no recorded snapshot of this page for this device")
    return found


@admin
def moment(request: Request) -> Any:
    """Where to rebuild the page as it stood when an element was clicked: a session and its time."""
    scope = _scope(request)
    sel = request.query_params.get("sel", "")
    if not sel:
        raise ClientError(400, "sel is required: the clicked element's selector")
    found = request.app.state.store.heatmap_click_moment(scope, sel)
    if found is None:
        raise ClientError(404, "no recorded session holds a click on this element")
    return found


routes = [
    Route("/heatmap", returns(a.Heatmap, heatmap)),
    Route("/heatmap/pages", returns(a.HeatmapPages, pages)),
    Route("/heatmap/snapshot", returns(a.Snapshot, snapshot)),
    Route("/heatmap/moment", returns(a.ClickMoment, moment)),
]
