"""Segments: named, saved session filters, applied with `segment=<id>` on every endpoint."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from collector.store.sqlite import connect


def _segment(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    segment_id, site_id, name, filters, created_at = tuple(row)
    return {
        "id": segment_id, "site": site_id, "name": name,
        "filters": msgspec.json.decode(filters), "created_at": created_at,
    }


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def list_segments(conn: sqlite3.Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, site_id, name, filters, created_at FROM segments WHERE site_id = ? ORDER BY id",
        (site_id,),
    )
    return [_segment(r) for r in rows]


def create_segment(path: str, site_id: str, name: str, filters: dict[str, str]) -> dict[str, Any]:
    """Store a segment; segments are analyst settings, written outside the event writer."""
    conn = connect(path)
    try:
        with transaction(conn):
            cursor = conn.execute(
                "INSERT INTO segments (site_id, name, filters, created_at) VALUES (?, ?, ?, ?)",
                (site_id, name, msgspec.json.encode(filters).decode(), int(time.time() * 1000)),
            )
            row = conn.execute(
                "SELECT id, site_id, name, filters, created_at FROM segments WHERE id = ?",
                (cursor.lastrowid,),
            ).fetchone()
        return _segment(row)
    finally:
        conn.close()


def delete_segment(path: str, site_id: str, segment_id: int) -> bool:
    conn = connect(path)
    try:
        with transaction(conn):
            cursor = conn.execute(
                "DELETE FROM segments WHERE id = ? AND site_id = ?", (segment_id, site_id)
            )
        return cursor.rowcount > 0
    finally:
        conn.close()
