"""The heatmap page at /heatmaps: a recorded page rebuilt in a sandboxed iframe under a heat layer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector.access import VIEWER, page
from collector.ui import shell

# The devices and layers are filled in by the page from GET /api/ui/choices.
BODY = """<section class="panel hm-controls" aria-label="Heatmap settings">
<label class="field"><span>Page</span><select id="hm-page" aria-label="Page"></select></label>
<label class="field"><span>Device</span><select id="hm-device" aria-label="Device"></select></label>
<div class="hm-kinds" id="hm-kinds" role="radiogroup" aria-label="Layer"></div>
<p class="hm-status" id="hm-status" role="status"></p></section>
<section class="hm-layout"><div class="panel hm-stage-panel"><div class="hm-scroller" id="hm-scroller">
<div class="hm-sizer" id="hm-sizer"><div class="hm-stage" id="hm-stage"><canvas id="hm-canvas" class="hm-canvas">
</canvas></div></div></div></div>
<div class="panel hm-side"><h2 id="hm-side-title">Most clicked</h2><div id="hm-list"></div></div></section>"""


async def heatmaps(request: Request) -> Response:
    # recorded: the rebuilt page's own styles and images are shown (security.csp)
    return shell.page("heatmaps", "Heatmaps", BODY, styles=("heatmap.css",),
                      scripts=("vendor/heatmap-vendor.js",), recorded=True)


routes = [Route("/heatmaps", page(VIEWER)(heatmaps))]  # clicks and scroll; the recorded page is an analyst's
