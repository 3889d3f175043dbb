"""GET /api/sessions (a page of sessions, sortable, in scope) and /api/sessions/{id} (one session's events)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, api
from collector.api.base import scope_of
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.params import (
    SESSION_SORTS,
    integer,
    sort_order,
)
from collector.replies import returns


@api(ANALYST)
def sessions(request: Request) -> Any:
    q = request.query_params
    limit = integer(q.get("limit"), 50, name="limit", lo=1, hi=500)
    sort, descending = sort_order(q.get("sort"), q.get("order"), SESSION_SORTS)
    return request.app.state.store.sessions_page(
        scope_of(request), limit=limit, cursor=q.get("cursor"), sort=sort, descending=descending
    )


@api(ANALYST)
def session(request: Request) -> Any:
    found = request.app.state.store.session(request.path_params["id"], request.query_params.get("site"))
    if found is None:
        raise ClientError(404, "no such session")
    return found


routes = [
    Route("/sessions", returns(a.SessionsPage, sessions)),
    Route("/sessions/{id}", returns(a.Session, session)),
]
