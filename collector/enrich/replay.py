"""Secrets removed from recorded URLs before a replay chunk is stored (docs/privacy.md, "Session replays")."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from collector.enrich.urls import DEFAULT_SENSITIVE_PARAMS, strip_in_json, strip_url
from collector.wire import json_decoder, json_encoder

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

_KEYS = "|".join(re.escape(k) for k in sorted(URL_KEYS | CSS_KEYS))
_ANY_VALUE = re.compile(rf'"({_KEYS})"\s*:\s*"')  # every string value under one of the keys
_PLAIN_VALUE = re.compile(rf'"({_KEYS})":"([^"\\]*)"')  # those written without escapes or spaces

_decode = json_decoder.decode
_encode = json_encoder.encode
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
        text = raw.decode()
    except UnicodeDecodeError:
        return _scrub_decoded(raw, names)
    # A string without escapes reads the same in JSON and in Python, so when every URL or CSS
    # value is such a string (as JSON.stringify writes them) the values are stripped in place:
    # decoding a snapshot costs more than the rest together (bench/replay_scrub.py).
    if "\\u" in text:
        return _scrub_decoded(raw, names)
    pieces: list[str] = []
    done = plain = 0
    for m in _PLAIN_VALUE.finditer(text):
        plain += 1
        stripped = _strip(m[1], m[2], names)
        if stripped != m[2]:
            pieces += (text[done : m.start(2)], stripped)
            done = m.end(2)
    if plain != len(_ANY_VALUE.findall(text)):  # an escaped or spaced value: decode after all
        return _scrub_decoded(raw, names)
    return ("".join(pieces) + text[done:]).encode() if pieces else raw


def _strip(key: str, value: str, names: frozenset[str]) -> str:
    if "=" not in value:
        return value
    if key in CSS_KEYS:
        return _CSS_URL.sub(lambda m: _css_url(m, names), value)
    if len(value.split()) == 1 and not value[0].isspace() and not value[-1].isspace():
        return strip_url(value, names)
    return _TOKEN.sub(lambda m: strip_url(m.group(), names), value)


def _scrub_decoded(raw: bytes, names: frozenset[str]) -> bytes:
    """The slow path, for escaped strings and odd spacing: decode, walk, encode."""
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
                    if key in URL_KEYS or key in CSS_KEYS:
                        stripped = _strip(key, value, names)
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
