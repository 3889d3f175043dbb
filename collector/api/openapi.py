"""GET /openapi.json: an OpenAPI 3.1 document built from the msgspec wire types and the routes list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from collector import wire
from collector.access import public
from collector.replies import Csv, declared
from collector.wire import json_encoder


class Batch(Struct, kw_only=True):
    """POST /v1/batch as documented: events are validated one by one, so each is one of the types."""

    key: Annotated[str, Meta(min_length=1, max_length=128)]
    sent_at: wire.Ms | None = None
    events: Annotated[list[wire.Event], Meta(min_length=1, max_length=wire.MAX_EVENTS)]


class RrwebEvent(Struct):
    """The part of an rrweb event the collector checks; the rest is stored as sent."""

    type: int
    timestamp: wire.Ms


class Replay(Struct, kw_only=True):
    key: Annotated[str, Meta(min_length=1, max_length=128)]
    session_id: wire.Id
    anon_id: wire.Id | None = None
    seq: Annotated[int, Meta(ge=0, le=1_000_000)]
    events: Annotated[list[RrwebEvent], Meta(min_length=1)]


class Rejection(Struct):
    index: int
    error: str


class BatchAnswer(Struct):
    accepted: int
    rejected: list[Rejection]


class ReplayAnswer(Struct):
    accepted: int
    stored: bool


class ErrorAnswer(Struct):
    """The one error shape: a sentence for the client."""

    error: str


_TYPES = (Batch, Replay, BatchAnswer, ReplayAnswer, ErrorAnswer)
_REF = "#/components/schemas/{name}"

# Query parameters the analyst API understands, documented for every /api route that reads them.
_QUERY = {
    "site": {"type": "string"},
    "from": {"type": "string", "description": "date YYYY-MM-DD of the site's time zone or epoch ms, inclusive"},
    "to": {"type": "string", "description": "date YYYY-MM-DD of the site's time zone or epoch ms, inclusive"},
    "limit": {"type": "integer"},
    "cursor": {"type": "string"},
    "url": {"type": "string"},
    "kind": {"type": "string"},
    "device": {"type": "string"},
    "from_url": {"type": "string"},
    "field": {"type": "string"},
    "q": {"type": "string"},
    "interval": {"type": "string", "description": "day (default), hour or auto"},
    "goal": {"type": "string", "description": "a goal id: the conversion rate follows it"},
    "format": {"type": "string", "description": "json (default) or csv (with table)"},
    "table": {"type": "string"},
    "name": {"type": "string"},
    "referrer": {"type": "string"},
    "entry": {"type": "string"},
    "error": {"type": "string"},
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": _REF.format(name=ref)}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"description": "refused", **_json("ErrorAnswer")} for s in statuses}


def _ingest_paths() -> dict[str, Any]:
    limited = _errors(400, 401, 403, 413, 415, 429, 503)
    return {
        "/v1/batch": {"post": {
            "summary": "Send a batch of events (stored once per id, acknowledged after commit)",
            "requestBody": {"required": True, **_json("Batch")},
            "responses": {"200": {"description": "stored", **_json("BatchAnswer")}, **limited},
        }},
        "/v1/replay": {"post": {
            "summary": "Send one chunk of a session recording",
            "requestBody": {"required": True, **_json("Replay")},
            "responses": {"200": {"description": "stored", **_json("ReplayAnswer")}, **limited},
        }},
        "/v1/p.gif": {"get": {
            "summary": "A pageview for pages without JavaScript; always the GIF",
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": "string"}} for n in ("k", "u", "r")
            ],
            "responses": {"200": {"description": "a 1x1 GIF",
                                  "content": {"image/gif": {"schema": {"type": "string"}}}}},
        }},
    }


def walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every Route of the app with its full path, Mounts followed."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def _answer(route: Route, schemas: dict[Any, Any]) -> dict[str, Any]:
    """The route's successful answer: its declared type's schema, and CSV where it has tables."""
    answer = declared(route.endpoint)
    content: dict[str, Any] = {}
    if answer is None:  # a route without a declared type (tests/api/test_openapi_answers.py fails on it)
        return {"200": {"description": "JSON"}}
    if answer is not Csv:
        content["application/json"] = {"schema": schemas[answer]}
    if answer is Csv or getattr(route.endpoint, "tables", False):
        content["text/csv"] = {"schema": {"type": "string"}}
    status = str(getattr(route.endpoint, "answer_status", 200))
    return {status: {"description": "created" if status == "201" else "the answer", "content": content}}


def _api_routes(routes: list[Any]) -> Iterator[tuple[str, Route]]:
    for path, route in walk(routes):
        if path.startswith("/api/"):
            yield path, route


def _api_paths(routes: list[Any], schemas: dict[Any, Any]) -> dict[str, Any]:
    """Every /api route of the running app, with the common query parameters, its path ids and
    its declared answer."""
    paths: dict[str, Any] = {}
    for path, route in _api_routes(routes):
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        clean = re.sub(r"{(\w+):\w+}", r"{\1}", path)
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]
        params += [{"name": n, "in": "query", "schema": s} for n, s in _QUERY.items()]
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            operation: dict[str, Any] = {
                "summary": (route.endpoint.__doc__ or route.name or path).strip().splitlines()[0],
                "security": [{"bearer": []}],
                "parameters": params,
                "responses": {**_answer(route, schemas), **_errors(400, 401, 404, 409, 413, 501, 503)},
            }
            if method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {"content": {"application/json": {"schema": {"type": "object"}}}}
            paths.setdefault(clean, {})[method.lower()] = operation
    return paths


def document(routes: list[Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for an app's routes: the analyst answers' schemas are the types
    the routes declare (collector/query/answers)."""
    answers = list(dict.fromkeys(declared(r.endpoint) for _, r in _api_routes(routes)))
    answers = [a for a in answers if a is not None and a is not Csv]
    refs, components = msgspec.json.schema_components([*_TYPES, *answers], ref_template=_REF)
    schemas = dict(zip(answers, refs[len(_TYPES):], strict=True))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Trailmark collector", "version": "1",
                 "description": "Wire protocol v1 (ingest) and the analyst API; see docs/."},
        "paths": {**_ingest_paths(), **_api_paths(routes, schemas)},
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@public
async def openapi(request: Request) -> Response:
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = json_encoder.encode(document(request.app.routes))
    return Response(state.openapi, media_type="application/json")


routes = [Route("/openapi.json", openapi)]
