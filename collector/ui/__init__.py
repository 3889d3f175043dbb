"""The analyst dashboard: login, the page shell and its static assets, served by the collector."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route

from collector.access import public, public_mount
from collector.ui import heatmap, login, pages, replay
from collector.ui.security import Assets

STATIC_DIR = Path(__file__).parent / "static"



@public
async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on pages that name no icon (JSON, the replay player): the logo, not a 404."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


routes = [
    Route("/favicon.ico", favicon),
    Route("/", pages.home),
    Route("/login", login.login_form, methods=["GET"]),
    Route("/login", login.login_submit, methods=["POST"]),
    Route("/logout", login.logout, methods=["POST"]),
    Route("/invite/{token}", login.invite_form, methods=["GET"]),
    Route("/invite", login.invite_submit, methods=["POST"]),
    Route("/overview", pages.overview),
    Route("/sessions", pages.sessions),
    Route("/sessions/{id}", pages.session_detail),
    Route("/funnels", pages.funnels),
    Route("/paths", pages.paths),
    Route("/journey", pages.journey),
    Route("/retention", pages.retention),
    Route("/commerce", pages.commerce),
    Route("/surveys", pages.surveys),
    Route("/people", pages.people),
    Route("/people/{id}", pages.person_page),
    Route("/segments", pages.segments),
    Route("/experiments", pages.experiments),
    Route("/experiments/{key}", pages.experiment_page),
    Route("/settings", pages.settings),
    Route("/triggers", pages.triggers),
    Route("/goals", pages.goals),
    Route("/events", pages.events),
    Route("/vitals", pages.vitals),
    Route("/errors", pages.errors),
    Route("/live", pages.live),
    *heatmap.routes,
    *replay.routes,
    public_mount(Mount("/ui/static", Assets(directory=STATIC_DIR), name="ui-static")),
]
