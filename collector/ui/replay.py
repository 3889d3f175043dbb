"""The replay player page at /sessions/{id}/replay: standalone, or framed by the dashboard."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from collector.ui import shell
from collector.ui.login import logged_in
from collector.ui.security import page_headers

STATIC = shell.STATIC


def player_html(session_id: str) -> str:
    sid = escape(session_id)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Replay {sid} · Trailmark</title>
<link rel="stylesheet" href="{STATIC}/vendor/rrweb-player.min.css">
<link rel="stylesheet" href="{STATIC}/replay.css">
<script src="{STATIC}/vendor/rrweb-player.min.js" defer></script>
<script src="{STATIC}/replay.js" defer></script>
</head><body class="tm-replay-page">
<div id="replay" data-session="{sid}"></div>
</body></html>"""


async def replay_page(request: Request) -> Response:
    if not logged_in(request):
        target = quote(request.url.path, safe="")
        return RedirectResponse(f"/login?next={target}", 303)
    # The player posts nothing, so the whole page (and the frame it rebuilds recordings in)
    # sends no Referer anywhere.
    headers = page_headers(embeddable=True, recorded=True, referrer="no-referrer")
    return HTMLResponse(player_html(request.path_params["id"]), headers=headers)


routes = [Route("/sessions/{id}/replay", replay_page)]
