"""The analyst dashboard: login, the page shell and its static assets, served by the collector."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route

from collector.ui import login, pages
from collector.ui.security import Assets

STATIC_DIR = Path(__file__).parent / "static"

routes = [
    Route("/", pages.home),
    Route("/login", login.login_form, methods=["GET"]),
    Route("/login", login.login_submit, methods=["POST"]),
    Route("/logout", login.logout, methods=["POST"]),
    Route("/overview", pages.overview),
    Route("/sessions", pages.sessions),
    Route("/sessions/{id}", pages.session_detail),
    Route("/funnels", pages.funnels),
    Route("/paths", pages.paths),
    Route("/retention", pages.retention),
    Route("/commerce", pages.commerce),
    Route("/surveys", pages.surveys),
    Route("/people", pages.people),
    Route("/people/{id}", pages.person_page),
    Route("/segments", pages.segments),
    Route("/settings", pages.settings),
    Route("/triggers", pages.triggers),
    Route("/heatmaps", pages.heatmaps_placeholder),
    Mount("/ui/static", Assets(directory=STATIC_DIR), name="ui-static"),
]
