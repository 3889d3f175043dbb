"""A session's pageview paths kept on its row: the one text that the writer, the migration and the
overview's reader share.

`sessions.paths` holds, for every pageview of the session, SEPARATOR followed by its path (''
for none), in no particular order: the multiset the overview counts by path. '' is a session
without pageviews. NULL means "not all known", and the reader then reads that session's pageviews
from the events, as it did for every session before: a path holding the separator (a hostile
client can send any character), a text longer than MAX_CHARS (a session's row stays small), or a
pageview deleted (retention, erasure) since a trigger forgets the whole text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SEPARATOR = "\x1f"  # the ASCII unit separator: no browser sends it in a path, and one that does is NULL
MAX_CHARS = 2048  # about a hundred pageviews of a shop's paths; a longer session is read from its events


def of_events_sql(path: str) -> str:
    """The text of a session from its pageviews' `path` column, as an aggregate over them (the
    migration's backfill): the same rules as text()."""
    return (f"CASE WHEN max(instr(coalesce({path}, ''), char(31))) > 0"
            f" OR sum(length(coalesce({path}, '')) + 1) > {MAX_CHARS} THEN NULL"
            f" ELSE coalesce(group_concat(char(31) || coalesce({path}, ''), ''), '') END")


def text(paths: Iterable[str | None]) -> str | None:
    """A group's pageview paths of one session as the text it adds; None if they cannot be kept."""
    entries = []
    for path in paths:
        path = path or ""
        if SEPARATOR in path:
            return None
        entries.append(SEPARATOR + path)
    joined = "".join(entries)
    return joined if len(joined) <= MAX_CHARS else None


# The upsert's rule: NULL stays NULL (unknown stays unknown), the text grows up to MAX_CHARS.
UPSERT = (f"paths = CASE WHEN length(paths) + length(excluded.paths) > {MAX_CHARS} THEN NULL"
          " ELSE paths || excluded.paths END")

# A pageview gone from the events: its session's text no longer matches them.
FORGET = ("UPDATE sessions SET paths = NULL WHERE id = old.session_id AND site_id = old.site_id"
          " AND paths IS NOT NULL;")


def split(joined: str | None) -> list[str]:
    """The paths of a concatenation of session texts."""
    return joined.split(SEPARATOR)[1:] if joined else []


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored session as the other engines show it: without this engine's own column."""
    return {name: value for name, value in dict(row).items() if name != "paths"}
