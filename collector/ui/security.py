"""Response headers that lock dashboard pages down: a strict CSP, no framing, no sniffing."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

# No inline scripts or styles anywhere: every script is a file under /ui/static. Element styles set
# from JS (uPlot sizes its canvas that way) go through the CSSOM, which style-src does not govern.
DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Where recorded content may load from while an analyst views it: the collector itself and
# inline data, never the recorded site or any other host (a recording must not make the analyst's
# browser call out, nor tell anyone what is being watched). The site's stylesheets, fonts and images
# come from the collector's copies of them (/replay-assets/, collector/assets/), which 'self' covers.
RECORDED_SOURCES = "'self' data: blob:"
# Pages that rebuild a recorded page (replay player, heatmap viewer): rrweb rebuilds into an
# about:blank iframe, which inherits the page's policy, and recorded pages carry <style> elements
# and style attributes. Scripts stay 'self' only, and the iframe's sandbox has no allow-scripts,
# so nothing recorded ever runs; default-src 'self' covers preload, prefetch and manifests.
RECORDED = {
    "style-src": "'self' 'unsafe-inline'",
    "img-src": RECORDED_SOURCES,
    "font-src": RECORDED_SOURCES,
    "media-src": RECORDED_SOURCES,
    "connect-src": "'self'",
}


def csp(*, embeddable: bool = False, recorded: bool = False) -> str:
    directives = {**DIRECTIVES, **(RECORDED if recorded else {})}
    if embeddable:
        directives["frame-ancestors"] = "'self'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CSP = csp()


def page_headers(
    *, embeddable: bool = False, recorded: bool = False, referrer: str = "same-origin"
) -> dict[str, str]:
    """Headers for an HTML page; `embeddable` pages (a replay player) may be framed by our own pages.

    `referrer` no-referrer suits pages that post nothing: a browser sends `Origin: null` on a
    form post from such a page, which the login and logout checks rightly refuse.
    """
    return {
        "Content-Security-Policy": csp(embeddable=embeddable, recorded=recorded),
        "X-Frame-Options": "SAMEORIGIN" if embeddable else "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": referrer,
        "Cache-Control": "no-store",
    }


class Assets(StaticFiles):
    """Static files with nosniff, so a browser never runs a file as something it is not."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"cache-control", b"no-cache"))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)
