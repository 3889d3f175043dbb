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
                    if key in URL_KEYS and ("?" in value or "#" in value):
                        stripped = _TOKEN.sub(lambda m: strip_url(m.group(), names), value)
                        if stripped != value:
                            node[key] = stripped
                            changed = True
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return _encode(event) if changed else raw
