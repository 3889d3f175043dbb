"""The ids of the stored events, for finding a retried batch's events before it is stored again.

A group of a thousand events looked up by id in the events table read the whole id column: a
bloom filter index cannot skip a granule for a thousand ids (one of them nearly always passes), so
each group cost more the more the store held (5.1M events: 54 ms, as much as its insert). The ids
are kept apart in a key-value table (`EmbeddedRocksDB`; the key is the site id after its length in
bytes, then the event id) whose lookup reads those keys alone: 3-6 ms at 5.1M events.

A group writes its ids after its session rows: a group killed before its session rows is undone
on opening (transaction.recover), and one killed between its session rows and its ids has its ids
put again on opening (`keep`: those of the events received in the last minutes before the newest).
Deleted events take their ids with them (transaction.Db.delete), so that a retry after an erasure
or a purge is stored again, as on SQLite. A store made before this table fills it once on opening
(the `meta` key KEPT); a copy fills it when its events are in.

A cluster keeps no such table (RocksDB is not replicated): its lookups read the events, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from collector.store.clickhouse.client import Connection, lit, many
from collector.store.clickhouse.schema import Layout, once

TABLE = "event_ids"
KEPT = "event_ids_kept"
# How far before the newest event a killed group's events can have been received: a request waits
# for a group at most seconds before the writer answers 503.
_RECENT_MS = 10 * 60 * 1000
_KEY = "concat(toString(length(site_id)), ':', site_id, id)"


def _prefix(site_id: str) -> str:
    """What the keys of a site's events start with (as _KEY makes them)."""
    return f"{len(site_id.encode())}:{site_id}"


def kept(layout: Layout) -> bool:
    return layout.cluster is None


def create(conn: Connection, layout: Layout) -> None:
    if kept(layout):
        conn.command(f"CREATE TABLE IF NOT EXISTS {layout.table(TABLE)} (key String)"
                     " ENGINE = EmbeddedRocksDB PRIMARY KEY key")


def keep(conn: Connection, layout: Layout) -> None:
    """Fill the table from the events of a store made before it, once; else put again the ids of
    the events received last, in case the group that stored them was killed before its ids."""
    if kept(layout) and not once(conn, layout, KEPT, lambda: fill(conn, layout, "true")):
        events = layout.table("events")
        fill(conn, layout, f"received_at >= (SELECT max(received_at) FROM {events}) - {_RECENT_MS}")


def fill(conn: Connection, layout: Layout, where: str) -> None:
    """Put the ids of the stored events matching `where` (a key put twice is one key)."""
    conn.command(f"INSERT INTO {layout.table(TABLE)} SELECT {_KEY} FROM {layout.table('events')} WHERE {where}")


def found(conn: Connection, layout: Layout, site_id: str, ids: list[str]) -> set[str]:
    """Which of these ids of a site's events are stored."""
    if kept(layout):
        prefix = _prefix(site_id)
        keys = [prefix + i for i in ids]
        return {key[len(prefix):] for (key,) in conn.rows(
            f"SELECT key FROM {layout.table(TABLE)} WHERE key IN {many(keys)}")}
    return in_events(conn, layout, site_id, ids)


def in_events(conn: Connection, layout: Layout, site_id: str, ids: list[str]) -> set[str]:
    """Which of these ids of a site's events the events table holds: a read of its id column."""
    return {i for (i,) in conn.rows(
        f"SELECT DISTINCT id FROM {layout.table('events')} WHERE site_id = {lit(site_id)} AND id IN {many(ids)}")}


def add(conn: Connection, layout: Layout, keys: Iterable[tuple[str, str]]) -> None:
    """Put the ids of newly stored events, as (site, id)."""
    if kept(layout):
        conn.insert(layout.table(TABLE), ("key",), [(_prefix(site_id) + event_id,) for site_id, event_id in keys])


def forget(conn: Connection, layout: Layout, where: str) -> None:
    """Take out the ids of the stored events matching `where`, before those events are deleted."""
    if kept(layout):
        conn.command(f"ALTER TABLE {layout.table(TABLE)} DELETE WHERE key IN"
                     f" (SELECT {_KEY} FROM {layout.table('events')} WHERE {where}) SETTINGS mutations_sync = 2")
