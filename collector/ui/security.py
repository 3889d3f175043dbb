"""Response headers that lock dashboard pages down: a strict CSP, no framing, no sniffing."""

from __future__ import annotations

from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

# No inline scripts or styles anywhere: every script is a file under /ui/static. Element styles set
# from JS (uPlot sizes its canvas that way) go through the CSSOM, which style-src does not govern.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def page_headers(*, embeddable: bool = False) -> dict[str, str]:
    """Headers for an HTML page; `embeddable` pages (a replay player) may be framed by our own pages."""
    return {
        "Content-Security-Policy": CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
        if embeddable else CSP,
        "X-Frame-Options": "SAMEORIGIN" if embeddable else "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
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
