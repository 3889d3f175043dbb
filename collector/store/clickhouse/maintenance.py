"""Retention on ClickHouse: count and delete the rows older than a cutoff, table by table."""

from __future__ import annotations

import time
from collections.abc import Callable

from collector.store.clickhouse import assets, views
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.transaction import Db

# What retention removes, oldest first: (table, age column); the SQLite engine's list.
TABLES = (
    ("events", "ts"),
    ("sessions", "last_ts"),
    ("replay_chunks", "last_ts"),
    ("dead_letters", "received_at"),
    ("identities", "ts"),
    ("persons", "last_ts"),
    ("trigger_deliveries", "fired_at"),
    ("trigger_checks", "start_ts"),
    ("trigger_fired", "at"),
)
# The key of each table whose rows are replaced by newer versions.
_KEYS = {
    "sessions": "site_id, id", "replay_chunks": "site_id, session_id, seq",
    "identities": "site_id, anon_id", "persons": "site_id, user_id",
    "trigger_deliveries": "id", "trigger_checks": "due_at, id", "trigger_fired": "rule_id, visitor_id",
}


def _older(db: Db, table: str, age: str, cutoff_ms: int) -> int:
    final = " FINAL" if table in _KEYS else ""
    ((n,),) = db.rows(f"SELECT count() FROM {db.t(table)}{final} WHERE {age} < {lit(cutoff_ms)}")
    return int(n)


def count_older(db: Db, cutoff_ms: int) -> int:
    return sum(_older(db, table, age, cutoff_ms) for table, age in TABLES)


def purge(
    db: Db, cutoff_ms: int, progress: Callable[[int], object] | None
) -> dict[str, int]:
    """Each table's old rows in one mutation (ClickHouse rewrites the parts in the background of
    the writer's other work); the day salts before the cutoff's day go too."""
    counts: dict[str, int] = {}
    for table, age in TABLES:
        counts[table] = _older(db, table, age, cutoff_ms)
        if counts[table]:
            # A row's older versions are older than its newest: all of them go when the newest,
            # the row every answer sees, is old.
            where = f"{age} < {lit(cutoff_ms)}"
            if table in _KEYS:
                key = _KEYS[table]
                where = f"({key}) IN (SELECT {key} FROM {db.t(table)} FINAL WHERE {where})"
            db.delete(table, where)
        if progress is not None:
            progress(counts[table])
    if counts["events"]:  # the sessions that began before the cutoff and stay lost pageviews
        views.repack(db.conn, db.layout, f"s.first_ts < {lit(cutoff_ms)}")
    # Copies of recorded assets go with the recordings that used them (a copy shared with a newer
    # recording stays); not counted, as on SQLite.
    assets.drop_refs(db, f"ts < {lit(cutoff_ms)}")
    day = time.strftime("%Y-%m-%d", time.gmtime(cutoff_ms / 1000))
    ((n,),) = db.rows(f"SELECT uniqExact(day) FROM {db.t('salts')} WHERE day < {lit(day)}")
    counts["salts"] = int(n)
    if n:
        db.delete("salts", f"day < {lit(day)}")
    return counts
