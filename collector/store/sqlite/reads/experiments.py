"""Experiments in SQLite: their definitions, and the per-variant counts of one experiment.

An exposure is an event of type 'exposure' with the experiment in `name` and the variant in
`data`; the partial index events_exposure reads an experiment's exposures alone.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from collector.query.experiments import ArmCounts, Counts, Experiment
from collector.query.scope import Goal, Scope
from collector.store.sqlite.connection import transaction
from collector.store.sqlite.reads.scope import bounced_sql, filters_sql, goal_event_sql, human_sql, viewed_sql

_COLUMNS = "key, name, variants, goal, metrics, hypothesis, saved_goal, created_at"


def _experiment(row: sqlite3.Row | tuple[Any, ...]) -> Experiment:
    return Experiment.from_stored(*tuple(row))


def list_experiments(conn: sqlite3.Connection, site_id: str) -> list[Experiment]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM experiments WHERE site_id = ? ORDER BY created_at, key", (site_id,)
    )
    return [_experiment(r) for r in rows]


def get_experiment(conn: sqlite3.Connection, site_id: str, key: str) -> Experiment | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM experiments WHERE site_id = ? AND key = ?", (site_id, key)).fetchone()
    return None if row is None else _experiment(row)


def create_experiment(conn: sqlite3.Connection, site_id: str, experiment: Experiment) -> Experiment | None:
    """Store a new experiment (on the write connection); None when its key is taken."""
    with transaction(conn):
        cursor = conn.execute(
            f"INSERT OR IGNORE INTO experiments (site_id, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (site_id, experiment.key, *experiment.stored(), int(time.time() * 1000)),
        )
    return get_experiment(conn, site_id, experiment.key) if cursor.rowcount else None


def delete_experiment(conn: sqlite3.Connection, site_id: str, key: str) -> bool:
    """Forget a definition; its exposures stay, as every event does, until retention removes them."""
    with transaction(conn):
        cursor = conn.execute("DELETE FROM experiments WHERE site_id = ? AND key = ?", (site_id, key))
    return cursor.rowcount > 0


def counts(conn: sqlite3.Connection, scope: Scope, key: str, goal: Goal) -> Counts:
    """Per variant: visitors by the variant of their first exposure in the range and what they
    did from that moment to the end of the range (goal, revenue), in one pass."""
    where, filter_args = filters_sql(scope.filters, scope.goal, scope.site_id)
    bots = "" if scope.include_bots else f" AND {human_sql('s')}"
    extra = "".join(f" AND {w}" for w in where)
    goal_sql, goal_args = goal_event_sql(goal, "g")
    exposed = (
        "WITH seen AS ("
        " SELECT s.visitor_id AS visitor, e.ts, e.rowid AS seq, e.session_id,"
        " json_extract(e.data, '$.variant') AS variant, s.pageviews"
        " FROM events e INDEXED BY events_exposure"
        " JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
        f" WHERE e.site_id = ? AND e.type = 'exposure' AND e.name = ? AND e.ts >= ? AND e.ts < ?{bots}{extra}"
        "), ranked AS ("
        " SELECT visitor, ts, variant, pageviews,"
        " row_number() OVER (PARTITION BY visitor ORDER BY ts, seq) AS n,"
        " min(variant) OVER (PARTITION BY visitor) <> max(variant) OVER (PARTITION BY visitor) AS crossed"
        " FROM seen"
        "), firsts AS MATERIALIZED (SELECT * FROM ranked WHERE n = 1)"
    )
    args: list[object] = [scope.site_id, key, scope.start, scope.end, *filter_args]
    # From each visitor's first exposure to their later sessions (sessions_visitor) and events
    # (events_session_type): CROSS JOIN keeps that order, which reads only the exposed visitors.
    later = (
        " FROM firsts f CROSS JOIN sessions gs CROSS JOIN events g"
        " WHERE gs.site_id = ? AND gs.visitor_id = f.visitor AND gs.last_ts >= f.ts"
        " AND g.site_id = gs.site_id AND g.session_id = gs.id AND g.ts >= f.ts AND g.ts < ?"
    )
    # LEFT JOINs run in the order written: each exposed visitor once, with their later goal and
    # purchase events (none: converted 0, revenue 0).
    rows = conn.execute(
        exposed + ", visitors AS ("
        f" SELECT f.variant, f.crossed, f.pageviews, max(CASE WHEN {goal_sql} THEN 1 ELSE 0 END) AS converted,"
        " total(CASE WHEN g.type = 'purchase' THEN json_extract(g.data, '$.value') END) AS revenue"
        " FROM firsts f LEFT JOIN sessions gs ON gs.site_id = ? AND gs.visitor_id = f.visitor AND gs.last_ts >= f.ts"
        " LEFT JOIN events g ON g.site_id = gs.site_id AND g.session_id = gs.id AND g.type IN (?, 'purchase')"
        " AND g.ts >= f.ts AND g.ts < ? GROUP BY f.visitor)"
        " SELECT variant, count(*), sum(converted), total(revenue), total(revenue * revenue), sum(crossed),"
        f" sum({viewed_sql('')}), sum({bounced_sql('')}) FROM visitors GROUP BY variant ORDER BY variant",
        [*args, *goal_args, scope.site_id, goal.type, scope.end],
    ).fetchall()
    arms = [ArmCounts(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]
    scores = conn.execute(
        exposed + " SELECT f.variant, g.name, json_extract(g.data, '$.scale'), json_extract(g.data, '$.score'),"
        f" count(*){later} AND g.type = 'survey' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        [*args, scope.site_id, scope.end],
    ).fetchall()
    return Counts(arms, [tuple(r) for r in scores])
