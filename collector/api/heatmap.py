"""GET /api/heatmap, /api/heatmap/pages and /api/heatmap/snapshot, and the viewer page's routes."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, VIEWER, api
from collector.api.base import calendar_of, checked_range, site_param
from collector.assets.service import rewrite_found
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.heatmap import Scope
from collector.query.scope import boolean, exposure_filters
from collector.replies import returns


def _scope(request: Request) -> Scope:
    q = request.query_params
    site_id = site_param(request)
    start, end = checked_range(q.get("from"), q.get("to"), calendar_of(request, site_id))
    rage = boolean(q.get("rage") or "0", "rage")
    return Scope(
        site_id=site_id, url=q.get("url", ""), device=q.get("device", ""),
        start=start, end=end, rage=rage, exposures=exposure_filters(q),
    )


@api(VIEWER)
def heatmap(request: Request) -> Any:
    kind = request.query_params.get("kind", "click")
    if kind not in ("click", "scroll"):
        raise ClientError(400, "kind must be click or scroll")
    scope = _scope(request)
    store = request.app.state.store
    return store.heatmap_clicks(scope) if kind == "click" else store.heatmap_scroll(scope)


@api(VIEWER)
def pages(request: Request) -> Any:
    q = request.query_params
    site_id = site_param(request)
    start, end = checked_range(q.get("from"), q.get("to"), calendar_of(request, site_id))
    return {"pages": request.app.state.store.heatmap_pages(site_id, start, end)}


@api(ANALYST)
def snapshot(request: Request) -> Any:
    scope = _scope(request)
    store = request.app.state.store
    found = store.heatmap_snapshot(scope)
    if found is None:
        raise ClientError(404, "no recorded snapshot of this page for this device")
    return rewrite_found(store, scope.site_id, found)


@api(ANALYST)
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
