"""The journey map API: a site's stages (the shop default until it sets its own) and the map itself."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, VIEWER, api, api_post
from collector.api.base import scope_of, site_param, site_settings
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.journey import parse_stages, stages_json, stages_of
from collector.replies import returns


def _stages(request: Request, site_id: str) -> Any:
    try:
        return stages_of(dict(site_settings(request, site_id)))
    except msgspec.ValidationError:  # written by an older version with other rules: say so, not 500
        raise ClientError(409, "the site's journey stages no longer validate: PUT them again") from None


@api(VIEWER)
def journey(request: Request) -> Any:
    scope = scope_of(request, charted=True)
    stages, own = _stages(request, scope.site_id)
    result = request.app.state.store.journey_map(scope, stages)
    return {**result, "custom_stages": own, "definitions": stages_json(stages)}


@api(VIEWER)
def get_stages(request: Request) -> Any:
    stages, own = _stages(request, site_param(request))
    return {"custom_stages": own, "stages": stages_json(stages)}


@api_post(ANALYST)
def put_stages(request: Request, body: bytes) -> Any:
    site_id = site_param(request)
    stages = parse_stages(body)
    request.app.state.store.update_site_settings(site_id, {"journey_stages": msgspec.to_builtins(stages)})
    return {"custom_stages": True, "stages": stages_json(stages)}


@api_post(ANALYST)
def reset_stages(request: Request, body: bytes) -> Any:
    site_id = site_param(request)
    request.app.state.store.update_site_settings(site_id, {"journey_stages": None})
    stages, own = _stages(request, site_id)
    return {"custom_stages": own, "stages": stages_json(stages)}


routes = [
    Route("/journey-map", returns(a.JourneyMap, journey)),
    Route("/journey-map/stages", returns(a.JourneyStages, get_stages)),
    Route("/journey-map/stages", returns(a.JourneyStages, put_stages), methods=["PUT"]),
    Route("/journey-map/stages", returns(a.JourneyStages, reset_stages), methods=["DELETE"]),
]
