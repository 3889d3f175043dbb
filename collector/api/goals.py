"""The analyst's daily tools under /api: filter suggestions, goals, custom events, Web Vitals,
JS errors, the live view and exports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from collector.api import export
from collector.api.reports import admin, admin_post, decode_json, scope_of, site_param, site_settings
from collector.auth import require_admin
from collector.errors import ClientError, json_response
from collector.query import vitals as vitals_report
from collector.query.goals import MAX_GOALS, GoalDefinition, goal_id
from collector.query.params import integer

# The filter fields that have suggestions (collector/query/scope.py FILTERS that take free text).
SUGGESTED = ("country", "region", "device", "browser", "os", "channel", "campaign", "source", "page",
             "entry", "exit", "referrer")
EXPORT_PAGE = 1000


@admin
def suggest(request: Request) -> Any:
    q = request.query_params
    field = q.get("field", "")
    if field not in SUGGESTED:
        raise ClientError(400, f"field must be one of {', '.join(SUGGESTED)}")
    # Suggest within the other filters: a field's own value must not hide its alternatives.
    params = {k: v for k, v in q.items() if k != field}
    scope = scope_of(request, params=params)
    limit = integer(q.get("limit"), 20, name="limit", lo=1, hi=100)
    found = request.app.state.store.suggest(scope, field, q.get("q", "")[:200], limit)
    return {"field": field, "values": [{"value": v, "sessions": n} for v, n in found]}


@admin
def goals(request: Request) -> Any:
    return {"goals": request.app.state.store.goals(site_param(request))}


@admin_post
def create_goal(request: Request, body: bytes) -> Any:
    ask = decode_json(body, GoalDefinition).check()
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    made = request.app.state.store.create_goal(site_id, ask.name, ask.stored(), MAX_GOALS)
    if made is None:
        raise ClientError(409, f"a site has at most {MAX_GOALS} goals; delete one first")
    return json_response(made, 201)


@admin_post
def delete_goal(request: Request, body: bytes) -> Any:
    found = goal_id(request.path_params["id"])
    if not request.app.state.store.delete_goal(site_param(request), found):
        raise ClientError(404, f"no goal {found} for this site")
    return {"deleted": found}


@admin
def custom_events(request: Request) -> Any:
    name = request.query_params.get("name") or None
    return request.app.state.store.custom_events(scope_of(request, charted=True), name)


@admin
def vitals(request: Request) -> Any:
    return vitals_report.report(request.app.state.store.vital_values(scope_of(request, charted=True)))


@admin
def errors(request: Request) -> Any:
    return {"errors": request.app.state.store.errors(scope_of(request, charted=True))}


@admin
def live(request: Request) -> Any:
    return request.app.state.store.live(site_param(request), int(time.time() * 1000))


def export_sessions(request: Request) -> StreamingResponse:
    """Every session in scope (filters, segment, goal) as CSV, streamed a page at a time;
    X-Total-Count says how many rows will come, for a progress bar."""
    require_admin(request)
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
    Route("/api/suggest", suggest),
    Route("/api/goals", goals),
    Route("/api/goals", create_goal, methods=["POST"]),
    Route("/api/goals/{id}", delete_goal, methods=["DELETE"]),
    Route("/api/events", custom_events),
    Route("/api/vitals", vitals),
    Route("/api/errors", errors),
    Route("/api/live", live),
    Route("/api/export/sessions", export_sessions),
]
