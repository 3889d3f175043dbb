"""create_app(settings): the Starlette application, a plain routes list and a lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from collector import api, ingest, ops, schedules, ui
from collector.access import public_mount
from collector.api import openapi
from collector.api.outcome import retrain_daily
from collector.assets import route as asset_route
from collector.assets.service import AssetCopies, budget_charge
from collector.config import Settings
from collector.demo import shop as demo_shop
from collector.errors import ClientError, error_response
from collector.ingest.http import RateLimiter, cors_headers
from collector.ingest.pipeline import Pipeline
from collector.ingest.replay_limits import ReplayLedger
from collector.store import NotAnswered, Store, StoreFault, open_store
from collector.triggers.service import Triggers
from collector.ui import teams as ui_teams

log = logging.getLogger("trailmark")


@dataclass
class Limits:
    per_ip: RateLimiter
    per_site: RateLimiter


async def client_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClientError)
    return exc.response()


async def store_fault(request: Request, exc: Exception) -> Response:
    """A read or an analyst's write that met a locked, full or broken store: 503, not a 500."""
    assert isinstance(exc, StoreFault)
    return error_response(503, exc.message, exc.retry_after)


async def not_answered(request: Request, exc: Exception) -> Response:
    """A question the configured store's engine does not answer yet: said plainly, not a 500."""
    assert isinstance(exc, NotAnswered)
    return error_response(501, str(exc))


async def server_error(request: Request, exc: Exception) -> Response:
    """A fault of ours, answered in the one JSON error shape. Ingest answers carry CORS so the
    browser SDK can read the status (without the header a 500 looks like a network failure)."""
    headers = cors_headers(request) if request.url.path.startswith("/v1/") else {}
    return error_response(500, "internal error", headers=headers)


async def not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", "not found")
    return error_response(getattr(exc, "status_code", 404), str(detail))


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """The collector: ingest under /v1, the analyst API under /api, bundles, health, metrics."""
    store = store or open_store(
        settings.store_url, max_pending=settings.max_pending, synchronous=settings.synchronous
    )
    pipeline = Pipeline(settings, store)
    triggers = Triggers(store, settings.webhooks, settings.public_url or "http://127.0.0.1:8000")
    ledger = ReplayLedger(
        store, hour_bytes=settings.replay_site_hour_bytes, day_bytes=settings.replay_site_day_bytes
    )
    asset_copies = AssetCopies(store, settings.asset_copies)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store.start()
        triggers.start()
        asset_copies.charge = budget_charge(asyncio.get_running_loop(), ledger.charge_site)
        asset_copies.start()
        retraining = asyncio.create_task(retrain_daily(store))
        # Also without SMTP: an alert may post to a webhook.
        sender = asyncio.create_task(schedules.loop(store, settings.smtp_url))
        try:
            yield
        finally:
            retraining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retraining
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            triggers.stop()  # before the store: its last attempts record their outcome
            await asyncio.to_thread(asset_copies.stop)  # off the loop: its budget charges run on it
            store.close()
            pipeline.close()

    routes = [
        Mount("/v1", routes=ingest.routes),
        Mount("/api", routes=api.routes),
        *ops.routes(settings.static_dir),
        *openapi.routes,
        *asset_route.routes,
        *(public_mount(route) for route in demo_shop.routes(settings)),
        *ui_teams.routes,
        *ui.routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
        exception_handlers={
            ClientError: client_error, StoreFault: store_fault, NotAnswered: not_answered,
            404: not_found, 405: not_found,
            Exception: server_error,
        },
    )
    app.state.settings = settings
    app.state.store = store
    app.state.pipeline = pipeline
    app.state.triggers = triggers
    app.state.metrics = ops.Metrics()
    app.state.limits = Limits(RateLimiter(settings.rate_limit), RateLimiter(settings.site_rate_limit))
    app.state.replay_ledger = ledger
    app.state.asset_copies = asset_copies
    return app
