"""Copies of recorded assets on SQLite (collector/store/assets.py says what they are)."""

from __future__ import annotations

import sqlite3

from collector.store.assets import AssetCopy, AssetRef
from collector.store.sqlite.connection import transaction

# A copy no session refers to any more (its sessions erased or past retention) goes too.
DELETE_UNREFERENCED = (
    "DELETE FROM replay_assets WHERE NOT EXISTS"
    " (SELECT 1 FROM replay_asset_refs r WHERE r.asset_id = replay_assets.id)"
)


def save(conn: sqlite3.Connection, site_id: str, copies: list[AssetCopy], refs: list[AssetRef], now: int) -> int:
    """Store new copies and the references to them in one transaction; the bytes newly stored."""
    added = 0
    with transaction(conn):
        for copy in copies:
            added += len(copy.data) * conn.execute(
                "INSERT OR IGNORE INTO replay_assets (id, site_id, content_type, size, data, stored_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (copy.id, site_id, copy.content_type, len(copy.data), copy.data, now),
            ).rowcount
        # The first copy a session was given stays: a later fetch is for later recordings. A copy
        # erased since the copier found it takes its new references with it.
        conn.executemany(
            "INSERT OR IGNORE INTO replay_asset_refs (site_id, session_id, url, asset_id, ts, fetched_at)"
            " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM replay_assets WHERE id = ?)",
            [(site_id, r.session_id, r.url, r.asset_id, r.ts, now, r.asset_id) for r in refs],
        )
    return added


def latest(conn: sqlite3.Connection, site_id: str, url: str) -> tuple[str, int] | None:
    """The copy last fetched for a URL of the site, and when."""
    row = conn.execute(
        "SELECT asset_id, fetched_at FROM replay_asset_refs WHERE site_id = ? AND url = ?"
        " ORDER BY fetched_at DESC LIMIT 1",
        (site_id, url),
    ).fetchone()
    return None if row is None else (row[0], int(row[1]))


def of_session(conn: sqlite3.Connection, site_id: str, session_id: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT url, asset_id FROM replay_asset_refs WHERE site_id = ? AND session_id = ?", (site_id, session_id)
    )
    return {url: asset_id for url, asset_id in rows}


def one(conn: sqlite3.Connection, asset_id: str) -> AssetCopy | None:
    row = conn.execute(
        "SELECT id, site_id, content_type, data FROM replay_assets WHERE id = ?", (asset_id,)
    ).fetchone()
    return None if row is None else AssetCopy(id=row[0], site_id=row[1], content_type=row[2], data=bytes(row[3]))


def bytes_received(conn: sqlite3.Connection, site_id: str, start: int, end: int) -> int:
    return int(conn.execute(
        "SELECT coalesce(sum(size), 0) FROM replay_assets WHERE site_id = ? AND stored_at >= ? AND stored_at < ?",
        (site_id, start, end),
    ).fetchone()[0])
