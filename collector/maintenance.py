"""`trailmark purge` (retention) and `trailmark backup` (a consistent copy while the collector serves)."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from collector.store.sqlite import TOOL_BUSY_TIMEOUT, connect

# Rows deleted per transaction: short write locks, so a serving collector's group commits go on between them.
CHUNK = 5_000
_UNITS = {"h": 3600, "d": 86_400, "w": 7 * 86_400}

# What retention removes, oldest first: (table, key columns, age column).
_TABLES = (
    ("events", "rowid", "ts"),
    ("sessions", "site_id, id", "last_ts"),
    ("replay_chunks", "site_id, session_id, seq", "last_ts"),
    ("dead_letters", "rowid", "received_at"),
    ("identities", "site_id, anon_id", "ts"),
    ("persons", "site_id, user_id", "last_ts"),
)


def parse_age(text: str) -> int:
    """`90d`, `12h` or `2w` as milliseconds."""
    match = re.fullmatch(r"(\d{1,6})([hdw])", text.strip().lower())
    if match is None:
        raise click.BadParameter(f"{text!r}: use a number and h, d or w, such as 90d")
    return int(match[1]) * _UNITS[match[2]] * 1000


def _db_path(db: str | None) -> str:
    return db or os.environ.get("TRAILMARK_DB", "trailmark.db")


def purge_older_than(
    path: str, cutoff_ms: int, progress: Callable[[int], object] | None = None
) -> dict[str, int]:
    """Delete rows older than cutoff_ms in small transactions; returns the count per table."""
    conn = connect(path, busy_timeout=TOOL_BUSY_TIMEOUT)
    conn.execute("PRAGMA secure_delete = ON")  # retention is a promise about the file, not just the rows
    counts: dict[str, int] = {}
    try:
        for table, key, age in _TABLES:
            counts[table] = 0
            while True:
                conn.execute("BEGIN IMMEDIATE")
                deleted = conn.execute(
                    f"DELETE FROM {table} WHERE ({key}) IN"
                    f" (SELECT {key} FROM {table} WHERE {age} < ? LIMIT {CHUNK})",
                    (cutoff_ms,),
                ).rowcount
                conn.execute("COMMIT")
                counts[table] += deleted
                if progress is not None:
                    progress(deleted)
                if deleted < CHUNK:
                    break
        # Daily rollups (the overview's tables) of days wholly before the cutoff go too.
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for rollup in ("session_days", "page_days"):
            if rollup in tables:
                counts[rollup] = conn.execute(
                    f"DELETE FROM {rollup} WHERE day < ?", (cutoff_ms // 86_400_000,)
                ).rowcount
        # Interior pages of an index keep copies of deleted keys (paths, user ids): rebuild them.
        for table, _key, _age in _TABLES:
            conn.execute(f"REINDEX {table}")
        # The day salts of cookieless visitor ids are only needed for the current day.
        day = time.strftime("%Y-%m-%d", time.gmtime(cutoff_ms / 1000))
        counts["salts"] = conn.execute("DELETE FROM salts WHERE day < ?", (day,)).rowcount
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return counts


def _count_older(path: str, cutoff_ms: int) -> int:
    conn = connect(path, readonly=True, busy_timeout=TOOL_BUSY_TIMEOUT)
    try:
        return sum(
            conn.execute(f"SELECT count(*) FROM {table} WHERE {age} < ?", (cutoff_ms,)).fetchone()[0]
            for table, _key, age in _TABLES
        )
    finally:
        conn.close()


@click.command()
@click.option("--older-than", "older_than", required=True, help="Age such as 90d, 12h or 2w.")
@click.option("--db", type=click.Path(dir_okay=False, exists=True), default=None,
              help="SQLite file [env TRAILMARK_DB, default ./trailmark.db]")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(older_than: str, db: str | None, yes: bool) -> None:
    """Delete events, sessions, replays and rejected events older than an age (retention)."""
    path = _db_path(db)
    cutoff = int(time.time() * 1000) - parse_age(older_than)
    total = _count_older(path, cutoff)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cutoff / 1000))
    if not yes and total:
        click.confirm(f"Delete {total} rows older than {when} from {path}?", abort=True)
    with click.progressbar(length=total, label="purging", file=sys.stderr) as bar:
        counts = purge_older_than(path, cutoff, bar.update)
    click.echo(" ".join(f"{table}={n}" for table, n in counts.items()))


@click.command()
@click.argument("target", type=click.Path(dir_okay=False))
@click.option("--db", type=click.Path(dir_okay=False, exists=True), default=None,
              help="SQLite file [env TRAILMARK_DB, default ./trailmark.db]")
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def backup(target: str, db: str | None, force: bool) -> None:
    """Copy the database to TARGET with SQLite's online backup: consistent while the collector serves."""
    path = _db_path(db)
    out = Path(target)
    if out.exists() and not force:
        raise click.ClickException(f"{target} exists (use --force to overwrite)")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = connect(path, readonly=True, busy_timeout=TOOL_BUSY_TIMEOUT)
    dest = sqlite3.connect(partial)
    try:
        # One step (pages=-1) reads one snapshot under a WAL read lock: writers go on, the copy is consistent.
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        events = dest.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        dest.close()
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"backup failed its integrity check: {check}")
    partial.replace(out)
    click.echo(f"backed up {path} to {target}: {events} events, integrity ok")
