"""The analyst JSON API under /api; every route requires the admin token or a login session."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import cache
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector import export
from collector import site_settings as site_settings_view
from collector.auth import require_admin
from collector.body import read_limited
from collector.errors import ClientError, decode, json_response
from collector.query import experiments as ab
from collector.query.days import UTC_DAYS, Calendar
from collector.query.funnel import FunnelRequest
from collector.query.goals import goal_id, goal_of
from collector.query.params import (
    MAX_DAYS,
    PEOPLE_SORTS,
    SESSION_SORTS,
    integer,
    interval_width,
    sort_order,
    time_bound,
    time_range,
)
from collector.query.scope import Goal, Scope, build_scope, check_filters
from collector.store import Site

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


def admin(endpoint: Callable[[Request], Any]) -> Callable[[Request], Response]:
    """Wrap a sync endpoint: check the admin, run it off the event loop, answer JSON.

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
        name = request.url.path.rsplit("/", 1)[-1] or "report"
        if wanted == "csv":
            if not isinstance(result, dict):
                raise ClientError(400, "this answer has no table to export")
            table = q.get("table") or None
            return Response(export.table_csv(result, table), 200, {
                "Content-Disposition": f'attachment; filename="{name}-{table or "table"}.csv"',
            }, "text/csv; charset=utf-8")
        headers = {"Content-Disposition": f'attachment; filename="{name}.json"'} if q.get("download") else None
        return json_response(result, headers=headers)

    return run


def admin_post(endpoint: Callable[[Request, bytes], Any]) -> Callable[[Request], Awaitable[Response]]:
    """Like `admin` for endpoints that read a JSON body: `endpoint(request, body)`."""

    async def run(request: Request) -> Response:
        require_admin(request)
        body = await read_limited(request, MAX_API_BODY)
        result = await run_in_threadpool(endpoint, request, body)
        return result if isinstance(result, Response) else json_response(result)

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


@admin
def sites(request: Request) -> Any:
    return {
        "sites": [
            {"id": s.id, "name": s.name, "write_key": s.write_key, "origins": list(s.origins),
             "settings": site_settings_view.public(s.settings)}
            for s in request.app.state.store.sites()
        ]
    }


@admin_post
def update_site(request: Request, body: bytes) -> Any:
    changes = decode_json(body, site_settings_view.SettingsChange).changes()
    if not changes:
        raise ClientError(400, f"nothing to change: send one of {', '.join(site_settings_view.FIELDS)}")
    site = request.app.state.store.update_site_settings(request.path_params["id"], changes)
    if site is None:
        raise ClientError(404, f"no site {request.path_params['id']!r}")
    return {"id": site.id, "name": site.name, "settings": site_settings_view.public(site.settings)}


@admin
def sessions(request: Request) -> Any:
    q = request.query_params
    limit = integer(q.get("limit"), 50, name="limit", lo=1, hi=500)
    sort, descending = sort_order(q.get("sort"), q.get("order"), SESSION_SORTS)
    return request.app.state.store.sessions_page(
        scope_of(request), limit=limit, cursor=q.get("cursor"), sort=sort, descending=descending
    )


@admin
def overview(request: Request) -> Any:
    scope = scope_of(request, charted=True)
    width = interval_width(request.query_params.get("interval"), scope.start, scope.end)
    result = request.app.state.store.overview(scope, width=width, goals=tuple(site_goals(request, scope.site_id)))
    result["goal"] = request.query_params.get("goal") or None
    settings = dict(site_settings(request, scope.site_id))
    result["shop"] = site_settings_view.is_shop(settings, result.pop("commerce_seen"))
    result["currency"] = site_settings_view.public(settings)["currency"]
    return result


@admin_post
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


@admin
def paths(request: Request) -> Any:
    q = request.query_params
    depth = integer(q.get("depth"), 3, name="depth", lo=1, hi=10)
    store = request.app.state.store
    scope = scope_of(request)
    # Without from_url: the site's most viewed page, so the first look already shows journeys.
    from_url = q.get("from_url") or store.top_page(scope) or "/"
    return {**store.paths(scope, from_url, depth), "from_url": from_url}


@admin
def retention(request: Request) -> Any:
    weeks = integer(request.query_params.get("weeks"), 8, name="weeks", lo=1, hi=52)
    return request.app.state.store.retention(scope_of(request), weeks)


@admin
def commerce(request: Request) -> Any:
    return request.app.state.store.commerce(scope_of(request, charted=True))


@admin
def surveys(request: Request) -> Any:
    return request.app.state.store.surveys(
        scope_of(request, charted=True), request.query_params.get("survey_id")
    )


@admin
def people(request: Request) -> Any:
    q = request.query_params
    limit = integer(q.get("limit"), 50, name="limit", lo=1, hi=500)
    offset = integer(q.get("offset"), 0, name="offset", lo=0)
    sort, descending = sort_order(q.get("sort"), q.get("order"), PEOPLE_SORTS)
    return request.app.state.store.people(
        scope_of(request), sort=sort, descending=descending, limit=limit, offset=offset
    )


@admin
def person(request: Request) -> Any:
    site_id = site_param(request)
    found = request.app.state.store.person(site_id, request.path_params["id"])
    if found is None:
        raise ClientError(404, "no such person")
    return found


class NewSegment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    filters: dict[str, str | int | float | bool]
    site: str | None = None


@admin
def segments(request: Request) -> Any:
    return {"segments": request.app.state.store.segments(site_param(request))}


@admin_post
def create_segment(request: Request, body: bytes) -> Any:
    ask = decode_json(body, NewSegment)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    filters = check_filters(ask.filters)
    segment = request.app.state.store.create_segment(site_id, ask.name, filters)
    return json_response(segment, 201)


@admin_post
def delete_segment(request: Request, body: bytes) -> Any:
    segment_id = request.path_params["id"]
    if not (segment_id.isascii() and segment_id.isdigit() and len(segment_id) <= 18):
        raise ClientError(400, "a segment id is a number")
    if not request.app.state.store.delete_segment(site_param(request), int(segment_id)):
        raise ClientError(404, f"no segment {segment_id} for this site")
    return {"deleted": int(segment_id)}


@admin
def session(request: Request) -> Any:
    found = request.app.state.store.session(request.path_params["id"], request.query_params.get("site"))
    if found is None:
        raise ClientError(404, "no such session")
    return found


@admin
def rejected(request: Request) -> Any:
    q = request.query_params
    site_id = site_param(request)
    start, end = time_range(q.get("from"), q.get("to"), calendar_of(request, site_id))
    limit = integer(q.get("limit"), 100, name="limit", lo=1, hi=1000)
    rows = request.app.state.store.rejected(site_id=site_id, start=start, end=end, limit=limit)
    return {"rejected": rows}


@admin
def experiments(request: Request) -> Any:
    site_id = site_param(request)
    return {"experiments": [e.as_dict() for e in request.app.state.store.experiments(site_id)]}


@admin_post
def create_experiment(request: Request, body: bytes) -> Any:
    ask = decode_json(body, ab.NewExperiment)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    created = request.app.state.store.create_experiment(site_id, ab.checked(ask))
    if created is None:
        raise ClientError(409, f"experiment {ask.key!r} exists on this site: delete it first to redefine it")
    return json_response(created.as_dict(), 201)


@admin
def experiment_results(request: Request) -> Any:
    scope = scope_of(request, charted=True)
    key = request.path_params["key"]
    store = request.app.state.store
    found = store.experiment(scope.site_id, key)
    if found is None:
        raise ClientError(404, f"no experiment {key!r} for this site (see /api/experiments)")
    goal = found.goal_of(site_settings(request, scope.site_id))
    result = ab.results(found, store.experiment_counts(scope, key, goal))
    result["goal"] = {"type": goal.type, "name": goal.name}
    result["from"], result["to"] = scope.start, scope.end
    return result


@admin_post
def delete_experiment(request: Request, body: bytes) -> Any:
    key = request.path_params["key"]
    if not request.app.state.store.delete_experiment(site_param(request), key):
        raise ClientError(404, f"no experiment {key!r} for this site")
    return {"deleted": key}


@cache
def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def decode_json(body: bytes, kind: Any) -> Any:
    return decode(_decoder(kind), body, "request")


routes = [
    Route("/api/sites", sites),
    Route("/api/sites/{id}", update_site, methods=["PATCH", "POST"]),
    Route("/api/sessions", sessions),
    Route("/api/sessions/{id}", session),
    Route("/api/overview", overview),
    Route("/api/funnel", funnel, methods=["POST"]),
    Route("/api/paths", paths),
    Route("/api/retention", retention),
    Route("/api/commerce", commerce),
    Route("/api/surveys", surveys),
    Route("/api/persons", people),
    Route("/api/persons/{id}", person),
    Route("/api/segments", segments),
    Route("/api/segments", create_segment, methods=["POST"]),
    Route("/api/segments/{id}", delete_segment, methods=["DELETE"]),
    Route("/api/rejected", rejected),
    Route("/api/experiments", experiments),
    Route("/api/experiments", create_experiment, methods=["POST"]),
    Route("/api/experiments/{key}", experiment_results),
    Route("/api/experiments/{key}", delete_experiment, methods=["DELETE"]),
]
