"""The live view: who is on the site now, read from the recent end of the events index.

Cost: `events_site_type_ts (site_id, type, ts)` with `type IN (every type)` is one index range
per type over the last 30 minutes, so a query touches only the recent events (and their
sessions by primary key), however large the table grows.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.store.sqlite.reads.scope import human_sql
from collector.wire import EVENT_TYPES

MINUTE_MS = 60_000
LATEST = 25
_TYPES = ", ".join("?" for _ in EVENT_TYPES)
_RECENT = (
    "FROM events e JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
    f" WHERE e.site_id = ? AND e.type IN ({_TYPES}) AND e.ts >= ? AND e.ts < ? AND {human_sql('s')}"
)


WINDOW_MIN, ACTIVE_MIN = 30, 5


def live(conn: sqlite3.Connection, site_id: str, now: int) -> dict[str, Any]:
    """Visitors of the last 5 and 30 minutes, the pages the active ones are on, visitors per
    minute and the latest events (humans only)."""
    since, active = now - WINDOW_MIN * MINUTE_MS, now - ACTIVE_MIN * MINUTE_MS
    # A client clock a little ahead still counts as now.
    recent = [site_id, *EVENT_TYPES, since, now + MINUTE_MS]
    visitors_active, visitors_window = conn.execute(
        f"SELECT count(DISTINCT CASE WHEN e.ts >= ? THEN s.visitor_id END), count(DISTINCT s.visitor_id) {_RECENT}",
        [active, *recent],
    ).fetchone()
    # Each active visitor's latest pageview: SQLite takes the bare column from the max() row.
    pages = conn.execute(
        "SELECT path, count(*) FROM (SELECT s.visitor_id, coalesce(e.path, '') AS path, max(e.ts)"
        f" {_RECENT} AND e.ts >= ? AND e.type = 'pageview' GROUP BY s.visitor_id)"
        " GROUP BY path ORDER BY 2 DESC, 1 LIMIT 20",
        [*recent, active],
    ).fetchall()
    minutes = dict(conn.execute(
        f"SELECT min(?, (e.ts - ?) / {MINUTE_MS}), count(DISTINCT s.visitor_id) {_RECENT} GROUP BY 1",
        [WINDOW_MIN - 1, since, *recent],
    ).fetchall())
    latest = conn.execute(
        "SELECT e.ts, e.type, e.name, e.path, e.session_id, s.visitor_id, s.country, s.device"
        f" {_RECENT} ORDER BY e.ts DESC, e.rowid DESC LIMIT ?",
        [*recent, LATEST],
    ).fetchall()
    return {
        "now": now,
        "visitors_5m": visitors_active,
        "visitors_30m": visitors_window,
        "pages": [{"path": path, "visitors": n} for path, n in pages],
        # distinct visitors per minute, oldest first; a clock ahead of ours counts in the last minute
        "minutes": [minutes.get(m, 0) for m in range(WINDOW_MIN)],
        "events": [
            {"ts": ts, "type": kind, "name": name, "path": path, "session_id": session_id,
             "visitor_id": visitor, "country": country, "device": device}
            for ts, kind, name, path, session_id, visitor, country, device in latest
        ],
    }
