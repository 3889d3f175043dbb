"""What an operator reads: /healthz, /metrics (Prometheus text) and the SDK bundles' files."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from collector.access import own_check, public
from collector.assets.service import Counts as AssetCounts
from collector.auth import bearer_ok
from collector.errors import error_response, json_response
from collector.store.model import REJECT_KINDS
from collector.store.sqlite.writer import Writer


class Metrics:
    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[str] = Counter({kind: 0 for kind in REJECT_KINDS})  # per-event, by kind
        self.refused: Counter[int] = Counter()  # whole requests by status
        self.replay_chunks = 0

    def render(self, writer: Writer, assets: AssetCounts) -> str:
        stats = writer.stats
        lines = [
            "# HELP trailmark_events_accepted_total Events accepted (duplicates included).",
            "# TYPE trailmark_events_accepted_total counter",
            f"trailmark_events_accepted_total {self.accepted}",
            "# HELP trailmark_events_duplicate_total Accepted events already stored before.",
            "# TYPE trailmark_events_duplicate_total counter",
            f"trailmark_events_duplicate_total {self.duplicates}",
            "# HELP trailmark_events_rejected_total Events not stored, by kind of rejection.",
            "# TYPE trailmark_events_rejected_total counter",
            *(
                f'trailmark_events_rejected_total{{reason="{reason}"}} {n}'
                for reason, n in sorted(self.rejected.items())
            ),
            "# HELP trailmark_requests_refused_total Whole requests refused, by status.",
            "# TYPE trailmark_requests_refused_total counter",
            *(
                f'trailmark_requests_refused_total{{status="{status}"}} {n}'
                for status, n in sorted(self.refused.items())
            ),
            "# HELP trailmark_replay_chunks_total Replay chunks stored.",
            "# TYPE trailmark_replay_chunks_total counter",
            f"trailmark_replay_chunks_total {self.replay_chunks}",
            "# HELP trailmark_write_queue_depth Rows waiting for the writer.",
            "# TYPE trailmark_write_queue_depth gauge",
            f"trailmark_write_queue_depth {writer.depth}",
            "# HELP trailmark_commit_seconds Time of one group commit.",
            "# TYPE trailmark_commit_seconds histogram",
        ]
        # Each bucket already counts every commit at or under its bound (cumulative).
        for bound, count in stats.buckets.items():
            lines.append(f'trailmark_commit_seconds_bucket{{le="{bound}"}} {count}')
        lines += [
            f'trailmark_commit_seconds_bucket{{le="+Inf"}} {stats.commits}',
            f"trailmark_commit_seconds_sum {stats.commit_seconds:.6f}",
            f"trailmark_commit_seconds_count {stats.commits}",
            "# HELP trailmark_commit_failures_total Group commits that failed and were retried alone.",
            "# TYPE trailmark_commit_failures_total counter",
            f"trailmark_commit_failures_total {stats.failures}",
            *_asset_lines(assets),
        ]
        return "\n".join(lines) + "\n"


def _asset_lines(counts: AssetCounts) -> list[str]:
    """The copier of recorded assets (collector/assets/service.py)."""
    return [
        "# HELP trailmark_asset_chunks_offered_total Stored replay chunks offered to the asset copier.",
        "# TYPE trailmark_asset_chunks_offered_total counter",
        f"trailmark_asset_chunks_offered_total {counts.offered}",
        "# HELP trailmark_asset_chunks_dropped_total Offered chunks dropped because the copier's queue was full.",
        "# TYPE trailmark_asset_chunks_dropped_total counter",
        f"trailmark_asset_chunks_dropped_total {counts.dropped}",
        "# HELP trailmark_asset_fetches_total Recorded asset URLs fetched whole and of an allowed type.",
        "# TYPE trailmark_asset_fetches_total counter",
        f"trailmark_asset_fetches_total {counts.fetched}",
        "# HELP trailmark_asset_refused_total Recorded asset URLs not copied, by reason.",
        "# TYPE trailmark_asset_refused_total counter",
        *(f'trailmark_asset_refused_total{{reason="{reason}"}} {n}' for reason, n in sorted(counts.refusals.items())),
        "# HELP trailmark_asset_stored_bytes_total Bytes of new asset copies stored.",
        "# TYPE trailmark_asset_stored_bytes_total counter",
        f"trailmark_asset_stored_bytes_total {counts.stored_bytes}",
    ]


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
    warnings = request.app.state.pipeline.proxy_alarm.warnings()
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
    text = request.app.state.metrics.render(request.app.state.store.writer, request.app.state.asset_copies.counts)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


def routes(static_dir: Path) -> list[Route]:
    return [
        *(Route(f"/{name}", public(Bundle(static_dir / name).serve)) for name in BUNDLES),
        Route("/healthz", public(healthz)),
        Route("/metrics", own_check(metrics)),  # a metrics token or the admin token
    ]
