"""Segments: named, saved session filters, applied with `segment=<id>` on every endpoint."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from collector.store.sqlite.connection import transaction
from collector.wire import json_decoder, json_encoder


def _segment(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    segment_id, site_id, name, filters, created_at = tuple(row)
    return {
        "id": segment_id, "site": site_id, "name": name,
        "filters": json_decoder.decode(filters), "created_at": created_at,
    }


def list_segments(conn: sqlite3.Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, site_id, name, filters, created_at FROM segments WHERE site_id = ? ORDER BY id",
        (site_id,),
    )
    return [_segment(r) for r in rows]


def segment_filters(conn: sqlite3.Connection, site_id: str, segment_id: int) -> dict[str, str] | None:
    row = conn.execute(
        "SELECT filters FROM segments WHERE id = ? AND site_id = ?", (segment_id, site_id)
    ).fetchone()
    if row is None:
        return None
    filters: dict[str, str] = json_decoder.decode(row[0])
    return filters


def create_segment(conn: sqlite3.Connection, site_id: str, name: str, filters: dict[str, str]) -> dict[str, Any]:
    """Store a segment (on the write connection)."""
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO segments (site_id, name, filters, created_at) VALUES (?, ?, ?, ?)",
            (site_id, name, json_encoder.encode(filters).decode(), int(time.time() * 1000)),
        )
        row = conn.execute(
            "SELECT id, site_id, name, filters, created_at FROM segments WHERE id = ?",
            (cursor.lastrowid,),
        ).fetchone()
    return _segment(row)


def delete_segment(conn: sqlite3.Connection, site_id: str, segment_id: int) -> bool:
    with transaction(conn):
        cursor = conn.execute("DELETE FROM segments WHERE id = ? AND site_id = ?", (segment_id, site_id))
    return cursor.rowcount > 0
