"""Page patterns as analysts write them, turned into parameterized SQL over an events alias."""

from __future__ import annotations

from collector.query.patterns import PARAM_SEGMENT, is_route_template


def glob_literal(text: str) -> str:
    """Text with GLOB's special characters quoted, so that only our `*` are wildcards."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def url_match(pattern: str, alias: str = "e") -> tuple[str, list[object]]:
    """SQL matching a stored event's page: exact URL, `/path` only, `*` wildcard, or `/route/:id`."""
    if not pattern:
        raise ValueError("a page pattern must not be empty")
    if is_route_template(pattern):
        # A template matches its stored route, or a path with the same segments where each
        # `:param` is one segment (fixing the slash count keeps `*` inside one segment).
        segments = pattern.split("/")
        glob = "/".join("*" if PARAM_SEGMENT.match(s) else glob_literal(s) for s in segments)
        slashes = pattern.count("/")
        return (
            f"({alias}.route = ? OR ({alias}.path GLOB ?"
            f" AND length({alias}.path) - length(replace({alias}.path, '/', '')) = ?))",
            [pattern, glob, slashes],
        )
    column = f"{alias}.path" if pattern.startswith("/") else f"{alias}.url"
    if "*" in pattern:
        glob = "*".join(glob_literal(part) for part in pattern.split("*"))
        return f"{column} GLOB ?", [glob]
    return f"{column} = ?", [pattern]
