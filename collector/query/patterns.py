"""Page patterns as analysts write them (docs/api.md): an exact URL, a `/path`, either with `*`
wildcards, or a route template `/route/:id` that matches its stored route or a path with the same
segments. Each engine turns a pattern into its own SQL (its reads' `url_match`); `page_tests` is
the same rule in Python, for what is matched outside SQL (the journey map's walk, triggers, the
SQLite paths' read of a session's pages)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

PARAM_SEGMENT = re.compile(r"^:[A-Za-z_][A-Za-z0-9_]*$")


def is_route_template(pattern: str) -> bool:
    return pattern.startswith("/") and any(PARAM_SEGMENT.match(s) for s in pattern.split("/"))


# A page rule as tests of a touch's fields, any of which passing matches it: (field, test of its value).
FieldTest = tuple[str, Callable[[str | None], bool]]


@functools.lru_cache(maxsize=256)  # a map reads every touch against the same few patterns
def page_tests(pattern: str) -> tuple[FieldTest, ...]:
    """The rule of a pattern, field by field ("url", "path", "route")."""
    if is_route_template(pattern):
        segments = pattern.split("/")
        slashes = pattern.count("/")
        fixed = [(i, s) for i, s in enumerate(segments) if not PARAM_SEGMENT.match(s)]

        def template(path: str | None) -> bool:
            if path is None or path.count("/") != slashes:
                return False
            parts = path.split("/")
            return all(parts[i] == s for i, s in fixed)

        return ("route", lambda route: route == pattern), ("path", template)
    field = "path" if pattern.startswith("/") else "url"
    if "*" not in pattern:
        return ((field, lambda value: value == pattern),)
    regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
    return ((field, lambda value: value is not None and regex.fullmatch(value) is not None),)
