"""A session's pageview paths kept on its row, by triggers: the text that the migration and the
readers share.

`sessions.paths` holds, for every pageview of the session, SEPARATOR followed by its path (''
for none), in the session's order of views: time, then path, then arrival, the order of the
index events_session_type that the text is read from. The overview counts it by path; paths on
a path pattern walk it (reads/paths.py). '' is a session without pageviews. It is recomputed
from the session's stored pageviews whenever their count changes (one seek in the session index,
once per session and group commit), so it is exact by construction. NULL means "not known", and
a reader then reads that session's pageviews from the events: a path holding the separator (a
hostile client can send any character), a text longer than MAX_CHARS (a session's row stays
small), or a pageview deleted since (retention, erasure: the text is forgotten, not edited).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SEPARATOR = "\x1f"  # char(31), the ASCII unit separator: no browser sends it in a path
MAX_CHARS = 2048  # about a hundred pageviews of a shop's paths; a longer session is read from its events


def of_events_sql(row: str) -> str:
    """The text of session `row` (an alias, `new`), from its pageviews."""
    path = "coalesce(e.path, '')"
    return (
        f"(SELECT CASE WHEN max(instr({path}, char(31))) > 0 OR sum(length({path}) + 1) > {MAX_CHARS} THEN NULL"
        f" ELSE coalesce(group_concat(char(31) || {path}, ''), '') END"
        " FROM events e INDEXED BY events_session_type"
        f" WHERE e.site_id = {row}.site_id AND e.session_id = {row}.id AND e.type = 'pageview')"
    )


def split(joined: str | None) -> list[str]:
    """The paths of a concatenation of session texts."""
    return joined.split(SEPARATOR)[1:] if joined else []


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored session as the other engines show it: without this engine's own column."""
    return {name: value for name, value in dict(row).items() if name != "paths"}
