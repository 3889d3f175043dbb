"""One asset fetch: from the site's own origins, through the network guard, bounded in every way.

The URLs come from recordings, which anyone holding a site's public write key can send, so the
fetch trusts nothing in them: the origin must be on the site's list, the address must pass the
guard the webhook sender uses, a redirect may not leave the host, no cookie or credential is
sent, and only stylesheets, fonts and images of bounded size are kept.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urljoin, urlsplit

from collector.assets.refs import origin
from collector.triggers import netguard

USER_AGENT = "Trailmark-Assets/1"
ALLOW_PRIVATE_SWITCH = "TRAILMARK_ASSETS_ALLOW_PRIVATE"
# What a copy may be: what a page's stylesheets, fonts and images are served as. Anything else
# (HTML, scripts, JSON) is no asset of a rendered page, whatever the recording says.
CSS_TYPES = frozenset({"text/css"})
FONT_TYPES = frozenset({
    "font/woff2", "font/woff", "font/ttf", "font/otf", "font/sfnt", "font/collection",
    "application/font-woff", "application/font-woff2", "application/x-font-woff", "application/x-font-ttf",
    "application/x-font-otf", "application/font-sfnt", "application/vnd.ms-fontobject",
})
IMAGE_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/svg+xml", "image/x-icon",
    "image/vnd.microsoft.icon", "image/bmp",
})
TYPES = CSS_TYPES | FONT_TYPES | IMAGE_TYPES
# Many servers (object stores, older web servers) send fonts as plain bytes: such an answer is a
# font only when its URL names one, and is kept with that font's type.
UNTYPED = frozenset({"application/octet-stream", "binary/octet-stream"})
FONT_EXTENSIONS = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf",
                   ".eot": "application/vnd.ms-fontobject"}


def _font_type(url: str) -> str | None:
    path = urlsplit(url).path.lower()
    return next((kind for ext, kind in FONT_EXTENSIONS.items() if path.endswith(ext)), None)


# Why a URL is not copied, as /metrics counts it (the message says it for the URL, in a sentence).
REASONS = ("no_origins", "other_origin", "address", "redirect", "status", "type", "size", "network", "budget")


class NotCopied(Exception):
    """The URL is not fetched or its answer not kept; the message says why, in a sentence."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on one fetch (docs/replay.md; TRAILMARK_ASSETS_* variables set them)."""

    allow_private: bool = False
    max_bytes: int = 5 * 1024 * 1024  # a large hero image or a full CJK font, not a video
    timeout_s: float = 10.0  # per connect and per read
    max_redirects: int = 3


@dataclass(frozen=True)
class Fetched:
    url: str  # after same-host redirects
    content_type: str
    data: bytes


def allowed_origin(url: str, origins: tuple[str, ...]) -> bool:
    """The URL's origin is on the site's list (the list ingest checks a request's Origin against)."""
    own = origin(url)
    return any(fnmatchcase(own, pattern.lower()) for pattern in origins)


def fetch(url: str, origins: tuple[str, ...], limits: Limits) -> Fetched:
    """GET one asset; NotCopied for every reason not to keep it."""
    if not origins:
        raise NotCopied("no_origins", "the site lists no origins, so no host is known to be its own")
    for _hop in range(limits.max_redirects + 1):
        if not allowed_origin(url, origins):
            raise NotCopied("other_origin", f"{origin(url)} is not one of the site's origins")
        try:
            target = netguard.resolve(url, allow_private=limits.allow_private, switch=ALLOW_PRIVATE_SWITCH)
        except netguard.Refused as exc:
            raise NotCopied("address", str(exc)) from None
        conn = netguard.connection(target, limits.timeout_s)
        try:
            # No Cookie, Authorization or Referer: only what the site serves to anyone is copied.
            conn.request("GET", target.path, headers={
                "User-Agent": USER_AGENT, "Accept": "text/css,font/*,image/*;q=0.9",
                "Accept-Encoding": "identity",
            })
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = urljoin(url, response.getheader("Location") or "")
                if origin(location) != origin(url):
                    raise NotCopied("redirect", f"{url} redirects to another host ({origin(location)})")
                url = location
                continue
            if response.status != 200:
                raise NotCopied("status", f"{url} answered {response.status}")
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if content_type in UNTYPED:
                content_type = _font_type(url) or content_type
            if content_type not in TYPES:
                raise NotCopied("type", f"{url} is {content_type or 'of no type'}, not a stylesheet, font or image")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > limits.max_bytes:
                raise NotCopied("size", f"{url} is {length} bytes, over the {limits.max_bytes} byte limit")
            data = response.read(limits.max_bytes + 1)
            if len(data) > limits.max_bytes:
                raise NotCopied("size", f"{url} is over the {limits.max_bytes} byte limit")
            return Fetched(url, content_type, data)
        except (OSError, http.client.HTTPException) as exc:
            raise NotCopied("network", f"{url}: {type(exc).__name__}: {exc}"[:300]) from None
        finally:
            conn.close()
    raise NotCopied("redirect", f"{url} redirects more than {limits.max_redirects} times")
