"""The heatmap viewer at /heatmaps: a recorded page rebuilt in a sandboxed iframe under a heat layer."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from collector.ui import shell
from collector.ui.pages import protected
from collector.ui.security import page_headers

STATIC = shell.STATIC

BODY = """<section class="panel hm-controls" aria-label="Heatmap settings">
<label class="field"><span>Page</span><select id="hm-page" aria-label="Page"></select></label>
<label class="field"><span>Device</span><select id="hm-device" aria-label="Device">
<option value="desktop">Desktop</option><option value="tablet">Tablet</option>
<option value="mobile">Mobile</option></select></label>
<div class="hm-kinds" role="radiogroup" aria-label="Layer">
<button type="button" data-kind="click" role="radio">Clicks</button>
<button type="button" data-kind="rage" role="radio">Rage clicks</button>
<button type="button" data-kind="scroll" role="radio">Scroll</button></div>
<p class="hm-status" id="hm-status" role="status"></p></section>
<section class="hm-layout"><div class="panel hm-stage-panel"><div class="hm-scroller" id="hm-scroller">
<div class="hm-sizer" id="hm-sizer"><div class="hm-stage" id="hm-stage"><canvas id="hm-canvas" class="hm-canvas">
</canvas></div></div></div></div>
<div class="panel hm-side"><h2 id="hm-side-title">Most clicked</h2><div id="hm-list"></div></div></section>"""


def page_html() -> str:
    html = bytes(shell.page("heatmaps", "Heatmaps", BODY).body).decode()
    # The shell links the dashboard's own page script; the viewer brings its own files instead.
    own = (
        f'<link rel="stylesheet" href="{STATIC}/heatmap.css">\n'
        f'<script src="{STATIC}/vendor/heatmap-vendor.js" defer></script>\n'
        f'<script type="module" src="{STATIC}/heatmap.js"></script>'
    )
    placeholder = f'<script type="module" src="{STATIC}/js/pages/{escape("heatmaps")}.js"></script>'
    assert placeholder in html, "the dashboard shell changed how it links page scripts"
    return html.replace(placeholder, own)


async def heatmaps(request: Request) -> Response:
    headers = page_headers(recorded=True)
    return HTMLResponse(page_html(), headers=headers)


routes = [Route("/heatmaps", protected(heatmaps))]
