"""The overview on ClickHouse: session sums grouped in one pass, pageviews by path in the range."""

from __future__ import annotations

from collections import Counter
from typing import Any

from collector.query.definitions import day_of
from collector.query.overview import BREAKDOWNS, Figures, Period, answer, pages, sources
from collector.query.params import DAY_MS
from collector.query.scope import Goal, Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import (
    abandoned_sql,
    bounced_sql,
    carted_sql,
    goal_event_sql,
    goal_sql,
    human_event_sql,
    scope_sql,
    sessions_in,
    since_sql,
    viewed_sql,
)
from collector.store.clickhouse.transaction import Db

_DIMS = ", ".join(f"s.{c}" for c in BREAKDOWNS.values())
_SUMS = (
    f"count(), sum(s.pageviews), countIf({viewed_sql('s')}), countIf({bounced_sql('s')}), sum(s.duration_ms),"
    f" countIf({carted_sql('s')}), countIf({abandoned_sql('s')}), sum(s.revenue), sum(s.purchases)"
)


def figures(db: Db, scope: Scope, *, daily: bool = True, width: int = DAY_MS) -> Figures:
    """Session sums by day (or hour: `width`) and breakdown value, with the visitor counts."""
    where = scope_sql(db.layout, scope)
    # the site's local days (or hours): the same offsets as the SQLite engine (query/days.py)
    local = scope.calendar.local_sql("s.first_ts", scope.start, scope.end, width)
    rows = db.rows(
        f"SELECT intDiv({local}, {int(width)}) AS day, {_DIMS}, {_SUMS} FROM {sessions_in(db.layout)}"
        f" WHERE {where} GROUP BY day, {_DIMS} ORDER BY day, {_DIMS}"
    )
    goal = goal_sql(db.layout, scope.site_id, scope.goal, scope.start)
    ((visitors, converted),) = db.rows(
        f"SELECT uniqExact(s.visitor_id), uniqExactIf(s.visitor_id, {goal})"
        f" FROM {sessions_in(db.layout)} WHERE {where}"
    )
    by_day: dict[int, int] = {}
    if daily:
        by_day = {
            int(day): int(n) for day, n in db.rows(
                f"SELECT intDiv({local}, {int(width)}) AS day, uniqExact(s.visitor_id)"
                f" FROM {sessions_in(db.layout)} WHERE {where} GROUP BY day"
            )
        }
    return Figures(rows, int(visitors), int(converted), by_day, width=width)


def page_counts(db: Db, scope: Scope) -> Counter[str]:
    """Pageviews by path that happened in the range (by their own time, unlike sessions)."""
    if scope.filters:
        where = scope_sql(db.layout, scope, started=False)
        sessions = f"e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE {where})"
    elif scope.include_bots:
        sessions = "1"
    else:  # the humans: fewer ids to hold than all the sessions that are not bots
        sessions = human_event_sql(db.layout, scope.site_id, "e")
    rows = db.rows(
        f"SELECT coalesce(e.path, ''), count() FROM {db.t('events')} AS e"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.day BETWEEN {day_of(scope.start)} AND {day_of(scope.end - 1)}"
        f" AND e.type = 'pageview' AND e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)} AND {sessions} GROUP BY 1"
    )
    return pages((path, int(n)) for path, n in rows)


def source_counts(db: Db, scope: Scope) -> dict[str, Counter[str]]:
    """Sessions by referrer host, entry page, exit page and region, in one pass over the sessions."""
    rows = db.rows(
        f"SELECT s.referrer, s.entry_url, s.exit_url, s.country, s.region, count()"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)} GROUP BY 1, 2, 3, 4, 5"
    )
    return sources((*row[:5], int(row[5])) for row in rows)


def goal_conversions(db: Db, scope: Scope, goals: list[Goal]) -> list[tuple[int, int]]:
    """Visitors and sessions of the scope that reached each goal, in one pass over its sessions."""
    if not goals:
        return []
    # The sessions holding each goal's events, found in one read of the events: a column of
    # flags per goal, joined to the sessions (the default goal is the sessions' own purchases).
    found = {i: goal_event_sql(goal, "g") for i, goal in enumerate(goals) if goal != Goal()}
    flags = [f"g.f{i} = 1" if i in found else "s.purchases > 0" for i in range(len(goals))]
    joined = ""
    if found:
        columns = ", ".join(f"max({sql}) AS f{i}" for i, sql in found.items())
        joined = (
            f" LEFT JOIN (SELECT g.session_id AS session_id, {columns} FROM {db.t('events')} AS g"
            f" WHERE g.site_id = {lit(scope.site_id)}{since_sql('g', scope.start)}"
            f" AND ({' OR '.join(f'({sql})' for sql in found.values())}) GROUP BY g.session_id) AS g"
            " ON g.session_id = s.id"
        )
    counts = ", ".join(f"uniqExactIf(s.visitor_id, {f}), countIf({f})" for f in flags)
    ((*row,),) = db.rows(
        f"SELECT {counts} FROM {sessions_in(db.layout)}{joined} WHERE {scope_sql(db.layout, scope)}"
    )
    return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(goals))]


def _period(db: Db, scope: Scope, width: int, goals: list[Goal]) -> Period:
    return Period(
        figures(db, scope, width=width), page_counts(db, scope), source_counts(db, scope),
        goal_conversions(db, scope, goals),
    )


def overview(
    db: Db, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
) -> dict[str, Any]:
    asked = [goal for _, _, goal in goals]
    return answer(
        scope, _period(db, scope, width, asked), _period(db, scope.previous, width, asked),
        [(goal_id, name) for goal_id, name, _ in goals],
    )
