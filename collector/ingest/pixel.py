"""GET /v1/p.gif: a pageview for pages without JavaScript (an <img> tag); always answers the GIF."""

from __future__ import annotations

import base64
import uuid

from starlette.requests import Request
from starlette.responses import Response

from collector import wire
from collector.errors import ClientError
from collector.ingest.http import admit, commit, now_ms, site_for, user_agent
from collector.ingest.pipeline import Rejected
from collector.store import StoreFault
from collector.store.model import WriteBatch

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


async def pixel(request: Request) -> Response:
    headers = {"Cache-Control": "no-store", "Content-Type": "image/gif"}
    gif = Response(PIXEL, 200, headers)
    params = request.query_params
    received_at = now_ms()
    try:
        client_ip = admit(request)
        site = site_for(request, params.get("k", ""), page=True)
        pipeline = request.app.state.pipeline
        facts = pipeline.facts(client_ip, user_agent(request), site, received_at, None)
        event = wire.Pageview(
            id=str(uuid.uuid4()), ts=received_at, url=params.get("u", "")[:2048] or None,
            referrer=params.get("r", "")[:2048] or None,
        )
        await commit(request, WriteBatch(
            site_id=site.id, received_at=received_at, context=facts.context,
            events=[pipeline.row(event, facts, site)],
        ))
        request.app.state.metrics.accepted += 1
    except (ClientError, Rejected, StoreFault):
        pass  # an image tag cannot read an error; the GIF keeps the page intact
    return gif
