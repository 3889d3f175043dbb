"""The events a group commit has just stored, named once for what is kept on write from them
(the heatmaps' click grids, the sessions' touches).

SQLite numbers a table's new rows after its largest rowid, in the order they are inserted, until
that rowid is the largest integer there is; from then on it picks free rowids at random. A group
is therefore found by rowid (the rows after the largest one before it, read in place) when its
rows were numbered in order, and otherwise by its sites and ids (their rowids looked up).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from collector.wire import json_encoder


class Stored(NamedTuple):
    """A group's events as SQL: `source` (a FROM clause) names them `e` where `where` holds, with
    `params`. `since` is the largest rowid before the group, and `numbered` says whether its rows
    are since + 1, since + 2... in the order they were inserted."""

    since: int
    numbered: bool
    source: str
    where: str
    params: dict[str, object]


def after(since: int) -> Stored:
    """The events stored after rowid `since`, numbered in order."""
    return Stored(since, True, "events e NOT INDEXED", "e.rowid > :since", {"since": since})


def stored(conn: sqlite3.Connection, since: int, keys: Sequence[tuple[str, str]]) -> Stored:
    """The group just stored after rowid `since`: the events with these (site, id) keys, in order."""
    (last,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
    if last == since + len(keys):
        return after(since)
    # Bound key by key: SQLite's JSON functions end a string at NUL, and ids may hold one.
    rowids = [conn.execute("SELECT rowid FROM events WHERE site_id = ? AND id = ?", key).fetchone()[0] for key in keys]
    return Stored(since, False, "json_each(:rowids) j CROSS JOIN events e ON e.rowid = j.value", "true",
                  {"rowids": json_encoder.encode(rowids).decode()})
