"""Secrets removed from recorded URLs before a replay chunk is stored (docs/privacy.md, "Session replays")."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from collector.enrich.urls import DEFAULT_SENSITIVE_PARAMS, strip_in_json, strip_url

# Keys whose string values are URLs in rrweb events: the page URL of a meta event (`href`) and
# the URL-bearing attributes of recorded elements, in full snapshots and mutations alike.
# rrweb renames the src of an iframe it does not descend into to `rr_src`.
URL_KEYS = frozenset({
    "href", "src", "rr_src", "srcset", "action", "formaction", "poster", "cite", "ping",
    "background", "data", "xlink:href",
})  # fmt: skip

# CSS rrweb records (a stylesheet's text, a style attribute, an inserted rule): rrweb rewrites
# relative url()s against the page URL, which keeps its query when the query holds a "/".
CSS_KEYS = frozenset({"_cssText", "style", "rule"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)""")

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_TOKEN = re.compile(r"\S+")  # srcset and ping hold several URLs apart by white space


def scrub_events(events: Sequence[bytes], names: frozenset[str] = DEFAULT_SENSITIVE_PARAMS) -> bytes:
    """The chunk's events as one JSON array, sensitive parameters gone from every recorded URL."""
    return b"[" + b",".join(_scrub_event(bytes(e), names) for e in events) + b"]"


def _scrub_event(raw: bytes, names: frozenset[str]) -> bytes:
    # Mouse moves, scrolls and inputs carry no URL: only events with a "?" or "#" can hold one
    # (or a "\u" escape that hides either).
    if b"?" not in raw and b"#" not in raw and b"\\u" not in raw:
        return raw
    try:
        event = _decode(raw)
    except (msgspec.DecodeError, RecursionError):
        # Deeper than the decoder goes: strip every URL-like string in the text instead.
        return strip_in_json(raw.decode("utf-8", "replace"), names).encode()
    changed = False
    stack: list[object] = [event]
    while stack:  # by hand: a deep DOM would overflow a recursive walk
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if "=" not in value:
                        continue
                    if key in URL_KEYS:
                        stripped = _TOKEN.sub(lambda m: strip_url(m.group(), names), value)
                    elif key in CSS_KEYS:
                        stripped = _CSS_URL.sub(lambda m: _css_url(m, names), value)
                    else:
                        continue
                    if stripped != value:
                        node[key] = stripped
                        changed = True
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return _encode(event) if changed else raw


def _css_url(match: re.Match[str], names: frozenset[str]) -> str:
    quote, url = match.group(1), match.group(2)
    return f"url({quote}{strip_url(url, names)}{quote})"
