"""What every analyst endpoint shares: the admin check and JSON/CSV answers, the site, the date
range, the scope (filters, segment, goal) and request bodies."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, TypeVar

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector.api import export
from collector.auth import require_admin
from collector.errors import ClientError, decode
from collector.ingest.http import read_limited
from collector.query.days import UTC_DAYS, Calendar
from collector.query.goals import goal_id, goal_of
from collector.query.params import (
    MAX_DAYS,
    time_bound,
    time_range,
)
from collector.query.scope import Goal, Scope, build_scope
from collector.store import Site
from collector.wire import json_encoder

DEFAULT_DAYS = 30
# Funnel steps, segment filters: a few KiB at most. Read no further than this.
MAX_API_BODY = 64 * 1024


def site_param(request: Request) -> str:
    site_id = request.query_params.get("site")
    if not site_id:
        sites: list[Site] = request.app.state.store.sites()
        if len(sites) == 1:  # one site: nothing to choose
            return sites[0].id
        raise ClientError(400, "site is required (see /api/sites)")
    if site_id not in {s.id for s in request.app.state.store.sites()}:
        raise ClientError(404, f"no site {site_id!r}")
    return site_id


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class Csv:
    """The declared answer of a route that answers text/csv."""


def returns(answer: Any, endpoint: Endpoint, status: int = 200) -> Endpoint:
    """Declare the type of a route's answer (a msgspec Struct of collector/query/answers): the
    wrapper converts the endpoint's answer to it, and /openapi.json documents it."""
    endpoint.answer = answer  # type: ignore[attr-defined]
    endpoint.answer_status = status  # type: ignore[attr-defined]
    return endpoint


@dataclass(frozen=True)
class Reply:
    """An answer with its own status or headers (201 for what was created, a download's name)."""

    value: Any
    status: int = 200
    headers: dict[str, str] | None = None


def answer_bytes(value: Any, answer: Any) -> bytes:
    """The JSON of an answer as its declared type: converted strictly, so an answer that drifts
    from its type is a fault of ours (a 500 naming the field), never a silently wrong document."""
    if answer is None:
        return json_encoder.encode(value)
    try:
        typed = msgspec.convert(value, answer, strict=True)
    except msgspec.ValidationError as e:
        raise TypeError(f"the answer is not a {getattr(answer, '__name__', answer)}: {e}") from e
    return json_encoder.encode(typed)


def _reply(run: Callable[..., Any], result: Any, headers: dict[str, str] | None = None) -> Response:
    reply = result if isinstance(result, Reply) else Reply(result, headers=headers)
    content = answer_bytes(reply.value, getattr(run, "answer", None))
    return Response(content, reply.status, reply.headers, "application/json")


def admin(endpoint: Callable[[Request], Any]) -> Callable[[Request], Response]:
    """Wrap a sync endpoint: check the admin, run it off the event loop, answer JSON as the
    route's declared type (`returns`).

    Every report also downloads: `format=csv&table=NAME` gives one of its tables as CSV,
    `download=1` the JSON as a file.
    """

    def run(request: Request) -> Response:
        require_admin(request)
        q = request.query_params
        wanted = q.get("format", "json")
        if wanted not in ("json", "csv"):
            raise ClientError(400, f"format must be json or csv, not {wanted!r}")
        result = endpoint(request)
        if isinstance(result, Response):
            return result
        if isinstance(result, Reply):
            return _reply(run, result)
        name = request.url.path.rsplit("/", 1)[-1] or "report"
        if wanted == "csv":
            if not isinstance(result, dict):
                raise ClientError(400, "this answer has no table to export")
            table = q.get("table") or None
            return Response(export.table_csv(result, table), 200, {
                "Content-Disposition": f'attachment; filename="{name}-{table or "table"}.csv"',
            }, "text/csv; charset=utf-8")
        headers = {"Content-Disposition": f'attachment; filename="{name}.json"'} if q.get("download") else None
        return _reply(run, result, headers)

    run.tables = True  # type: ignore[attr-defined]  # format=csv&table=NAME: /openapi.json says so
    return run


def admin_post(endpoint: Callable[[Request, bytes], Any]) -> Callable[[Request], Awaitable[Response]]:
    """Like `admin` for endpoints that read a JSON body: `endpoint(request, body)`."""

    async def run(request: Request) -> Response:
        require_admin(request)
        body = await read_limited(request, MAX_API_BODY)
        result = await run_in_threadpool(endpoint, request, body)
        return result if isinstance(result, Response) else _reply(run, result)

    return run


def site_settings(request: Request, site_id: str) -> Mapping[str, object]:
    sites: list[Site] = request.app.state.store.sites()
    for site in sites:
        if site.id == site_id:
            return site.settings
    raise ClientError(404, f"no site {site_id!r}")


def reversed_range(start: str | None, end: str | None) -> ClientError:
    """The one message for a range whose start comes after its end, in the words the analyst typed."""
    return ClientError(400, f"the date range is reversed: from {start} is after to {end}; swap them")


def calendar_of(request: Request, site_id: str) -> Calendar:
    """The site's days (its time zone), by which dates in parameters are read."""
    return Calendar.of_site(site_settings(request, site_id))


def checked_range(start: str | None, end: str | None, calendar: Calendar = UTC_DAYS) -> tuple[int, int]:
    lo, hi = time_range(start, end, calendar)
    if lo >= hi:
        raise reversed_range(start, end)
    return lo, hi


def charted_range(start: str | None, end: str | None, calendar: Calendar = UTC_DAYS) -> tuple[int, int]:
    """A bounded range for pages with a daily chart: the last 30 days (of the site) by default."""
    hi = time_bound(end, end=True, calendar=calendar)
    if hi is None:
        today = calendar.day_of(int(time.time() * 1000))
        hi = calendar.day_start(today + 1)
    lo = time_bound(start, end=False, calendar=calendar)
    if lo is None:
        lo = calendar.day_start(calendar.day_of(hi - 1) + 1 - DEFAULT_DAYS)
    if lo >= hi:
        raise reversed_range(start, end)
    if len(calendar.days(lo, hi)) > MAX_DAYS:
        raise ClientError(400, f"the range may span at most {MAX_DAYS} days")
    return lo, hi


def segment_of(request: Request, site_id: str, segment: str | None) -> dict[str, str] | None:
    """A saved segment's filters, from `segment=<id>`."""
    if not segment:
        return None
    if not (segment.isascii() and segment.isdigit()) or len(segment) > 18:  # "²" and 2**64 would be a 500
        raise ClientError(400, "segment must be a segment id (see /api/segments)")
    filters: dict[str, str] | None = request.app.state.store.segment_filters(site_id, int(segment))
    if filters is None:
        raise ClientError(404, f"no segment {segment} for this site")
    return filters


def scope_of(
    request: Request, *, charted: bool = False,
    params: Mapping[str, str] | None = None, site_id: str | None = None,
) -> Scope:
    """The sessions a request asks about: site, range, filters, segment, bots."""
    q = request.query_params if params is None else params
    site_id = site_id or site_param(request)
    settings = site_settings(request, site_id)
    start, end = (charted_range if charted else checked_range)(q.get("from"), q.get("to"), Calendar.of_site(settings))
    segment = segment_of(request, site_id, q.get("segment"))
    scope = build_scope(site_id, settings, start, end, q, segment)
    if q.get("goal"):  # a chosen goal: the conversion rate and `converted` follow it
        scope = replace(scope, goal=chosen_goal(request, site_id, q["goal"]))
    return scope


def site_goals(request: Request, site_id: str) -> list[tuple[int, str, Goal]]:
    return [(g["id"], g["name"], goal_of(g)) for g in request.app.state.store.goals(site_id)]


def chosen_goal(request: Request, site_id: str, value: str) -> Goal:
    wanted = goal_id(value)
    for found, _name, goal in site_goals(request, site_id):
        if found == wanted:
            return goal
    raise ClientError(404, f"no goal {wanted} for this site (see /api/goals)")


@cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode_json(body: bytes, kind: Any) -> Any:
    return decode(_decoder(kind), body, "request")
