"""Custom events (`track`): counts, visitors and property values, for the sessions in scope."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import events_sql

TOP = 100


def custom_events(conn: sqlite3.Connection, scope: Scope, name: str | None) -> dict[str, Any]:
    """Each custom event name with its count and distinct visitors; with `name`, that event's
    property values too."""
    tracked, args = events_sql(scope, "track")
    rows = conn.execute(
        f"SELECT e.name, count(*), count(DISTINCT s.visitor_id) {tracked} GROUP BY e.name ORDER BY 2 DESC, 1 LIMIT ?",
        [*args, TOP],
    )
    result: dict[str, Any] = {
        "events": [{"name": n, "count": count, "visitors": visitors} for n, count, visitors in rows],
    }
    if name is not None:
        # json_each after the join: the property rows of the matching events only
        props = conn.execute(
            "SELECT p.key, CAST(p.value AS TEXT), count(*), count(DISTINCT visitor_id) FROM"
            f" (SELECT e.data, s.visitor_id {tracked} AND e.name = ?) AS t, json_each(t.data, '$.props') p"
            " GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2 LIMIT ?",
            [*args, name, TOP * 10],
        )
        result["name"] = name
        result["properties"] = [
            {"key": key, "value": value, "count": count, "visitors": visitors}
            for key, value, count, visitors in props
        ]
    return result
