"""POST /v1/replay: one chunk of a session recording, checked, scrubbed and stored compressed
within the session's and the site's byte budgets (ingest.replay_limits)."""

from __future__ import annotations

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from collector import wire
from collector.depth import MAX_REPLAY_DEPTH
from collector.errors import decode, json_response
from collector.ingest import replay_limits
from collector.ingest.http import commit, now_ms, read_body, site_for
from collector.store.model import ChunkRow, DeadLetter, WriteBatch

_chunk_decoder = msgspec.json.Decoder(wire.ReplayChunk)


async def replay(request: Request, client_ip: str) -> Response:
    body = await read_body(request, replay_limits.MAX_CHUNK_JSON_BYTES)
    chunk = decode(_chunk_decoder, body, "replay chunk", MAX_REPLAY_DEPTH + 2)
    site = site_for(request, chunk.key)
    names = request.app.state.pipeline.sensitive_names(site)
    # Up to 2 MiB: checked, scrubbed and compressed off the event loop (zlib releases the GIL).
    packed = await run_in_threadpool(replay_limits.pack, chunk, names)
    ledger: replay_limits.ReplayLedger = request.app.state.replay_ledger
    received_at = now_ms()
    try:
        hold = ledger.reserve(site.id, chunk.session_id, len(packed.data), received_at)
    except replay_limits.OverBudget as over:
        # a retry of a chunk already held is acknowledged, not refused for the bytes it once added
        if request.app.state.store.chunk_held(site.id, chunk.session_id, chunk.seq):
            return json_response({"accepted": packed.count, "stored": False})
        if over.error.status == 413:
            await commit(request, WriteBatch(
                site_id=site.id, received_at=received_at,
                dead=[DeadLetter(source="replay", reason=over.error.message, kind="over_budget",
                                 raw=f"session {chunk.session_id} seq {chunk.seq}")],
            ))
        # a site over its hourly or daily budget is refused without a dead letter per request:
        # a flood must not turn into dead-letter rows instead
        raise over.error from None
    stored = False
    try:
        result = await commit(request, WriteBatch(
            site_id=site.id, received_at=received_at,
            chunks=[ChunkRow(session_id=chunk.session_id, anon_id=chunk.anon_id, seq=chunk.seq,
                             first_ts=packed.first_ts, last_ts=packed.last_ts, data=packed.data)],
        ))
        stored = bool(result.chunks_stored)
    finally:
        ledger.settle(hold, stored=stored)
    request.app.state.metrics.replay_chunks += result.chunks_stored
    if stored:  # copies of what it loads are made in the background (collector/assets/)
        request.app.state.asset_copies.offer(site, chunk.session_id, packed.last_ts, packed.data)
    return json_response({"accepted": packed.count, "stored": stored})
