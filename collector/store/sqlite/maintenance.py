"""Retention and backup on SQLite: purge old rows in short transactions, copy the file online."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from collector.query.definitions import day_of
from collector.store.sqlite import assets, touches
from collector.store.sqlite.connection import connect, secure_delete, transaction

# Rows deleted per transaction: short write locks, so a serving collector's group commits go on between them.
CHUNK = 5_000

# What retention removes, oldest first: (table, key columns, age column).
TABLES = (
    ("events", "rowid", "ts"),
    ("sessions", "site_id, id", "last_ts"),
    ("replay_chunks", "site_id, session_id, seq", "last_ts"),
    ("dead_letters", "rowid", "received_at"),
    ("identities", "site_id, anon_id", "ts"),
    ("persons", "site_id, user_id", "last_ts"),
    ("trigger_deliveries", "id", "fired_at"),
    ("trigger_checks", "rowid", "start_ts"),
    ("trigger_fired", "rule_id, visitor_id", "at"),
)


def count_older(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    return sum(
        conn.execute(f"SELECT count(*) FROM {table} WHERE {age} < ?", (cutoff_ms,)).fetchone()[0]
        for table, _key, age in TABLES
    )


def purge_chunk(conn: sqlite3.Connection, table: str, cutoff_ms: int) -> int:
    """Delete up to CHUNK rows of `table` older than the cutoff; how many went."""
    key, age = next((k, a) for t, k, a in TABLES if t == table)
    with secure_delete(conn), transaction(conn):
        return conn.execute(
            f"DELETE FROM {table} WHERE ({key}) IN"
            f" (SELECT {key} FROM {table} WHERE {age} < ? LIMIT {CHUNK})",
            (cutoff_ms,),
        ).rowcount


def purge_finish(conn: sqlite3.Connection, cutoff_ms: int) -> dict[str, int]:
    """After the rows: the day rollups and salts before the cutoff, rebuilt indexes, an empty WAL."""
    counts: dict[str, int] = {}
    with secure_delete(conn):
        with transaction(conn):
            # Daily rollups (the overview's tables) of days wholly before the cutoff go too.
            for rollup in ("session_days", "page_days", "source_days"):
                counts[rollup] = conn.execute(
                    f"DELETE FROM {rollup} WHERE day < ?", (day_of(cutoff_ms),)
                ).rowcount
            # The day salts of cookieless visitor ids are only needed for the current day.
            day = time.strftime("%Y-%m-%d", time.gmtime(cutoff_ms / 1000))
            counts["salts"] = conn.execute("DELETE FROM salts WHERE day < ?", (day,)).rowcount
            # Copies of recorded assets go with the recordings that used them (a copy shared with a
            # newer recording stays).
            conn.execute("DELETE FROM replay_asset_refs WHERE ts < ?", (cutoff_ms,))
            conn.execute(assets.DELETE_UNREFERENCED)
            conn.execute("REINDEX replay_asset_refs")
            touches.mend(conn)  # the sessions that kept some of their events, packed again
            # Interior pages of an index keep copies of deleted keys (paths, user ids): rebuild them.
            for table, _key, _age in TABLES:
                conn.execute(f"REINDEX {table}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def backup(path: str, target: Path) -> int:
    """Copy the file to `target` (written beside it, then renamed); the copy's event count."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = connect(path, readonly=True)
    dest = sqlite3.connect(partial)
    try:
        # One step (pages=-1) reads one snapshot under a WAL read lock: writers go on, the copy is consistent.
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        events = int(dest.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        dest.close()
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"backup failed its integrity check: {check}")
    partial.replace(target)
    return events
