"""The likely outcome: GET /api/predictions, POST /api/predictions/train, and the daily retraining."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANALYST, api, api_post
from collector.api.base import site_param, site_settings
from collector.query import answers as a
from collector.query import outcome
from collector.query.bulk import gc_paused
from collector.query.params import integer
from collector.query.scope import Goal, Scope
from collector.replies import returns
from collector.store import NotAnswered, Store

log = logging.getLogger("trailmark")

RETRAIN_EVERY_S = 24 * 3600
OPEN_SESSION_MS = 30 * 60 * 1000  # a session with an event this recent is still open (the SDK's rule)


def retrain(store: Store, site_id: str, goal: Goal, now: int | None = None) -> dict[str, Any]:
    """Train on the site's history up to `now`, score everyone seen in the last 28 days, keep both.
    Without a usable model the old scores go too: a stale model must not keep labelling people."""
    now = int(time.time() * 1000) if now is None else now
    scope = Scope(site_id, outcome.history_start(now), now, goal)
    with gc_paused():
        report, model = outcome.train(store.journey_touches(scope, outcome.training_reading(now, goal)), now, goal)
        scores = [] if model is None else outcome.score(
            model, store.journey_touches(scope, outcome.scoring_reading(now)), now, goal)
    result = report.as_dict()
    store.save_outcome(site_id, result, scores)
    return result


async def retrain_daily(store: Store, every_s: float = RETRAIN_EVERY_S) -> None:
    """Retrain every site's model on a schedule, off the event loop; a failure is logged, not fatal."""
    while True:
        await asyncio.sleep(every_s)
        for site in store.sites():
            try:
                await asyncio.to_thread(retrain, store, site.id, Goal.of_site(site.settings))
            except NotAnswered:  # an engine without the model yet: nothing to retrain, nothing wrong
                return
            except Exception:  # one site's bad day must not stop the others' retraining
                log.exception("retraining the outcome model of site %s failed", site.id)


def _answer(request: Request, site_id: str, report: dict[str, Any] | None) -> dict[str, Any]:
    store = request.app.state.store
    limit = integer(request.query_params.get("limit"), 20, name="limit", lo=1, hi=500)
    if report is None:
        return {"status": "not_trained", "counts": {}, "likely": [], "at_risk": [], "open_sessions": [],
                "reason": "no model yet: POST /api/predictions/train or wait for the daily run"}
    since = int(time.time() * 1000) - OPEN_SESSION_MS
    return {
        **report,
        "counts": store.outcome_counts(site_id),
        "likely": store.outcome_scores(site_id, "likely", limit),
        "at_risk": store.outcome_scores(site_id, "at_risk", limit),
        "open_sessions": store.outcome_open_sessions(site_id, since, limit),
    }


@api(ANALYST)
def predictions(request: Request) -> Any:
    site_id = site_param(request)
    return _answer(request, site_id, request.app.state.store.outcome_report(site_id))


@api_post(ANALYST)
def train(request: Request, body: bytes) -> Any:
    site_id = site_param(request)
    goal = Goal.of_site(site_settings(request, site_id))
    return _answer(request, site_id, retrain(request.app.state.store, site_id, goal))


routes = [
    Route("/predictions", returns(a.Predictions, predictions)),
    Route("/predictions/train", returns(a.Predictions, train), methods=["POST"]),
]
