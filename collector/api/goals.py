"""Saved goals under /api/goals, and filter suggestions (GET /api/suggest)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import OWNER, VIEWER, api, api_post
from collector.api.base import decode_json, scope_of, site_param, site_settings
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.goals import MAX_GOALS, GoalDefinition, goal_id
from collector.query.params import (
    integer,
)
from collector.replies import Reply, returns

# The filter fields that have suggestions (collector/query/scope.py FILTERS that take free text).
SUGGESTED = ("country", "region", "device", "browser", "os", "channel", "campaign", "source", "page",
             "entry", "exit", "referrer")


@api(VIEWER)
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


@api(VIEWER)
def goals(request: Request) -> Any:
    return {"goals": request.app.state.store.goals(site_param(request))}


@api_post(OWNER)
def create_goal(request: Request, body: bytes) -> Any:
    ask = decode_json(body, GoalDefinition).check()
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    made = request.app.state.store.create_goal(site_id, ask.name, ask.stored(), MAX_GOALS)
    if made is None:
        raise ClientError(409, f"a site has at most {MAX_GOALS} goals; delete one first")
    return Reply(made, 201)


@api_post(OWNER)
def delete_goal(request: Request, body: bytes) -> Any:
    found = goal_id(request.path_params["id"])
    if not request.app.state.store.delete_goal(site_param(request), found):
        raise ClientError(404, f"no goal {found} for this site")
    return {"deleted": found}


routes = [
    Route("/suggest", returns(a.Suggestions, suggest)),
    Route("/goals", returns(a.Goals, goals)),
    Route("/goals", returns(a.Goal, create_goal, 201), methods=["POST"]),
    Route("/goals/{id}", returns(a.Deleted, delete_goal), methods=["DELETE"]),
]
