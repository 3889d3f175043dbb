"""GET /api/rejected: the dead letters, events the collector refused, newest first."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, api
from collector.api.base import calendar_of, site_param
from collector.query import answers as a
from collector.query.params import (
    integer,
    time_range,
)
from collector.replies import returns


@api(ANALYST)
def rejected(request: Request) -> Any:
    q = request.query_params
    site_id = site_param(request)
    start, end = time_range(q.get("from"), q.get("to"), calendar_of(request, site_id))
    limit = integer(q.get("limit"), 100, name="limit", lo=1, hi=1000)
    rows = request.app.state.store.rejected(site_id=site_id, start=start, end=end, limit=limit)
    return {"rejected": rows}


routes = [
    Route("/rejected", returns(a.Rejected, rejected)),
]
