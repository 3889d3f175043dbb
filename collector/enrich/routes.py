"""Route templates: many concrete paths folded into one page kind (`/product/:id`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_NUMERIC = re.compile(r"^\d+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^(?=.*\d)[0-9a-fA-F]{16,}$")
# Opaque ids such as base62 keys; letters and digits both, so that words are left alone.
_TOKEN = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]{24,}$")

Template = tuple[str, tuple[str, ...], bool]  # (text, segments, ends with "*")


def route_for(path: str, templates: Sequence[str] = ()) -> str:
    """The first matching site template, else the path with id-like segments folded.

    A hash route (`/app#/orders/9`, see normalize.path_of) is matched on its fragment path, as the
    browser SDK matches it, so a click gets the route of its pageview; unmatched, both parts are folded.
    """
    base, mark, fragment = path.partition("#")
    if not mark:
        return _route(path, tuple(templates))
    bang = "!" if fragment.startswith("!") else ""
    inner = fragment[len(bang):]
    matched = _route(inner, tuple(templates))
    if matched in templates:
        return matched
    return f"{_route(base, ())}#{bang}{_route(inner, ())}"


@lru_cache(maxsize=16384)
def _route(path: str, templates: tuple[str, ...]) -> str:
    segments = path.split("/")
    for text, pattern, rest in _compile(templates):
        if _matches(segments, pattern, rest):
            return text
    return "/".join(_fold(segment) for segment in segments) or "/"


@lru_cache(maxsize=256)
def _compile(templates: tuple[str, ...]) -> tuple[Template, ...]:
    compiled = []
    for text in templates:
        segments = text.split("/")
        rest = segments[-1] == "*"
        compiled.append((text, tuple(segments[:-1] if rest else segments), rest))
    return tuple(compiled)


def _matches(segments: list[str], pattern: tuple[str, ...], rest: bool) -> bool:
    if len(segments) < len(pattern) or (not rest and len(segments) != len(pattern)):
        return False
    for segment, expected in zip(segments, pattern, strict=False):
        if expected.startswith(":"):
            if not segment:
                return False
        elif segment != expected:
            return False
    return True


@lru_cache(maxsize=4096)
def _fold(segment: str) -> str:
    """`:id` for numbers, `:uuid` for UUIDs, `:hash` for long hex or opaque ids, else unchanged."""
    if not segment:
        return segment
    if _NUMERIC.match(segment):
        return ":id"
    if _UUID.match(segment):
        return ":uuid"
    if _HEX.match(segment) or _TOKEN.match(segment):
        return ":hash"
    return segment
