"""The dead-letter table: rejected events with their reasons, newest first."""

from __future__ import annotations

import sqlite3
from typing import Any


def rejected(
    conn: sqlite3.Connection, *, site_id: str | None = None, start: int = 0, end: int = 1 << 62,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Rejections received in [start, end), of one site or of all sites."""
    rows = conn.execute(
        "SELECT rowid AS id, site_id, received_at, source, reason, kind, raw FROM dead_letters"
        " WHERE (?1 IS NULL OR site_id = ?1) AND received_at >= ?2 AND received_at < ?3"
        " ORDER BY rowid DESC LIMIT ?4",
        (site_id, start, end, limit),
    )
    return [dict(row) for row in rows]
