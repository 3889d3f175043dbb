"""The replay player page at /sessions/{id}/replay: standalone, or framed by the session page."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.access import ANALYST, page
from collector.ui import shell


async def replay(request: Request) -> Response:
    # The player posts nothing, so the whole page (and the frame it rebuilds recordings in)
    # sends no Referer anywhere.
    session_id = request.path_params["id"]
    mount = f'<div id="replay" data-session="{escape(session_id)}"></div>'
    return shell.page("replay", f"Replay {session_id}", mount, chrome=False, embeddable=True, recorded=True,
                      referrer="no-referrer", styles=("vendor/rrweb-player.min.css", "replay.css"),
                      scripts=("vendor/rrweb-player.min.js",))


routes = [Route("/sessions/{id}/replay", page(ANALYST)(replay))]
