"""The analyst's reports, each a question to the store in a scope: overview, funnel, paths,
retention, commerce, surveys, custom events, Web Vitals, JS errors, the live view, and the
sessions export."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from collector.access import ANALYST, VIEWER, api, api_post
from collector.api import export
from collector.api import sites as site_settings_view
from collector.api.base import decode_json, scope_of, site_goals, site_param, site_settings
from collector.query import answers as a
from collector.query.funnel import FunnelRequest
from collector.query.params import (
    integer,
    interval_width,
)
from collector.query.paths import WIDTH
from collector.replies import Csv, returns

EXPORT_PAGE = 1000


@api(VIEWER)
def overview(request: Request) -> Any:
    scope = scope_of(request, charted=True)
    width = interval_width(request.query_params.get("interval"), scope.start, scope.end)
    result = request.app.state.store.overview(scope, width=width, goals=tuple(site_goals(request, scope.site_id)))
    result["goal"] = request.query_params.get("goal") or None
    settings = dict(site_settings(request, scope.site_id))
    result["shop"] = site_settings_view.is_shop(settings, result.pop("commerce_seen"))
    result["currency"] = site_settings_view.public(settings)["currency"]
    return result


@api_post(ANALYST)
def funnel(request: Request, body: bytes) -> Any:
    ask = decode_json(body, FunnelRequest)
    params = {k: v for k, v in ask.filters.items()}
    for name, value in (("from", ask.from_), ("to", ask.to), ("segment", ask.segment)):
        if value is not None:
            params[name] = str(value)
    params["bots"] = "1" if ask.bots else "0"
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    scope = scope_of(request, params=params, site_id=site_id)
    return request.app.state.store.funnel(scope, ask.steps, ask.window_s)


@api(VIEWER)
def paths(request: Request) -> Any:
    q = request.query_params
    depth = integer(q.get("depth"), 3, name="depth", lo=1, hi=10)
    width = integer(q.get("width"), WIDTH, name="width", lo=2, hi=100)
    store = request.app.state.store
    scope = scope_of(request)
    # Without from_url: the site's most viewed page, so the first look already shows journeys.
    from_url = q.get("from_url") or store.top_page(scope) or "/"
    return {**store.paths(scope, from_url, depth, width), "from_url": from_url}


@api(VIEWER)
def retention(request: Request) -> Any:
    weeks = integer(request.query_params.get("weeks"), 8, name="weeks", lo=1, hi=52)
    return request.app.state.store.retention(scope_of(request), weeks)


@api(VIEWER)
def commerce(request: Request) -> Any:
    return request.app.state.store.commerce(scope_of(request, charted=True))


@api(VIEWER)
def surveys(request: Request) -> Any:
    return request.app.state.store.surveys(
        scope_of(request, charted=True), request.query_params.get("survey_id")
    )


@api(VIEWER)
def custom_events(request: Request) -> Any:
    name = request.query_params.get("name") or None
    return request.app.state.store.custom_events(scope_of(request, charted=True), name)


@api(VIEWER)
def vitals(request: Request) -> Any:
    return request.app.state.store.vitals(scope_of(request, charted=True))


@api(ANALYST)  # examples name sessions
def errors(request: Request) -> Any:
    return {"errors": request.app.state.store.errors(scope_of(request, charted=True))}


@api(ANALYST)  # the latest events name sessions and visitors
def live(request: Request) -> Any:
    return request.app.state.store.live(site_param(request), int(time.time() * 1000))


@api(ANALYST)
def export_sessions(request: Request) -> StreamingResponse:
    """Every session in scope (filters, segment, goal) as CSV, streamed a page at a time;
    X-Total-Count says how many rows will come, for a progress bar."""
    scope = scope_of(request)
    store = request.app.state.store
    first = store.sessions_page(scope, limit=EXPORT_PAGE, cursor=None)

    def pages() -> Iterator[list[dict[str, Any]]]:
        page = first
        while True:
            yield page["sessions"]
            if not page["next"]:
                return
            page = store.sessions_page(scope, limit=EXPORT_PAGE, cursor=page["next"])

    return StreamingResponse(
        export.stream_csv(pages(), export.SESSION_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="sessions-{scope.site_id}.csv"',
            "X-Total-Count": str(first["total"]),
        },
    )


routes = [
    Route("/overview", returns(a.Overview, overview)),
    Route("/funnel", returns(a.Funnel, funnel), methods=["POST"]),
    Route("/paths", returns(a.Paths, paths)),
    Route("/retention", returns(a.Retention, retention)),
    Route("/commerce", returns(a.Commerce, commerce)),
    Route("/surveys", returns(a.Surveys, surveys)),
    Route("/events", returns(a.CustomEvents, custom_events)),
    Route("/vitals", returns(a.Vitals, vitals)),
    Route("/errors", returns(a.Errors, errors)),
    Route("/live", returns(a.Live, live)),
    Route("/export/sessions", returns(Csv, export_sessions)),
]
