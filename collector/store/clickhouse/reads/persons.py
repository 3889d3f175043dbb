"""People on ClickHouse: the 360 view of one visitor, by user id or by any of their anonymous ids."""

from __future__ import annotations

from typing import Any

from collector.query.scope import Scope
from collector.query.timeline import CONTACT_TYPES, TIMELINE_LIMIT, timeline
from collector.store.clickhouse.client import lit, many
from collector.store.clickhouse.reads.scope import human_sql, scope_sql, sessions_in, visitor_sessions_sql
from collector.store.clickhouse.reads.sessions import (
    EVENT_SELECT,
    SESSION_SELECT,
    days_sql,
    event_dict,
    events_of,
    session_dict,
)
from collector.store.clickhouse.transaction import Db
from collector.wire import json_decoder

# The column each `sort` of /api/persons (query/params.py PEOPLE_SORTS) orders by; the visitor id breaks ties.
SORTS = {"last_seen": "last_ts", "first_seen": "first_ts", "sessions": "sessions", "revenue": "revenue",
         "purchases": "purchases"}


def people(
    db: Db, scope: Scope, *, sort: str = "last_seen", descending: bool = True, limit: int = 50, offset: int = 0,
) -> dict[str, Any]:
    """The visitors with a session in the scope, one page in the asked order, and how many there are.

    `sessions`, `revenue` and `purchases` add up every session of the visitor in the scope;
    `all_sessions` counts their sessions over all time, as the 360 view does.
    """
    where = scope_sql(db.layout, scope)
    direction = "DESC" if descending else "ASC"
    order = f"{SORTS[sort]} {direction}, visitor_id {direction}"
    bots = "" if scope.include_bots else f" AND {human_sql('a')}"
    rows = db.rows(
        f"SELECT v.visitor_id, v.sessions, v.revenue, v.purchases, v.first_ts, v.last_ts, v.identified, a.n FROM ("
        " SELECT s.visitor_id AS visitor_id, count() AS sessions, sum(s.revenue) AS revenue,"
        " sum(s.purchases) AS purchases, min(s.first_ts) AS first_ts, max(s.last_ts) AS last_ts,"
        " max(ifNull(s.user_id = s.visitor_id, 0)) AS identified"
        f" FROM {sessions_in(db.layout)} WHERE {where} GROUP BY s.visitor_id"
        f" ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}) AS v"
        f" LEFT JOIN (SELECT a.visitor_id AS visitor_id, count() AS n FROM {db.t('sessions')} AS a FINAL"
        f" WHERE a.site_id = {lit(scope.site_id)}{bots} GROUP BY a.visitor_id) AS a ON a.visitor_id = v.visitor_id"
        f" ORDER BY {order.replace('visitor_id', 'v.visitor_id')}"
    )
    ((total,),) = db.rows(f"SELECT uniqExact(s.visitor_id) FROM {sessions_in(db.layout)} WHERE {where}")
    return {
        "total": int(total),
        "people": [
            {
                "id": visitor, "user_id": visitor if identified else None, "sessions": int(sessions),
                "all_sessions": int(n), "revenue": float(revenue or 0), "purchases": int(purchases),
                "first_ts": int(first_ts), "last_ts": int(last_ts),
            }
            for visitor, sessions, revenue, purchases, first_ts, last_ts, identified, n in rows
        ],
    }


def resolve(db: Db, site_id: str, person: str) -> str | None:
    """The visitor id (a user id once identified, else the anon id) behind an id, or None."""
    site = lit(site_id)
    linked = db.rows(
        f"SELECT user_id FROM {db.t('identities')} FINAL WHERE site_id = {site} AND anon_id = {lit(person)}"
    )
    if linked:
        return str(linked[0][0])
    known = db.rows(
        f"SELECT 1 FROM {db.t('persons')} FINAL WHERE site_id = {site} AND user_id = {lit(person)}"
        f" UNION ALL SELECT 1 FROM {db.t('sessions')} FINAL WHERE site_id = {site}"
        f" AND {visitor_sessions_sql(db.layout, site_id, person, '')}"
    )
    return person if known else None


def person(db: Db, site_id: str, person_id: str) -> dict[str, Any] | None:
    """Identities, traits, sessions (newest first), purchases and survey answers; None if unknown."""
    visitor = resolve(db, site_id, person_id)
    if visitor is None:
        return None
    site = lit(site_id)
    found = db.rows(
        f"SELECT traits, first_ts, last_ts FROM {db.t('persons')} FINAL"
        f" WHERE site_id = {site} AND user_id = {lit(visitor)}"
    )
    row = found[0] if found else None
    anon_ids = [
        r[0] for r in db.rows(
            f"SELECT a FROM (SELECT anon_id AS a FROM {db.t('identities')} FINAL"
            f" WHERE site_id = {site} AND user_id = {lit(visitor)}"
            f" UNION DISTINCT SELECT assumeNotNull(anon_id) FROM {db.t('sessions')} FINAL WHERE site_id = {site}"
            f" AND {visitor_sessions_sql(db.layout, site_id, visitor, '')} AND anon_id IS NOT NULL) ORDER BY a"
        )
    ]
    sessions = [
        session_dict(r) for r in db.rows(
            f"SELECT {SESSION_SELECT} FROM {sessions_in(db.layout)} WHERE s.site_id = {site}"
            f" AND {visitor_sessions_sql(db.layout, site_id, visitor)} ORDER BY s.first_ts DESC, s.id DESC"
        )
    ]
    # A person the site's backend vouched for shows only what it vouched for: a browser that
    # claims their user id (anyone holding the public write key) adds nothing to their profile.
    verified = row is not None or any(s["verified_user"] == visitor for s in sessions)
    claimed = [s for s in sessions if s["verified_user"] != visitor] if verified else []
    if claimed:
        sessions = [s for s in sessions if s["verified_user"] == visitor]
    # their events: those of the sessions kept above, on the days those sessions span
    theirs = f"{days_sql(sessions)} AND e.session_id IN {many([s['id'] for s in sessions])}"
    events = events_of(db, site_id, f"e.type IN ('purchase', 'survey') AND {theirs}")
    contacts = db.rows(
        f"SELECT {EVENT_SELECT} FROM {db.t('events')} AS e WHERE e.site_id = {site} AND {theirs}"
        f" AND (e.touchpoint != 'web' OR e.type IN {CONTACT_TYPES})"
        f" ORDER BY e.ts DESC, e.seq DESC LIMIT {TIMELINE_LIMIT}"
    )
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
        "timeline": timeline(sessions, [event_dict(r) for r in contacts]),
    }
