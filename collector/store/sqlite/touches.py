"""Each session's touches kept on write, packed, so the journey map reads one row per session
instead of joining its sessions to every one of their events.

`session_touches` holds, per session (in the sessions' own key order: site, start, id), a blob
of fixed records, one per stored event: its time, its rowid (the arrival order) and its kind.
A kind (`touch_kinds`) is what the map asks of the event itself, as one JSON array: type, path,
name, touchpoint, route template, a survey's score and scale, a click's rage and dead flags (the
same values the events read gives). A site has a few thousand kinds where it has millions of
events, so a record is 20 bytes and the blobs of a week's sessions come back as one value that
numpy reads in place.

The group commit appends its records to their sessions' rows after storing the events
(`keep_stored`, from the rows it has; `keep` reads events back, for the migration and a repack),
sorted by time and arrival within the group; a late event lands after later ones, and the
reader sorts what is out of order. NULL means "not known": triggers forget a session's touches
when one of its events is deleted (retention, erasure), an event added to it then leaves it
unknown, and the reader of a scope with an unknown session reads the events instead. A purge
and an erasure pack the unknown sessions again from their events and drop the kinds no session
uses any more (`mend`): a path or name of erased events is not kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np

from collector.store.model import EventRow
from collector.store.sqlite.connection import Params, tuples
from collector.store.sqlite.stored import Stored
from collector.wire import json_decoder, json_encoder

RECORD = np.dtype([("ts", "<i8"), ("rowid", "<i8"), ("kind", "<i4")])

# The kind of event `e`: a JSON array of the fields the journey map reads of the event itself.
KIND_SQL = (
    "json_array(e.type, e.path, e.name, e.touchpoint, e.route,"
    " CASE WHEN e.type = 'survey' THEN e.data ->> '$.score' END,"
    " CASE WHEN e.type = 'survey' THEN e.data ->> '$.scale' END,"
    " CASE WHEN e.type = 'click' AND (e.data ->> '$.rage' OR e.data ->> '$.dead')"
    " THEN coalesce(e.data ->> '$.rage', 0) ELSE 0 END,"
    " CASE WHEN e.type = 'click' AND (e.data ->> '$.rage' OR e.data ->> '$.dead')"
    " THEN coalesce(e.data ->> '$.dead', 0) ELSE 0 END)"
)
Kind = tuple[str, str | None, str | None, str, str | None, int | None, int | None, int, int]
kinds_decoder = msgspec.json.Decoder(list[Kind])

# The sessions' facts the map reads, copied on the rows and kept the same by a trigger, so that a
# scope without filters reads this table alone (the sessions' own rows are many times wider).
FACTS = ("visitor_id", "is_bot", "has_replay")
_MOVED = ("first_ts", *FACTS)  # a late event can move a session's start too

SCHEMA = f"""
    CREATE TABLE touch_kinds (id INTEGER PRIMARY KEY, site_id TEXT NOT NULL, key TEXT NOT NULL);
    CREATE UNIQUE INDEX touch_kinds_key ON touch_kinds (site_id, key);
    CREATE TABLE session_touches (
        site_id TEXT NOT NULL,
        first_ts INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        is_bot INTEGER NOT NULL,
        has_replay INTEGER NOT NULL,
        touches BLOB,
        PRIMARY KEY (site_id, first_ts, session_id)
    ) WITHOUT ROWID;
    CREATE TRIGGER session_touches_facts AFTER UPDATE OF {", ".join(_MOVED)} ON sessions
        WHEN {" OR ".join(f"new.{c} IS NOT old.{c}" for c in _MOVED)} BEGIN
        UPDATE session_touches SET {", ".join(f"{c} = new.{c}" for c in _MOVED)}
            WHERE site_id = old.site_id AND first_ts = old.first_ts AND session_id = old.id;
    END;
    CREATE TRIGGER session_touches_delete AFTER DELETE ON sessions BEGIN
        DELETE FROM session_touches WHERE site_id = old.site_id AND first_ts = old.first_ts AND session_id = old.id;
    END;
    CREATE TRIGGER session_touches_forget AFTER DELETE ON events BEGIN
        UPDATE session_touches SET touches = NULL WHERE site_id = old.site_id AND session_id = old.session_id
            AND first_ts = (SELECT s.first_ts FROM sessions s WHERE s.site_id = old.site_id AND s.id = old.session_id)
            AND touches IS NOT NULL;
    END;
"""

_APPEND = (
    f"INSERT INTO session_touches SELECT site_id, first_ts, id, {', '.join(FACTS)}, ?3"
    " FROM sessions WHERE site_id = ?1 AND id = ?2"
    " ON CONFLICT DO UPDATE SET touches = CAST(touches || excluded.touches AS BLOB)"  # || makes text
)


def keep(conn: sqlite3.Connection, source: str, where: str, args: Params) -> None:
    """Append the records of the events `source` (a FROM clause naming them `e`) gives `where`
    to their sessions' rows (a row is made for a session that has none; an unknown one stays
    unknown)."""
    _append(conn, _records(conn, source, where, args))


def _records(conn: sqlite3.Connection, source: str, where: str, args: Params) -> list[tuple[Any, ...]]:
    """The records (site, session, time, rowid, kind) of the events `source` gives `where`, their
    kinds added where new."""
    conn.execute(f"INSERT OR IGNORE INTO touch_kinds (site_id, key) SELECT e.site_id, {KIND_SQL}"
                 f" FROM {source} WHERE {where}", args)
    return tuples(conn, f"SELECT e.site_id, e.session_id, e.ts, e.rowid, k.id FROM {source}"
                        f" JOIN touch_kinds k ON k.site_id = e.site_id AND k.key = {KIND_SQL}"
                        f" WHERE {where}", args)


def keep_stored(conn: sqlite3.Connection, group: Stored, stored: Sequence[tuple[str, EventRow]]) -> None:
    """Append the records of a group's events, just stored in this order, from their rows (their
    kinds as KIND_SQL reads them from the stored events) when their rowids are those after
    `group.since` in order, without reading them back; else read back from the events."""
    if not group.numbered:
        keep(conn, group.source, group.where, group.params)
        return
    since = group.since
    kinds = [_kind(row) for _, row in stored]
    ids: dict[tuple[str, str], int] = {}
    for site_id in {site_id for site_id, _ in stored}:
        keys = json_encoder.encode(sorted({key for (site, _), key in zip(stored, kinds, strict=True)
                                           if site == site_id})).decode()
        conn.execute("INSERT OR IGNORE INTO touch_kinds (site_id, key) SELECT ?, value FROM json_each(?)",
                     (site_id, keys))
        ids.update(((site_id, key), number) for key, number in conn.execute(
            "SELECT key, id FROM touch_kinds WHERE site_id = ? AND key IN (SELECT value FROM json_each(?))",
            (site_id, keys)))
    _append(conn, [(site_id, row.session_id, row.ts, since + i, ids[site_id, key])
                   for i, ((site_id, row), key) in enumerate(zip(stored, kinds, strict=True), start=1)])


def _kind(row: EventRow) -> str:
    """The kind of a stored event as KIND_SQL spells it from the stored row."""
    score = scale = None
    if row.type == "survey":
        data = json_decoder.decode(row.data)
        score, scale = data.get("score"), data.get("scale")
    flagged = row.type == "click" and (row.rage or row.dead)
    return json_encoder.encode((row.type, row.path, row.name, row.touchpoint, row.route, score, scale,
                                int(row.rage) if flagged else 0, int(row.dead) if flagged else 0)).decode()


def _append(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Append records (site, session, time, rowid, kind) to their sessions' rows, each session's
    by time and arrival (sorted here: ordered in SQL, SQLite would walk an index of every event)."""
    rows.sort()
    packed = np.array([row[2:] for row in rows], dtype=RECORD).tobytes()
    size = RECORD.itemsize
    appends = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][:2] != rows[start][:2]:
            appends.append((*rows[start][:2], packed[start * size:i * size]))
            start = i
    conn.executemany(_APPEND, appends)


def mend(conn: sqlite3.Connection) -> None:
    """After events were deleted (a purge, an erasure): pack the sessions that lost some again and
    drop the kinds no record names (the index's interior pages keep copies of deleted keys until
    it is rebuilt)."""
    repack(conn)
    drop_unused_kinds(conn)
    conn.execute("REINDEX touch_kinds")


def repack(conn: sqlite3.Connection) -> None:
    """Pack again, from their events, the sessions whose touches are unknown (or that have no
    row yet: a store made before the rows were kept)."""
    conn.execute(f"INSERT OR IGNORE INTO session_touches SELECT site_id, first_ts, id, {', '.join(FACTS)}, NULL"
                 " FROM sessions")
    # Read while they are still told apart by NULL (joined, not passed as JSON: ids may hold NUL).
    records = _records(conn, "session_touches t CROSS JOIN events e ON e.site_id = t.site_id"
                             " AND e.session_id = t.session_id", "t.touches IS NULL", [])
    conn.execute("UPDATE session_touches SET touches = x'' WHERE touches IS NULL")
    _append(conn, records)


def drop_unused_kinds(conn: sqlite3.Connection) -> None:
    """Delete the kinds that no session's records name (after a purge or an erasure)."""
    used: set[int] = set()
    cursor = conn.execute("SELECT touches FROM session_touches WHERE touches IS NOT NULL")
    while blobs := [blob for (blob,) in cursor.fetchmany(50_000)]:
        used.update(np.unique(np.frombuffer(b"".join(blobs), dtype=RECORD)["kind"]).tolist())
    conn.execute("DELETE FROM touch_kinds WHERE id NOT IN (SELECT value FROM json_each(?))",
                 (json_encoder.encode(sorted(used)).decode(),))
