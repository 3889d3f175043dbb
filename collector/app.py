"""create_app(settings): the Starlette application, a plain routes list and a lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from collector import (
    api,
    heatmap_api,
    ingest,
    journey_api,
    openapi,
    outcome_api,
    privacy,
    replay_api,
    reports_api,
    trigger_api,
    ui,
)
from collector.auth import bearer_ok
from collector.config import Settings
from collector.demo import shop as demo_shop
from collector.enricher import Enricher
from collector.errors import ClientError, error_response, json_response
from collector.limits import RateLimiter
from collector.metrics import Metrics
from collector.replay_limits import ReplayLedger
from collector.store import NotAnswered, Store, StoreFault, open_store
from collector.triggers.service import Triggers

log = logging.getLogger("trailmark")


@dataclass
class Limits:
    per_ip: RateLimiter
    per_site: RateLimiter


def _ingest(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        return await ingest.handle(request, endpoint)

    return run


# The browser SDK's bundles, built by sdk_js into settings.static_dir.
BUNDLES = ("trailmark.js", "trailmark-replay.js", "trailmark-vitals.js", "trailmark-experiments.js")


class Bundle:
    """A built SDK bundle served with an ETag, re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: tuple[float, bytes, str] | None = None

    def _load(self) -> tuple[bytes, str] | None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        if self._cached is None or self._cached[0] != mtime:
            body = self.path.read_bytes()
            self._cached = (mtime, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        return self._cached[1], self._cached[2]

    async def serve(self, request: Request) -> Response:
        loaded = self._load()
        if loaded is None:
            return PlainTextResponse(
                f"{self.path.name} is not built: run `make build`", 404
            )
        body, etag = loaded
        headers = {
            "ETag": etag,
            "Cache-Control": "public, max-age=3600",
            "Access-Control-Allow-Origin": "*",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(body, 200, headers, "text/javascript; charset=utf-8")


async def healthz(request: Request) -> Response:
    """`ok` when the store can be read and written now; else 503 naming the fault."""
    fault = await request.app.state.store.health()
    if fault is not None:
        return json_response(
            {"error": fault.message, "fault": fault.kind}, 503,
            {"Retry-After": str(fault.retry_after), "Cache-Control": "no-store"},
        )
    # Misconfiguration is a warning under the 200: the store is healthy, the data is not right.
    warnings = request.app.state.enricher.proxy_alarm.warnings()
    return PlainTextResponse("\n".join(["ok", *(f"warning: {w}" for w in warnings)]))


async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.metrics_public:
        tokens = [t for t in (settings.admin_token, settings.metrics_token) if t]
        if not any(bearer_ok(request, token) for token in tokens):
            return error_response(
                401, "metrics token required (Authorization: Bearer <admin or metrics token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
    text = request.app.state.metrics.render(request.app.state.store.writer)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


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
    headers = ingest.cors_headers(request) if request.url.path.startswith("/v1/") else {}
    return error_response(500, "internal error", headers=headers)


async def not_found(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", "not found")
    return error_response(getattr(exc, "status_code", 404), str(detail))


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """The collector: ingest under /v1, the analyst API under /api, bundles, health, metrics."""
    store = store or open_store(
        settings.store_url, max_pending=settings.max_pending, synchronous=settings.synchronous
    )
    enricher = Enricher(settings, store)
    triggers = Triggers(store, settings.webhooks, settings.public_url or "http://127.0.0.1:8000")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store.start()
        triggers.start()
        retraining = asyncio.create_task(outcome_api.retrain_daily(store))
        try:
            yield
        finally:
            retraining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retraining
            triggers.stop()  # before the store: its last attempts record their outcome
            store.close()
            enricher.close()

    routes = [
        Route("/v1/batch", _ingest(ingest.batch), methods=["POST"]),
        Route("/v1/batch", ingest.preflight, methods=["OPTIONS"]),
        Route("/v1/replay", _ingest(ingest.replay), methods=["POST"]),
        Route("/v1/replay", ingest.preflight, methods=["OPTIONS"]),
        Route("/v1/p.gif", ingest.pixel, methods=["GET"]),
        *(Route(f"/{name}", Bundle(settings.static_dir / name).serve) for name in BUNDLES),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *replay_api.routes,  # before api: /replay wins over /api/sessions/{id}
        *heatmap_api.routes,
        *openapi.routes,
        *privacy.routes,
        *journey_api.routes,
        *outcome_api.routes,
        *trigger_api.routes,
        *api.routes,
        *reports_api.routes,
        *demo_shop.routes(settings),
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
    app.state.enricher = enricher
    app.state.triggers = triggers
    app.state.metrics = Metrics()
    app.state.limits = Limits(RateLimiter(settings.rate_limit), RateLimiter(settings.site_rate_limit))
    app.state.replay_ledger = ReplayLedger(
        store, hour_bytes=settings.replay_site_hour_bytes, day_bytes=settings.replay_site_day_bytes
    )
    return app
