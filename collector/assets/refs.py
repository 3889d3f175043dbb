"""The asset URLs a recording uses, and the recording's text with them pointed at stored copies.

rrweb records absolute URLs: element attributes (`src`, `srcset`, a stylesheet `<link>`'s
`href`, `style`), the text of inlined stylesheets (`_cssText`, a `<style>`'s text) and the rules
and declarations it sees changed later. Those are the places read here; a URL elsewhere (a link
to another page, text that happens to look like a URL) is no asset and is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec

from collector.wire import json_decoder, json_encoder

# url(...) with or without quotes, and `@import "x.css"` without url().
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# The attributes that name an image; a `<link>`'s href only when it is a stylesheet.
_IMAGE_ATTRIBUTES = ("src", "poster")
_CSS_ATTRIBUTES = ("style", "_cssText")
MAX_URL_CHARS = 2048


def is_asset_url(url: str) -> bool:
    """An absolute http(s) URL of sane length (data: and blob: URLs need no copy)."""
    return len(url) <= MAX_URL_CHARS and url[:8].lower().startswith(("http://", "https://"))


def css_urls(css: str, base: str | None = None) -> Iterator[str]:
    """The URLs a stylesheet's text loads (url() and @import), resolved against `base` when given."""
    for pattern in (_CSS_URL, _CSS_IMPORT):
        for match in pattern.finditer(css):
            raw = next((g for g in match.groups() if g is not None), "").strip()
            if raw and not raw.startswith(("data:", "blob:", "#")):
                yield urljoin(base, raw) if base else raw


def srcset_urls(srcset: str) -> Iterator[str]:
    """The URLs of a srcset: comma-separated candidates, each a URL and an optional descriptor."""
    for candidate in srcset.split(","):
        parts = candidate.strip().split()
        if parts:
            yield parts[0]


def _attribute_urls(tag: str | None, attributes: Mapping[str, Any]) -> Iterator[str]:
    for name, value in attributes.items():
        if not isinstance(value, str):
            continue
        if name in _IMAGE_ATTRIBUTES:
            yield value
        elif name == "srcset":
            yield from srcset_urls(value)
        elif name in _CSS_ATTRIBUTES:
            yield from css_urls(value)
        elif name == "href" and tag == "link" and "stylesheet" in str(attributes.get("rel", "")).lower():
            yield value


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item)
        return
    if not isinstance(value, dict):
        return
    attributes = value.get("attributes")
    if isinstance(attributes, dict):
        tag = value.get("tagName")
        yield from _attribute_urls(tag.lower() if isinstance(tag, str) else None, attributes)
    text = value.get("textContent")
    if value.get("isStyle") and isinstance(text, str):
        yield from css_urls(text)
    rule = value.get("rule")  # an inserted stylesheet rule
    if isinstance(rule, str):
        yield from css_urls(rule)
    declaration = value.get("set")  # a changed style declaration
    if isinstance(declaration, dict) and isinstance(declaration.get("value"), str):
        yield from css_urls(declaration["value"])
    for item in value.values():
        if isinstance(item, (list, dict)):
            yield from _walk(item)


def recorded_urls(events_json: bytes) -> set[str]:
    """The asset URLs a chunk's events (a JSON array) load; empty for a chunk that is not JSON."""
    try:
        events = json_decoder.decode(events_json)
    except msgspec.DecodeError:
        return set()
    return {url for url in _walk(events) if is_asset_url(url)}


def _json_text(url: str) -> bytes:
    """How a URL reads inside a JSON string."""
    return json_encoder.encode(url)[1:-1]


# A URL is replaced only whole: between the delimiters it has in an attribute, a srcset or a
# url() (`https://a.example/x.png` must not match inside `https://a.example/x.png?v=2`).
_BEFORE = rb"""(?<=["'(\s,])"""
_AFTER = rb"""(?=["'\\)\s,])"""


def rewrite_json(text: bytes, copies: Mapping[str, str]) -> bytes:
    """JSON text with each URL in `copies` replaced by its copy's path."""
    if not copies:
        return text
    by_text = {_json_text(url): _json_text(path) for url, path in copies.items()}
    alternatives = b"|".join(re.escape(t) for t in sorted(by_text, key=len, reverse=True))
    pattern = re.compile(_BEFORE + b"(" + alternatives + b")" + _AFTER)
    return pattern.sub(lambda m: by_text[m.group(1)], text)


def rewrite_css(css: str, base: str, copies: Mapping[str, str]) -> str:
    """A fetched stylesheet's text with its url()s and @imports resolved against `base` and pointed
    at copies; a URL without a copy becomes absolute (the viewer's policy blocks it, as before)."""

    def replace(match: re.Match[str]) -> str:
        raw = next((g for g in match.groups() if g is not None), "").strip()
        if not raw or raw.startswith(("data:", "blob:", "#")):
            return match.group(0)
        url = urljoin(base, raw)
        target = copies.get(url, url)
        return f'url("{target}")' if match.re is _CSS_URL else f'@import "{target}"'

    return _CSS_IMPORT.sub(replace, _CSS_URL.sub(replace, css))


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a browser's Origin header writes it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()


def unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))
