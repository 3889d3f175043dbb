"""Experiments under /api/experiments: defined, listed, measured on the whole journey, deleted."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, VIEWER, api, api_post
from collector.api.base import decode_json, scope_of, site_param, site_settings
from collector.errors import ClientError
from collector.query import answers as a
from collector.query import experiments as ab
from collector.replies import Reply, returns


@api(VIEWER)
def experiments(request: Request) -> Any:
    site_id = site_param(request)
    return {"experiments": [e.as_dict() for e in request.app.state.store.experiments(site_id)]}


@api_post(ANALYST)
def create_experiment(request: Request, body: bytes) -> Any:
    ask = decode_json(body, ab.NewExperiment)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    store = request.app.state.store
    saved_goals = store.goals(site_id) if isinstance(ask.goal, int) else []
    created = store.create_experiment(site_id, ab.checked(ask, saved_goals))
    if created is None:
        raise ClientError(409, f"experiment {ask.key!r} exists on this site: delete it first to redefine it")
    return Reply(created.as_dict(), 201)


@api(VIEWER)
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


@api_post(ANALYST)
def delete_experiment(request: Request, body: bytes) -> Any:
    key = request.path_params["key"]
    if not request.app.state.store.delete_experiment(site_param(request), key):
        raise ClientError(404, f"no experiment {key!r} for this site")
    return {"deleted": key}


routes = [
    Route("/experiments", returns(a.Experiments, experiments)),
    Route("/experiments", returns(a.Experiment, create_experiment, 201), methods=["POST"]),
    Route("/experiments/{key}", returns(a.ExperimentResults, experiment_results)),
    Route("/experiments/{key}", returns(a.ExperimentDeleted, delete_experiment), methods=["DELETE"]),
]
