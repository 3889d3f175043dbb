"""What every analyst endpoint shares: the site, the date range, the scope (filters, segment,
goal) and request bodies. Who may ask is collector/access.py's: each endpoint declares its role."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import cache
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector.access import MAX_API_BODY, OWNER, answer, check
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
from collector.replies import reply
from collector.store import Site

DEFAULT_DAYS = 30


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


def admin(endpoint: Callable[[Request], Any]) -> Callable[[Request], Response]:
    """Kept for code written before roles: the owner of every site, and no declared role, so the
    route walk in tests/security/test_security_roles.py fails until the route says what it needs
    (collector/access.py: `api`, `api_post`, `api_raw`, `page`, `public`)."""

    def run(request: Request) -> Response:
        check(request, OWNER)
        return answer(request, endpoint)

    return run


def admin_post(endpoint: Callable[[Request, bytes], Any]) -> Callable[[Request], Awaitable[Response]]:
    """Like `admin`, for endpoints that read a JSON body (no declared role either)."""

    async def run(request: Request) -> Response:
        check(request, OWNER)
        body = await read_limited(request, MAX_API_BODY)
        result = await run_in_threadpool(endpoint, request, body)
        return result if isinstance(result, Response) else reply(request, result)

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
