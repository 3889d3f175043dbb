"""The overview on SQLite: session sums from the day rollups or the sessions table, pageviews by path.

The arithmetic (ratios, series, ranking) is engine-neutral, in collector/query/overview.py.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

from collector.query.overview import BREAKDOWNS, SUMS, Figures, Period, answer, pages, sources
from collector.query.params import DAY_MS
from collector.query.scope import Goal, Scope
from collector.store.sqlite.reads.scope import (
    abandoned_sql,
    bounced_sql,
    carted_sql,
    goal_event_sql,
    goal_sql,
    human_sql,
    scope_sql,
    viewed_sql,
)

_DIMS = ", ".join(f"s.{c}" for c in BREAKDOWNS.values())

# Straight from the sessions table: the same figures as the session_days rollup holds.
_GROUPED = f"""
SELECT {{local}} / {{bucket}} AS day, {_DIMS},
       count(*), sum(s.pageviews), sum({viewed_sql("s")}), sum({bounced_sql("s")}), sum(s.duration_ms),
       sum({carted_sql("s")}), sum({abandoned_sql("s")}), sum(s.revenue), sum(s.purchases)
FROM sessions s WHERE {{where}} GROUP BY day, {_DIMS}
"""
_ROLLUP = f"""
SELECT day, {", ".join(BREAKDOWNS.values())}, {", ".join(SUMS)} FROM session_days
WHERE site_id = ? AND day >= ? AND day < ? AND {human_sql("")} AND sessions != 0
"""


def _local(scope: Scope, width: int) -> str:
    """A session's start on the site's local clock: its day (or hour) is this / width."""
    return scope.calendar.local_sql("s.first_ts", scope.start, scope.end, width)


def _visitors(
    conn: sqlite3.Connection, scope: Scope, daily: bool, width: int = DAY_MS,
) -> tuple[int, int, dict[int, int]]:
    """Distinct visitors, converted visitors, and distinct visitors per day (no rollup sums these)."""
    where, args = scope_sql(scope)
    goal, goal_args = goal_sql(scope.goal)
    visitors, converted = conn.execute(
        f"SELECT count(DISTINCT s.visitor_id), count(DISTINCT CASE WHEN {goal}"
        f" THEN s.visitor_id END) FROM sessions s WHERE {where}",
        [*goal_args, *args],
    ).fetchone()
    if not daily:
        return visitors, converted, {}
    by_day = dict(conn.execute(
        f"SELECT {_local(scope, width)} / {int(width)} AS day, count(DISTINCT s.visitor_id) FROM sessions s"
        f" WHERE {where} GROUP BY day",
        args,
    ).fetchall())
    return visitors, converted, by_day


def figures(conn: sqlite3.Connection, scope: Scope, *, daily: bool = True, width: int = DAY_MS) -> Figures:
    """Session sums by day (or hour) and by breakdown value, from the rollup or the sessions table."""
    if scope.rolled_up and width == DAY_MS:
        rows = conn.execute(_ROLLUP, (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS))
    else:
        where, args = scope_sql(scope)
        rows = conn.execute(_GROUPED.format(where=where, local=_local(scope, width), bucket=int(width)), args)
    return Figures(rows, *_visitors(conn, scope, daily, width), width=width)


def _pages(conn: sqlite3.Connection, scope: Scope) -> Counter[str]:
    """Pageviews by path that happened in the range (by their own time, unlike sessions)."""
    if scope.rolled_up:
        return pages(conn.execute(
            "SELECT path, sum(pageviews) FROM page_days WHERE site_id = ? AND day >= ? AND day < ?"
            " GROUP BY path HAVING sum(pageviews) != 0",
            (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS),
        ))
    # Two plain reads joined here: the sessions of the scope that were open in the range (of
    # any start), then the range's pageviews off the covering index events_type_ts_session.
    # Joined in SQL, each pageview cost two B-tree descents to find its session.
    where, args = scope_sql(scope, started=False)
    kept = {session_id for (session_id,) in conn.execute(
        f"SELECT s.id FROM sessions s WHERE {where} AND s.first_ts < ? AND s.last_ts >= ?",
        [*args, scope.end, scope.start],
    )}
    viewed = Counter(path for session_id, path in conn.execute(
        "SELECT e.session_id, coalesce(e.path, '') FROM events e INDEXED BY events_type_ts_session"
        " WHERE e.site_id = ? AND e.type = 'pageview' AND e.ts >= ? AND e.ts < ?",
        [scope.site_id, scope.start, scope.end],
    ) if session_id in kept)
    return pages(viewed.items())


def _sources(conn: sqlite3.Connection, scope: Scope) -> dict[str, Counter[str]]:
    """Sessions by referrer host, entry page, exit page and region (no rollup holds these).

    One pass over the range's sessions: four GROUP BYs would each look every session up again.
    """
    where, args = scope_sql(scope)
    return sources(conn.execute(
        "SELECT s.referrer, s.entry_url, s.exit_url, s.country, s.region, count(*) FROM sessions s"
        f" WHERE {where} GROUP BY 1, 2, 3, 4, 5",
        args,
    ))


def goal_conversions(conn: sqlite3.Connection, scope: Scope, goals: list[Goal]) -> list[tuple[int, int]]:
    """Visitors and sessions of the scope that reached each goal, one query per goal.

    A goal's sessions are gathered once from its events of the range (a session's events all lie
    at or after its start), a set SQLite builds before its pass over the range's sessions and
    probes per session: an EXISTS per session costs an index descent per session and goal, and
    several goals in one pass had SQLite probe each set twice per session.
    """
    where, args = scope_sql(scope)
    found: list[tuple[int, int]] = []
    for goal in goals:
        if goal == Goal():
            sql, goal_args = goal_sql(goal)  # a column of the session rollup
        else:
            event_sql, event_args = goal_event_sql(goal, "g")
            sql = f"s.id IN (SELECT g.session_id FROM events g WHERE g.site_id = ? AND g.ts >= ? AND {event_sql})"
            goal_args = [scope.site_id, scope.start, *event_args]
        visitors, sessions = conn.execute(
            f"SELECT count(DISTINCT s.visitor_id), count(*) FROM sessions s WHERE {where} AND {sql}",
            [*args, *goal_args],
        ).fetchone()
        found.append((visitors, sessions))
    return found


def _period(conn: sqlite3.Connection, scope: Scope, width: int, goals: list[Goal]) -> Period:
    return Period(
        figures(conn, scope, width=width), _pages(conn, scope), _sources(conn, scope),
        goal_conversions(conn, scope, goals),
    )


def overview(
    conn: sqlite3.Connection, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
) -> dict[str, Any]:
    """Everything the overview page shows, for a scope and the period before it.

    `width`: the series' bucket (a day, or an hour for short ranges); `goals`: (id, name, goal)
    whose conversions are counted beside the headline figures.
    """
    asked = [goal for _, _, goal in goals]
    return answer(
        scope, _period(conn, scope, width, asked), _period(conn, scope.previous, width, asked),
        [(goal_id, name) for goal_id, name, _ in goals],
    )
