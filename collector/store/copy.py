"""`trailmark store copy --from URL --to URL`: move a whole installation into a ClickHouse store.

Every table is copied as stored (sessions as their rows, not recomputed from events), so every
answer is the same on the target. The target keys every row (events and dead letters by id,
settings and salts by key, the rest are versioned rows replaced by a newer copy), so a copy
interrupted and run again completes without storing anything twice.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from collector.cli.options import store_url
from collector.store import open_store, sqlite_path
from collector.store.assets import COPY_COLUMNS, REF_COLUMNS
from collector.store.clickhouse import event_ids, teams, views
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES
from collector.store.clickhouse.store import ClickHouseStore
from collector.store.clickhouse.transaction import VERSIONS, Db

BATCH = 20_000
# Copies of recorded assets are up to TRAILMARK_ASSETS_MAX_MB each (5 MiB by default): a few a batch.
ASSET_BATCH = 8

# Each table's columns, named as both engines name them; `rowid` is SQLite's arrival order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": ("id", "name", "write_key", "origins", "settings", "created_at", "secret_hash"),
    "revoked_logins": ("id", "expires_at"),
    "meta": ("key", "value"),
    "salts": ("day", "salt"),
    "segments": ("id", "site_id", "name", "filters", "created_at"),
    "goals": ("id", "site_id", "name", "definition", "created_at"),
    "experiments": ("site_id", "key", "name", "variants", "goal", "metrics", "hypothesis", "saved_goal", "created_at"),
    "accounts": teams.ACCOUNT,
    "memberships": teams.MEMBERSHIP,
    "invites": teams.INVITE,
    "api_keys": teams.API_KEY,
    "share_links": teams.SHARE,
    "schedules": teams.SCHEDULE,
    "identities": ("site_id", "anon_id", "user_id", "ts", "verified"),
    "persons": ("site_id", "user_id", "traits", "first_ts", "last_ts"),
    "sessions": SESSION_NAMES,
    "replay_chunks": ("site_id", "session_id", "seq", "first_ts", "last_ts", "size", "data", "received_at"),
    # Copies of recorded assets before the references to them (collector/store/assets.py).
    "replay_assets": COPY_COLUMNS,
    "replay_asset_refs": REF_COLUMNS,
    "dead_letters": ("rowid", "site_id", "received_at", "source", "reason", "kind", "raw"),
    "events": ("rowid", *EVENT_NAMES),
    "trigger_rules": ("id", "site_id", "name", "spec", "url", "secret", "cooldown_s", "sample", "max_per_hour",
                      "enabled", "disabled_reason", "failures", "created_at"),
    "trigger_deliveries": ("id", "rule_id", "site_id", "visitor_id", "session_id", "fired_at", "events", "status",
                           "attempts", "next_at", "first_attempt_at", "last_attempt_at", "response_code", "error",
                           "latency_ms"),
    "trigger_checks": ("id", "rule_id", "site_id", "visitor_id", "session_id", "start", "start_ts", "due_at"),
    "trigger_fired": ("rule_id", "visitor_id", "at"),
}
# Where the target keeps each source column it renames.
_CLICKHOUSE_NAMES = {("events", "rowid"): "seq", ("dead_letters", "rowid"): "id"}
_KEY_ORDER = {
    "sites": "id", "revoked_logins": "id", "meta": "key", "salts": "day", "segments": "id",
    "goals": "id", "experiments": "site_id, key", "accounts": "id", "memberships": "account_id, site_id",
    "invites": "token_hash", "api_keys": "id", "share_links": "id", "schedules": "id",
    "identities": "site_id, anon_id",
    "persons": "site_id, user_id", "sessions": "site_id, id", "replay_chunks": "site_id, session_id, seq",
    "replay_assets": "id", "replay_asset_refs": "site_id, session_id, url",
    "dead_letters": "rowid", "events": "rowid", "trigger_rules": "id", "trigger_deliveries": "id",
    "trigger_checks": "due_at, id", "trigger_fired": "rule_id, visitor_id",
}
_VERSIONED = {
    "sites", "segments", "goals", "experiments", "persons", "sessions", "identities", "trigger_rules",
    "trigger_deliveries", "trigger_checks", *teams.TABLES,
}
# Tables of rows that never change, whose key a rerun finds held and skips (a copy's bytes are not
# sent twice); read FINAL from a ClickHouse source, where two collectors may have stored one twice.
_KEYED = {"replay_assets": ("id",), "replay_asset_refs": ("site_id", "session_id", "url")}
# Columns of bytes, read from ClickHouse as hex (its JSON carries no raw bytes).
_BINARY = {"replay_chunks": "data", "salts": "salt", "replay_assets": "data"}
# Versioned tables whose rows may be deleted versions (written as kept: deleted = 0).
_DELETABLE = {"segments", "goals", "experiments", "trigger_rules", "trigger_checks", *teams.DELETABLE}


class SQLiteSource:
    """A SQLite store's tables, read on one read-only connection (one snapshot of the file)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.conn.execute("BEGIN")  # one read transaction: a serving collector's writes do not tear the copy

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def rows(self, table: str) -> Iterator[list[tuple[Any, ...]]]:
        cursor = self.conn.execute(f"SELECT {', '.join(COLUMNS[table])} FROM {table} ORDER BY {_KEY_ORDER[table]}")
        while batch := cursor.fetchmany(ASSET_BATCH if table == "replay_assets" else BATCH):
            yield batch

    def close(self) -> None:
        self.conn.close()


class ClickHouseSource:
    """A ClickHouse store's tables, each row as every answer sees it (FINAL)."""

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store
        self.db: Db = store.db

    def _select(self, table: str, where: str = "1") -> str:
        columns = [
            f"hex({c})" if _BINARY.get(table) == c else f"{_CLICKHOUSE_NAMES.get((table, c), c)}"
            for c in COLUMNS[table]
        ]
        final = (" FINAL" if table in _VERSIONED or table in _KEYED
                 or table in ("replay_chunks", "revoked_logins", "trigger_fired") else "")
        order = _KEY_ORDER[table].replace("rowid", _CLICKHOUSE_NAMES.get((table, "rowid"), "rowid"))
        if table in ("meta", "salts"):  # the earliest insert of each key is its value
            key = COLUMNS[table][0]
            return (f"SELECT {key}, argMin({columns[1]}, inserted) FROM {self.db.t(table)}"
                    f" WHERE {key} != 'heartbeat' GROUP BY {key} ORDER BY {key}")
        return f"SELECT {', '.join(columns)} FROM {self.db.t(table)}{final} WHERE {where} ORDER BY {order}"

    def count(self, table: str) -> int:
        ((n,),) = self.db.rows(f"SELECT count() FROM ({self._select(table)})")
        return int(n)

    def rows(self, table: str) -> Iterator[list[tuple[Any, ...]]]:
        if table == "replay_assets":  # the bytes a few copies at a time, never the whole table at once
            ids = [i for (i,) in self.db.rows(f"SELECT DISTINCT id FROM {self.db.t(table)} ORDER BY id")]
            for start in range(0, len(ids), ASSET_BATCH):
                wanted = f"id IN {lits(ids[start:start + ASSET_BATCH])}"
                yield self._decoded(table, self.db.rows(self._select(table, wanted)))
            return
        rows = self.db.rows(self._select(table))
        for start in range(0, len(rows), BATCH):
            yield self._decoded(table, rows[start:start + BATCH])

    def _decoded(self, table: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        binary = _BINARY.get(table)
        if binary is None:
            return rows
        index = COLUMNS[table].index(binary)  # read as hex: JSON carries no raw bytes
        return [(*r[:index], bytes.fromhex(r[index]), *r[index + 1:]) for r in rows]

    def close(self) -> None:
        pass


def load(target: ClickHouseStore, table: str, rows: list[tuple[Any, ...]]) -> int:
    """Store source rows in the target, skipping what an earlier run stored; how many were new."""
    db = target.db
    names = [_CLICKHOUSE_NAMES.get((table, c), c) for c in COLUMNS[table]]
    if table == "events":
        # Read from the events, not event_ids: the copy fills those when its events are all in, so
        # a run cut short finds there none of the events it stored.
        seen: set[tuple[str, str]] = set()
        for site_id in {r[1] for r in rows}:
            ids = [r[2] for r in rows if r[1] == site_id]
            seen.update((site_id, i) for i in event_ids.in_events(db.conn, db.layout, site_id, ids))
        rows = [r for r in rows if (r[1], r[2]) not in seen]
    elif table == "dead_letters":
        held = {int(i) for (i,) in db.rows(
            f"SELECT id FROM {db.t('dead_letters')} WHERE id IN {lits([int(r[0]) for r in rows])}"
        )}
        rows = [r for r in rows if int(r[0]) not in held]
    elif table in _KEYED:
        columns = _KEYED[table]
        at = [names.index(c) for c in columns]
        wanted = "(" + ", ".join("(" + ", ".join(lit(r[i]) for i in at) + ")" for r in rows) + ")"
        held_rows = {tuple(k) for k in db.rows(
            f"SELECT DISTINCT {', '.join(columns)} FROM {db.t(table)} WHERE ({', '.join(columns)}) IN {wanted}"
        )}
        rows = [r for r in rows if tuple(r[i] for i in at) not in held_rows]
    elif table in ("meta", "salts"):
        key = names[0]
        wanted = lits([r[0] for r in rows])
        held_keys = {k for (k,) in db.rows(f"SELECT DISTINCT {key} FROM {db.t(table)} WHERE {key} IN {wanted}")}
        rows = [(*r, 0) for r in rows if r[0] not in held_keys]  # inserted 0: older than any value made here
        names.append("inserted")
    elif table in _VERSIONED:
        version = VERSIONS.next()
        rows = [(*r, version) for r in rows]
        names.append("version")
        if table in _DELETABLE:
            rows = [(*r, 0) for r in rows]
            names.append("deleted")
    if table == "sessions":
        flags = {names.index("is_bot"), names.index("has_replay")}
        rows = [tuple(int(v) if i in flags else v for i, v in enumerate(r)) for r in rows]
    db.conn.insert(db.t(table), names, rows)
    return len(rows)


def copy(
    source_url: str, target_url: str, progress: Callable[[int], object] | None = None,
    totals: Callable[[int], object] | None = None,
) -> dict[str, int]:
    """Copy every table of the source store into the target; the rows newly stored per table."""
    target = open_store(target_url, tool=True)
    if not isinstance(target, ClickHouseStore):
        target.close()
        raise click.UsageError("store copy writes into a ClickHouse store (chdb://, clickhouse://, clickhouses://)")
    source_store = None
    path = sqlite_path(source_url)
    source: SQLiteSource | ClickHouseSource
    if path is not None:
        source = SQLiteSource(path)
    else:
        source_store = open_store(source_url, tool=True)
        assert isinstance(source_store, ClickHouseStore)
        source = ClickHouseSource(source_store)
    try:
        if totals is not None:
            totals(sum(source.count(table) for table in COLUMNS))
        copied = {}
        for table in COLUMNS:
            copied[table] = 0
            for batch in source.rows(table):
                copied[table] += load(target, table, batch)
                if progress is not None:
                    progress(len(batch))
        # The session rows came as the source keeps them: each takes its pageviews from its events.
        views.repack(target.conn, target.layout, "true")
        event_ids.fill(target.conn, target.layout, "true")  # and the events their ids (event_ids.py)
        return copied
    finally:
        source.close()
        if source_store is not None:
            source_store.close()
        target.close()


@click.group()
def store() -> None:
    """Work on whole stores: copy one into another."""


@store.command("copy")
@click.option("--from", "source", required=True, help="The store to copy, e.g. sqlite:///trailmark.db")
@click.option("--to", "target", required=True, help="The ClickHouse store to fill, e.g. chdb:///var/lib/trailmark")
def copy_command(source: str, target: str) -> None:
    """Copy every table of one store into a ClickHouse store (run again to finish an interrupted copy)."""
    source = store_url(source, None)
    with click.progressbar(length=1, label="copying", file=sys.stderr) as bar:

        def totals(n: int) -> None:
            bar.length = max(n, 1)

        counts = copy(source, target, bar.update, totals)
    click.echo(" ".join(f"{table}={n}" for table, n in counts.items()))
