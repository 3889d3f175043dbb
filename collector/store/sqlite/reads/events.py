"""Custom events (`track`): counts, visitors and property values, for the sessions in scope."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import scope_sql

TOP = 100
_JOIN = "FROM events e JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"


def custom_events(conn: sqlite3.Connection, scope: Scope, name: str | None) -> dict[str, Any]:
    """Each custom event name with its count and distinct visitors; with `name`, that event's
    property values too."""
    where, args = scope_sql(scope)
    rows = conn.execute(
        f"SELECT e.name, count(*), count(DISTINCT s.visitor_id) {_JOIN}"
        f" WHERE e.type = 'track' AND {where} GROUP BY e.name ORDER BY 2 DESC, 1 LIMIT ?",
        [*args, TOP],
    )
    result: dict[str, Any] = {
        "events": [{"name": n, "count": count, "visitors": visitors} for n, count, visitors in rows],
    }
    if name is not None:
        props = conn.execute(
            f"SELECT p.key, CAST(p.value AS TEXT), count(*), count(DISTINCT s.visitor_id)"
            f" {_JOIN}, json_each(e.data, '$.props') p"
            f" WHERE e.type = 'track' AND e.name = ? AND {where}"
            " GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2 LIMIT ?",
            [name, *args, TOP * 10],
        )
        result["name"] = name
        result["properties"] = [
            {"key": key, "value": value, "count": count, "visitors": visitors}
            for key, value, count, visitors in props
        ]
    return result
