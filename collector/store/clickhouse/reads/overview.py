"""The overview on ClickHouse: session sums grouped in one pass, pageviews by path in the range."""

from __future__ import annotations

from collections import Counter
from typing import Any

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
    scope_sql,
    sessions_in,
    since_sql,
    viewed_sql,
)
from collector.store.clickhouse.transaction import Db

_DIM_COLUMNS = [f"s.{c}" for c in BREAKDOWNS.values()]
_DIMS = ", ".join(_DIM_COLUMNS)
_SUMS = (
    f"count(), sum(s.pageviews), countIf({viewed_sql('s')}), countIf({bounced_sql('s')}), sum(s.duration_ms),"
    f" countIf({carted_sql('s')}), countIf({abandoned_sql('s')}), sum(s.revenue), sum(s.purchases)"
)


def _both(scope: Scope) -> tuple[Scope, str, str]:
    """Both periods as one scope, and SQL of the period (1 the one before, 0 the scope's) of a
    session `s` and of an event `e`. Each kind of figure is counted for both periods in one pass:
    the sessions are ordered by id, not time, so every read of a range passes over all of a site's
    sessions, and each statement costs as much again."""
    both = scope.during(scope.previous.start, scope.end)  # the period before ends where this one starts
    return both, f"s.first_ts < {lit(scope.start)}", f"e.ts < {lit(scope.start)}"


def figures(db: Db, scope: Scope, width: int) -> tuple[Figures, Figures]:
    """Each period's session sums by day (or hour: `width`) and its sessions by breakdown value,
    with the visitor counts."""
    both, earlier, _ = _both(scope)
    where = scope_sql(db.layout, both)
    # the site's local days (or hours): the same offsets as the SQLite engine (query/days.py)
    local = scope.calendar.local_sql("s.first_ts", both.start, both.end, width)
    # One read, grouped by day and by each breakdown apart (grouping() tells the sets apart: a bit
    # is 1 where its column is not a key). Grouped by all of them at once, the rows were thousands,
    # and sorting and reading them cost more than the grouping (5.1M events: 77 -> 40 ms).
    days: tuple[list[list[Any]], list[list[Any]]] = ([], [])
    counted: tuple[dict[str, Counter[str]], ...] = tuple({name: Counter() for name in BREAKDOWNS} for _ in range(2))
    names = list(BREAKDOWNS)
    for period, unkeyed, day, *row in db.rows(
        f"SELECT {earlier} AS period, grouping(day, {_DIMS}), intDiv({local}, {int(width)}) AS day, {_DIMS}, {_SUMS}"
        f" FROM {sessions_in(db.layout)} WHERE {where}"
        f" GROUP BY GROUPING SETS ((period, day), {', '.join(f'(period, {dim})' for dim in _DIM_COLUMNS)})"
        " SETTINGS force_grouping_standard_compatibility = 1"
    ):
        dims, sums = row[:len(names)], row[len(names):]
        if not unkeyed >> len(names):
            days[period].append([day, *sums])
            continue
        at = next(i for i in range(len(names)) if not unkeyed >> (len(names) - 1 - i) & 1)
        counted[period][names[at]][dims[at] or "(none)"] += sums[0]
    # visitors by day and in all (the grouping set without the day), and those who converted: each
    # day's set of visitors made once and merged into the period's (hashing every visitor id again
    # for the period's set cost a third more)
    goal = goal_sql(db.layout, scope.site_id, scope.goal, both.start)
    by_day: tuple[dict[int, int], dict[int, int]] = ({}, {})
    visitors = [(0, 0), (0, 0)]
    for period, day, total, n, converted in db.rows(
        f"SELECT period, day, grouping(day), uniqExactMerge(seen), uniqExactMerge(converted) FROM ("
        f" SELECT {earlier} AS period, intDiv({local}, {int(width)}) AS day, uniqExactState(s.visitor_id) AS seen,"
        f" uniqExactStateIf(s.visitor_id, {goal}) AS converted FROM {sessions_in(db.layout)}"
        f" WHERE {where} GROUP BY period, day) GROUP BY GROUPING SETS ((period, day), (period))"
        " SETTINGS force_grouping_standard_compatibility = 1"  # grouping() is 1 where the day is not a key
    ):
        if total:
            visitors[period] = (int(n), int(converted))
        else:
            by_day[period][int(day)] = int(n)
    # each sum adds the days in order, as the SQLite engine's rows come
    now, before = (Figures(sorted(days[p]), *visitors[p], by_day[p], width=width, breakdowns=counted[p])
                   for p in (0, 1))
    return now, before


def page_counts(db: Db, scope: Scope) -> tuple[Counter[str], Counter[str]]:
    """Each period's pageviews by path that happened in it (by their own time, unlike sessions):
    the pageviews the rows of the sessions open in either period keep (views.py). Read from the
    events, the bots' sessions were looked up for each of them, and cost twice as much."""
    both, _, _ = _both(scope)
    rows: tuple[list[tuple[str, int]], list[tuple[str, int]]] = ([], [])
    for period, path, n in db.rows(
        f"SELECT ts < {lit(scope.start)} AS period, coalesce(path, ''), count() FROM {sessions_in(db.layout)}"
        " ARRAY JOIN s.views.ts AS ts, s.views.path AS path"
        # a session's pageviews fall between its first and last event
        f" WHERE {scope_sql(db.layout, both, started=False)} AND s.last_ts >= {lit(both.start)}"
        f" AND s.first_ts < {lit(both.end)} AND ts >= {lit(both.start)} AND ts < {lit(both.end)} GROUP BY 1, 2"
    ):
        rows[period].append((path, int(n)))
    return pages(rows[0]), pages(rows[1])


def source_counts(db: Db, scope: Scope) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Each period's sessions by referrer host, entry page, exit page and region."""
    both, earlier, _ = _both(scope)
    rows: tuple[list[Any], list[Any]] = ([], [])
    for period, *row in db.rows(
        f"SELECT {earlier} AS period, s.referrer, s.entry_url, s.exit_url, s.country, s.region, count()"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, both)} GROUP BY 1, 2, 3, 4, 5, 6"
    ):
        rows[period].append((*row[:5], int(row[5])))
    return sources(rows[0]), sources(rows[1])


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


def overview(
    db: Db, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
) -> dict[str, Any]:
    asked = [goal for _, _, goal in goals]
    periods = zip(figures(db, scope, width), page_counts(db, scope), source_counts(db, scope),
                  (scope, scope.previous), strict=True)
    now, before = (Period(f, p, s, goal_conversions(db, period, asked)) for f, p, s, period in periods)
    return answer(scope, now, before, [(goal_id, name) for goal_id, name, _ in goals])
