"""Goals: a site's conversion definitions (collector/query/goals.py), kept as JSON."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from collector.store.sqlite.connection import transaction
from collector.wire import json_decoder, json_encoder

_COLUMNS = "id, name, definition, created_at"


def _goal(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    goal_id, name, definition, created_at = tuple(row)
    return {"id": goal_id, "name": name, **json_decoder.decode(definition), "created_at": created_at}


def list_goals(conn: sqlite3.Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM goals WHERE site_id = ? ORDER BY id", (site_id,))
    return [_goal(r) for r in rows]


def create_goal(
    conn: sqlite3.Connection, site_id: str, name: str, definition: dict[str, Any], limit: int,
) -> dict[str, Any] | None:
    """Store a goal (on the write connection); None when the site already has `limit` goals."""
    with transaction(conn):
        (count,) = conn.execute("SELECT count(*) FROM goals WHERE site_id = ?", (site_id,)).fetchone()
        if count >= limit:
            return None
        cursor = conn.execute(
            "INSERT INTO goals (site_id, name, definition, created_at) VALUES (?, ?, ?, ?)",
            (site_id, name, json_encoder.encode(definition).decode(), int(time.time() * 1000)),
        )
        row = conn.execute(f"SELECT {_COLUMNS} FROM goals WHERE id = ?", (cursor.lastrowid,)).fetchone()
    return _goal(row)


def delete_goal(conn: sqlite3.Connection, site_id: str, goal_id: int) -> bool:
    with transaction(conn):
        cursor = conn.execute("DELETE FROM goals WHERE id = ? AND site_id = ?", (goal_id, site_id))
    return cursor.rowcount > 0
