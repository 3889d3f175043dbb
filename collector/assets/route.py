"""GET /replay-assets/{id}: a stored copy of a recorded asset, for the replay player and heatmap viewer."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.access import ANALYST, ANY, api, who
from collector.auth import RANK
from collector.errors import ClientError
from collector.store import NotAnswered
from collector.store.assets import AssetStore

_ID = re.compile(r"^[0-9a-f]{40}$")
# A copy is only ever a subresource of a rebuilt page. Opened on its own (an SVG can hold
# scripts), it runs nothing and loads nothing but its own kind; nosniff keeps it the type it was
# stored as, and other sites may not embed it.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; font-src 'self'; style-src 'self' 'unsafe-inline'; sandbox"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
    # the id is a hash of the bytes: a copy never changes
    "Cache-Control": "private, max-age=31536000, immutable",
}


@api(ANALYST, ANY)
def asset(request: Request) -> Response:
    store = request.app.state.store
    if not isinstance(store, AssetStore):
        raise NotAnswered(getattr(store, "engine", "configured"), "copies of recorded assets")
    asset_id = request.path_params["id"]
    copy = store.asset_copy(asset_id) if _ID.match(asset_id) else None
    # The id names no site, so the role is checked on the copy's own: an analyst of another site
    # learns nothing, not even that the copy exists.
    if copy is None or who(request).rank(copy.site_id) < RANK[ANALYST]:
        raise ClientError(404, "no such asset copy")
    return Response(copy.data, 200, HEADERS, copy.content_type)


routes = [Route("/replay-assets/{id}", asset)]
