"""The touches of the sessions in scope, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

import sqlite3

from collector.query.journey import Touch
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import scope_sql


def touches(conn: sqlite3.Connection, scope: Scope) -> list[Touch]:
    """Every event of the sessions that started in scope, by person and time, with session facts."""
    where, args = scope_sql(scope)
    rows = conn.execute(
        "SELECT s.visitor_id, e.session_id, s.first_ts, e.ts, e.type, e.name, e.path, e.route, e.url,"
        " e.touchpoint, s.channel, s.has_replay,"
        " CASE WHEN e.type = 'survey' THEN e.data ->> '$.score' END,"
        " CASE WHEN e.type = 'survey' THEN e.data ->> '$.scale' END,"
        " CASE WHEN e.type = 'click' THEN coalesce(e.data ->> '$.rage', 0) ELSE 0 END,"
        " CASE WHEN e.type = 'click' THEN coalesce(e.data ->> '$.dead', 0) ELSE 0 END, s.device"
        # CROSS JOIN keeps the sessions in range outside, each one's events read from the session
        # index; left to itself the planner walks every event of the site, whatever the range.
        " FROM sessions s CROSS JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        f" WHERE {where} ORDER BY s.visitor_id, e.ts, e.rowid",
        args,
    )
    return [
        Touch(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], bool(r[11]), r[12], r[13],
              bool(r[14]), bool(r[15]), r[16])
        for r in rows
    ]
