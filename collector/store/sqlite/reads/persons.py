"""People: the 360 view of one visitor, by user id or by any of their anonymous ids."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.query.timeline import CONTACT_TYPES, TIMELINE_LIMIT, timeline
from collector.store.sqlite import paths
from collector.store.sqlite.reads.scope import human_sql, scope_sql
from collector.store.sqlite.reads.sessions import event_dict
from collector.wire import json_decoder

# The column each `sort` of /api/persons (query/params.py PEOPLE_SORTS) orders by; the visitor id breaks ties.
SORTS = {"last_seen": "last_ts", "first_seen": "first_ts", "sessions": "sessions", "revenue": "revenue",
         "purchases": "purchases"}


def people(
    conn: sqlite3.Connection, scope: Scope, *, sort: str = "last_seen", descending: bool = True,
    limit: int = 50, offset: int = 0,
) -> dict[str, Any]:
    """The visitors with a session in the scope, one page in the asked order, and how many there are.

    `sessions`, `revenue` and `purchases` add up every session of the visitor in the scope (not a
    page of sessions); `all_sessions` counts their sessions over all time, as the 360 view does.
    """
    where, args = scope_sql(scope)
    direction = "DESC" if descending else "ASC"
    bots = "" if scope.include_bots else f" AND {human_sql('a')}"
    rows = conn.execute(
        "WITH v AS (SELECT s.visitor_id, COUNT(*) AS sessions, SUM(s.revenue) AS revenue,"
        " SUM(s.purchases) AS purchases, MIN(s.first_ts) AS first_ts, MAX(s.last_ts) AS last_ts,"
        " MAX(s.user_id IS NOT NULL AND s.user_id = s.visitor_id) AS identified"
        f" FROM sessions s WHERE {where} GROUP BY s.visitor_id)"
        " SELECT v.*, COUNT(*) OVER () AS total,"
        " (SELECT COUNT(*) FROM sessions a WHERE a.site_id = ? AND a.visitor_id = v.visitor_id"
        f"{bots}) AS all_sessions"
        f" FROM v ORDER BY {SORTS[sort]} {direction}, visitor_id {direction} LIMIT ? OFFSET ?",
        [*args, scope.site_id, limit, offset],
    ).fetchall()
    total = rows[0]["total"] if rows else _count(conn, where, args)
    return {
        "total": total,
        "people": [
            {
                "id": r["visitor_id"], "user_id": r["visitor_id"] if r["identified"] else None,
                "sessions": r["sessions"], "all_sessions": r["all_sessions"],
                "revenue": float(r["revenue"] or 0), "purchases": r["purchases"],
                "first_ts": r["first_ts"], "last_ts": r["last_ts"],
            }
            for r in rows
        ],
    }


def _count(conn: sqlite3.Connection, where: str, args: list[object]) -> int:
    """The number of visitors when the asked page is past the end (the window count has no row)."""
    (n,) = conn.execute(f"SELECT COUNT(DISTINCT s.visitor_id) FROM sessions s WHERE {where}", args).fetchone()
    return int(n)


def resolve(conn: sqlite3.Connection, site_id: str, person: str) -> str | None:
    """The visitor id (a user id once identified, else the anon id) behind an id, or None."""
    linked = conn.execute(
        "SELECT user_id FROM identities WHERE site_id = ? AND anon_id = ?", (site_id, person)
    ).fetchone()
    if linked is not None:
        return str(linked[0])
    known = conn.execute(
        "SELECT 1 FROM persons WHERE site_id = ? AND user_id = ?"
        " UNION ALL SELECT 1 FROM sessions WHERE site_id = ? AND visitor_id = ? LIMIT 1",
        (site_id, person, site_id, person),
    ).fetchone()
    return person if known is not None else None


def person(conn: sqlite3.Connection, site_id: str, person_id: str) -> dict[str, Any] | None:
    """Identities, traits, sessions (newest first), purchases and survey answers; None if unknown."""
    visitor = resolve(conn, site_id, person_id)
    if visitor is None:
        return None
    row = conn.execute(
        "SELECT traits, first_ts, last_ts FROM persons WHERE site_id = ? AND user_id = ?",
        (site_id, visitor),
    ).fetchone()
    anon_ids = [
        r[0] for r in conn.execute(
            "SELECT anon_id FROM identities WHERE site_id = ? AND user_id = ?"
            " UNION SELECT anon_id FROM sessions WHERE site_id = ? AND visitor_id = ?"
            " AND anon_id IS NOT NULL ORDER BY 1",
            (site_id, visitor, site_id, visitor),
        )
    ]
    sessions = [
        paths.shown(r) for r in conn.execute(
            "SELECT * FROM sessions WHERE site_id = ? AND visitor_id = ? ORDER BY first_ts DESC, id DESC",
            (site_id, visitor),
        )
    ]
    # A person the site's backend vouched for shows only what it vouched for: a browser that
    # claims their user id (anyone holding the public write key) adds nothing to their profile.
    verified = row is not None or any(s["verified_user"] == visitor for s in sessions)
    claimed = [s for s in sessions if s["verified_user"] != visitor] if verified else []
    if claimed:
        sessions = [s for s in sessions if s["verified_user"] == visitor]
    events = [
        event_dict(e) for e in conn.execute(
            "SELECT e.* FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
            " WHERE s.site_id = ? AND s.visitor_id = ? AND e.type IN ('purchase', 'survey')"
            " AND (NOT ? OR s.verified_user = s.visitor_id) ORDER BY e.ts, e.rowid",
            (site_id, visitor, verified),
        )
    ]
    is_user = row is not None or any(s["user_id"] == visitor for s in sessions)
    return {
        "verified": verified,
        "unverified_sessions": len(claimed),
        "id": visitor,
        "user_id": visitor if is_user else None,
        "anon_ids": anon_ids,
        "traits": json_decoder.decode(row[0]) if row is not None else {},
        "first_ts": min((s["first_ts"] for s in sessions), default=row[1] if row else None),
        "last_ts": max((s["last_ts"] for s in sessions), default=row[2] if row else None),
        "sessions": sessions,
        "purchases": [e for e in events if e["type"] == "purchase"],
        "revenue": float(sum(s["revenue"] for s in sessions)),
        "surveys": [e for e in events if e["type"] == "survey"],
        "timeline": timeline(sessions, _contacts(conn, site_id, visitor, verified)),
    }


def _contacts(conn: sqlite3.Connection, site_id: str, visitor: str, verified: bool) -> list[dict[str, Any]]:
    """The person's newest contacts for the timeline (query/timeline.py), newest first."""
    return [
        event_dict(e) for e in conn.execute(
            # CROSS JOIN keeps the person's sessions outside: each one's events come from the session
            # index, where the touchpoint condition would otherwise scan every event of the site.
            "SELECT e.* FROM sessions s CROSS JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
            " WHERE s.site_id = ? AND s.visitor_id = ? AND (NOT ? OR s.verified_user = s.visitor_id)"
            f" AND (e.touchpoint != 'web' OR e.type IN {CONTACT_TYPES})"
            " ORDER BY e.ts DESC, e.rowid DESC LIMIT ?",
            (site_id, visitor, verified, TIMELINE_LIMIT),
        )
    ]
