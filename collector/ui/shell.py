"""The dashboard's HTML: one shell (left nav, toolbar, content) that every page fills from its script."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from collector.ui.security import page_headers

STATIC = "/ui/static"

# (path, key, label): the left nav in order.
NAV = [
    ("/overview", "overview", "Overview"),
    ("/live", "live", "Live"),
    ("/sessions", "sessions", "Sessions"),
    ("/funnels", "funnels", "Funnels"),
    ("/journey", "journey", "Journey map"),
    ("/paths", "paths", "Paths"),
    ("/retention", "retention", "Retention"),
    ("/commerce", "commerce", "Commerce"),
    ("/heatmaps", "heatmaps", "Heatmaps"),
    ("/events", "events", "Events"),
    ("/goals", "goals", "Goals"),
    ("/vitals", "vitals", "Web Vitals"),
    ("/errors", "errors", "Errors"),
    ("/surveys", "surveys", "Surveys"),
    ("/experiments", "experiments", "Experiments"),
    ("/people", "people", "People"),
    ("/segments", "segments", "Segments"),
    ("/triggers", "triggers", "Triggers"),
    ("/settings", "settings", "Settings"),
    ("/members", "members", "Members"),
    ("/keys", "keys", "API keys"),
    ("/shares", "shares", "Share links"),
    ("/reports", "reports", "Reports"),
]

LOGO = (
    '<svg class="logo-mark" viewBox="0 0 24 24" aria-hidden="true"><path d="M3 18 L9 10 L14 14 L21 5" '
    'fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/>'
    '<circle cx="21" cy="5" r="2.2" fill="currentColor"/></svg>'
)


def _nav(active: str) -> str:
    links = "".join(
        f'<a href="{path}" data-nav="{key}"{" class=active aria-current=page" if key == active else ""}>'
        f"{escape(label)}</a>"
        for path, key, label in NAV
    )
    return (
        f'<nav class="sidebar" aria-label="Main"><a class="brand" href="/overview">{LOGO}'
        f'<span>Trailmark</span></a><div class="nav-links">{links}</div>'
        '<form class="logout" method="post" action="/logout"><button type="submit">Sign out</button></form>'
        "</nav>"
    )


TOOLBAR = """<header class="toolbar" id="toolbar">
<label class="field"><span>Site</span><select id="f-site" aria-label="Site"></select></label>
<label class="field"><span>Dates</span><select id="f-preset" aria-label="Date range"></select></label>
<label class="field"><span>From</span><input type="date" id="f-from" aria-label="From"></label>
<label class="field"><span>To</span><input type="date" id="f-to" aria-label="To"></label>
<label class="field"><span>Segment</span><select id="f-segment" aria-label="Segment"></select></label>
<button type="button" id="f-apply" class="primary">Apply</button>
<div id="f-add"></div>
<div class="chips" id="f-chips" aria-label="Active filters"></div>
</header>"""


def page(
    key: str,
    title: str,
    body: str = "",
    *,
    script: str | None = None,
    data: dict[str, str] | None = None,
    embeddable: bool = False,
    toolbar: bool = True,
    styles: tuple[str, ...] = (),
    scripts: tuple[str, ...] = (),
    chrome: bool = True,
    recorded: bool = False,
    referrer: str = "same-origin",
) -> HTMLResponse:
    """A dashboard page: `body` is trusted markup (mount points); every value in `data` is escaped.

    `styles` and `scripts` (paths under /ui/static) are a page's own stylesheets and vendor
    scripts; `chrome=False` leaves out the nav and toolbar (the replay player, framed by the
    session page); `recorded` and `referrer` are as in `page_headers`.
    """
    attrs = "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in (data or {}).items())
    own = "".join(f'<link rel="stylesheet" href="{STATIC}/{escape(path)}">\n' for path in styles) + "".join(
        f'<script src="{STATIC}/{escape(path)}" defer></script>\n' for path in scripts)
    script_tag = f'<script type="module" src="{STATIC}/js/pages/{escape(script or key)}.js"></script>'
    if chrome:
        shared = f"""<link rel="stylesheet" href="{STATIC}/vendor/uPlot.min.css">
<link rel="stylesheet" href="{STATIC}/app.css">
<script src="{STATIC}/vendor/uPlot.iife.min.js" defer></script>
"""
        content = f"""<div class="layout">{_nav(key)}<div class="main">{TOOLBAR if toolbar else ""}
<main id="content"><h1 class="page-title">{escape(title)}</h1>{body}</main></div></div>"""
    else:
        shared, content = "", body
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Trailmark</title>
<link rel="icon" href="{STATIC}/favicon.svg" type="image/svg+xml">
{shared}{own}{script_tag}
</head><body data-page="{escape(key)}"{attrs}>
{content}
</body></html>"""
    headers = page_headers(embeddable=embeddable, recorded=recorded, referrer=referrer)
    return HTMLResponse(html, headers=headers)


def login_page(
    *, error: str | None = None, status: int = 200, next_path: str = "/overview",
    headers: dict[str, str] | None = None, email: str = "",
) -> HTMLResponse:
    """The sign-in forms: an account's email and password, or the collector's admin token."""
    alert = f'<p class="alert" role="alert" id="login-error">{escape(error)}</p>' if error else ""
    nxt = f'<input type="hidden" name="next" value="{escape(next_path)}">'
    return _card("Sign in", f"""<h1>Sign in</h1>{alert}
<form method="post" action="/login" id="login-form">{nxt}
<label class="field block"><span>Email</span>
<input type="email" name="email" id="email" autocomplete="username" value="{escape(email)}" required autofocus></label>
<label class="field block"><span>Password</span>
<input type="password" name="password" id="password" autocomplete="current-password" required></label>
<button type="submit" class="primary block">Sign in</button></form>
<form method="post" action="/login" id="token-form" class="token-form">{nxt}
<label class="field block"><span>Or the collector's admin token</span>
<input type="password" name="token" id="token" autocomplete="off" required></label>
<button type="submit" class="block">Sign in with the token</button></form>""", status, headers)


def password_page(
    token: str, email: str, *, error: str | None = None, status: int = 200,
) -> HTMLResponse:
    """Choose a password from an invite (or first-run) link; the link's token rides in the form."""
    alert = f'<p class="alert" role="alert" id="login-error">{escape(error)}</p>' if error else ""
    return _card("Choose a password", f"""<h1>Choose a password</h1>
<p class="muted">For <strong id="invite-email">{escape(email)}</strong>. This link works once.</p>{alert}
<form method="post" action="/invite" id="password-form">
<input type="hidden" name="invite" value="{escape(token)}">
<label class="field block"><span>New password (at least 10 characters)</span>
<input type="password" name="password" id="password" autocomplete="new-password" minlength="10"
 required autofocus></label>
<button type="submit" class="primary block">Save and sign in</button></form>""", status, None)


def _card(title: str, inner: str, status: int, headers: dict[str, str] | None) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Trailmark</title>
<link rel="icon" href="{STATIC}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{STATIC}/app.css">
</head><body class="login-body">
<main class="login-card"><div class="brand">{LOGO}<span>Trailmark</span></div>
{inner}</main>
</body></html>"""
    # same-origin Referer: an invite link's token reaches only our own server (no-referrer would
    # make the browser send `Origin: null` on the form post, which the same-origin check refuses).
    return HTMLResponse(html, status, {**page_headers(), **(headers or {})})
