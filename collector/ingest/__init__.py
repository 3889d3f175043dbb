"""Ingest, mounted at /v1: an event's way in, one module per step of its path.

http.py (admission, the site, CORS, the body, the commit) -> batch.py / pixel.py / replay.py (the
endpoints) -> pipeline.py (decode, clock, scrub URLs, route, acquisition, context and visitor, row).
"""

from __future__ import annotations

from starlette.routing import Route

from collector.ingest.batch import batch
from collector.ingest.http import endpoint, preflight
from collector.ingest.pixel import pixel
from collector.ingest.replay import replay

routes = [
    Route("/batch", endpoint(batch), methods=["POST"]),
    Route("/batch", preflight, methods=["OPTIONS"]),
    Route("/replay", endpoint(replay), methods=["POST"]),
    Route("/replay", preflight, methods=["OPTIONS"]),
    Route("/p.gif", pixel, methods=["GET"]),
]
