"""Dashboard pages for members, API keys, share links and reports, and the public page a share
link opens (server-rendered: the visitor has no session for the dashboard's scripts to use)."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from collector.access import OWNER, public
from collector.api.teams import open_share, shared_data
from collector.errors import ClientError
from collector.ui import shell
from collector.ui.pages import simple
from collector.ui.security import page_headers

SECTION = '<section id="page-body"></section>'

LABELS = {
    "visitors": "Visitors", "sessions": "Sessions", "pageviews": "Pageviews", "bounce_rate": "Bounce rate",
    "avg_duration_s": "Avg. duration (s)", "conversion_rate": "Conversion", "revenue": "Revenue",
    "aov": "Avg. order value", "cart_abandonment_rate": "Cart abandonment",
}
MAX_ROWS = 50


def _value(value: Any, key: str = "") -> str:
    if isinstance(value, float):
        if key.endswith("rate") or key in ("share", "conversion"):
            return f"{value * 100:.1f}%"
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "–" if value is None else str(value)


def _cards(metrics: dict[str, Any]) -> str:
    cards = []
    for key, metric in metrics.items():
        value = metric.get("value") if isinstance(metric, dict) else metric
        cards.append(f'<div class="card" data-kpi="{escape(key)}"><div class="label">'
                     f'{escape(LABELS.get(key, key.replace("_", " ")))}</div>'
                     f'<div class="value">{escape(_value(value, key))}</div></div>')
    return f'<section class="cards" id="kpis">{"".join(cards)}</section>'


def _table(title: str, rows: list[dict[str, Any]]) -> str:
    columns = [c for c in rows[0] if not isinstance(rows[0][c], (dict, list))][:8]
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_value(row.get(c), c))}</td>" for c in columns) + "</tr>"
        for row in rows[:MAX_ROWS])
    return (f'<section class="panel"><h2>{escape(title.replace("_", " ").capitalize())}</h2>'
            f'<div class="table-wrap"><table class="table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div></section>")


def render_data(data: dict[str, Any]) -> str:
    """Any view's JSON as cards (its metrics) and tables (its lists of rows)."""
    parts = []
    if isinstance(data.get("metrics"), dict):
        parts.append(_cards(data["metrics"]))
    facts = {k: v for k, v in data.items()
             if isinstance(v, (int, float, str)) and not isinstance(v, bool) and k not in ("interval", "currency")}
    if facts:
        parts.append(_cards(facts))
    for key, value in data.items():
        if key.endswith("series"):  # the daily chart's points: the dashboard draws them, a table would not help
            continue
        if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
            parts.append(_table(key, value))
    return "".join(parts) or '<section class="panel"><p class="muted">Nothing in this range.</p></section>'


@public
async def share_page(request: Request) -> Response:
    try:
        share = open_share(request, request.path_params["token"])
        shown = shared_data(request, share)
    except ClientError as exc:
        return _share_html("Not available", f'<p class="alert" role="alert">{escape(exc.message)}.</p>', exc.status)
    until = dt.datetime.fromtimestamp(shown["expires_at"], dt.UTC).strftime("%Y-%m-%d")
    title = f"{shown['site']['name']} · {shown['view'].capitalize()}"
    body = (f'<p class="muted" id="share-note">A read-only view shared from Trailmark; the link works until {until}.'
            f"</p>{render_data(shown['data'])}")
    return _share_html(title, body, 200)


def _share_html(title: str, body: str, status: int) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)} · Trailmark</title>
<link rel="icon" href="{shell.STATIC}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{shell.STATIC}/app.css">
</head><body class="share-body"><div class="main"><main id="content">
<div class="brand share-brand">{shell.LOGO}<span>Trailmark</span></div>
<h1 class="page-title">{escape(title)}</h1>{body}</main></div></body></html>"""
    # The token is the URL: no Referer leaves the page with it.
    return HTMLResponse(html, status, page_headers(referrer="no-referrer"))


members = simple("members", "Members", SECTION, OWNER)
keys = simple("keys", "API keys", SECTION, OWNER)
shares = simple("shares", "Share links", SECTION, OWNER)
reports = simple("reports", "Reports and alerts", SECTION, OWNER)

routes = [
    Route("/share/{token}", share_page),
    Route("/members", members),
    Route("/keys", keys),
    Route("/shares", shares),
    Route("/reports", reports),
]
