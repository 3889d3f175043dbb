"""Ingest, mounted at /v1: an event's way in, one module per step of its path.

http.py (admission, the site, CORS, the body, the commit) -> batch.py / pixel.py / replay.py (the
endpoints) -> pipeline.py (decode, clock, scrub URLs, route, acquisition, context and visitor, row).
"""

from __future__ import annotations

from starlette.routing import Route

from collector.access import public
from collector.ingest.batch import batch
from collector.ingest.http import endpoint, preflight
from collector.ingest.pixel import pixel
from collector.ingest.replay import replay

# Anyone may send: a site's write key is checked by ingest itself (collector/access.py).
routes = [
    Route("/batch", public(endpoint(batch)), methods=["POST"]),
    Route("/batch", public(preflight), methods=["OPTIONS"]),
    Route("/replay", public(endpoint(replay)), methods=["POST"]),
    Route("/replay", public(preflight), methods=["OPTIONS"]),
    Route("/p.gif", public(pixel), methods=["GET"]),
]
