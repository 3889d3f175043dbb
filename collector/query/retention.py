"""Weekly retention, engine-neutral: cohorts by the week of a visitor's first session, who came back."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from collector.query.days import MAX_MS, UTC_DAYS, Calendar
from collector.query.overview import day_name, ratio
from collector.query.scope import Scope

# Day 0 (1970-01-01) was a Thursday: weeks start on Monday, day 4 (ISO weeks, in the site's zone).
MONDAY = 4


def week_of(ts: int, calendar: Calendar = UTC_DAYS) -> int:
    """The index of the site-local Monday-to-Sunday week holding `ts`."""
    return (calendar.day_of(ts) - MONDAY) // 7


def week_start(week: int) -> str:
    return day_name(week * 7 + MONDAY)


def bounds(scope: Scope, weeks: int) -> tuple[int, int]:
    """[start, end) of the sessions that can count: from the range's start (a cohort's first
    session is in the range) to the end of the last week the latest cohort is followed for."""
    # An open end (no `to`) stops where stored times do (the wire protocol's MAX_MS).
    last = week_of(min(scope.end, MAX_MS) - 1, scope.calendar) + weeks
    return scope.start, scope.calendar.day_start(last * 7 + MONDAY)


def week_sql(
    scope: Scope, weeks: int, *, day: Callable[[str], str], divide: Callable[[str, int], str],
) -> Callable[[str], str]:
    """An engine's `week_of` over a ms expression: given its site-local day number of a local-ms
    expression and its integer division. floor((day - 4) / 7) is floor((day + 3) / 7) - 1, and an
    engine's division (which truncates toward zero) is floor for day + 3 >= 0, true of any stored
    time."""
    low, high = bounds(scope, weeks)

    def week(column: str) -> str:
        local_day = day(scope.calendar.local_sql(column, low, high))
        return f"({divide(f'{local_day} + {7 - MONDAY}', 7)} - 1)"

    return week


def counts_sql(
    scope: Scope, weeks: int, *, sessions: str, where: str,
    day: Callable[[str], str], divide: Callable[[str, int], str], distinct: str,
) -> str:
    """A query for `from_counts`: each session the filters let count (over all time) carries its
    visitor's first start (a window over the visitor's sessions); the sessions of visitors first
    seen in the range are counted per (cohort week, k), k < weeks.

    An engine gives its FROM over `s` (`sessions`, an index hint included), the filter over `s`,
    its day and division (`week_sql`) and its exact count of distinct values (`count(DISTINCT {})`).
    """
    high = bounds(scope, weeks)[1]
    week = week_sql(scope, weeks, day=day, divide=divide)
    return (
        f"SELECT {week('first')} AS cohort, {week('first_ts')} - {week('first')} AS k, {distinct.format('visitor_id')}"
        " FROM (SELECT s.visitor_id, s.first_ts, min(s.first_ts) OVER (PARTITION BY s.visitor_id) AS first"
        f" FROM {sessions} WHERE {where})"
        f" WHERE first >= {int(scope.start)} AND first < {int(scope.end)} AND first_ts < {int(high)}"
        f" GROUP BY cohort, k HAVING k < {int(weeks)}"
    )


def from_counts(
    scope: Scope, counts: Iterable[Sequence[int]], weeks: int, now: int | None = None,
) -> dict[str, Any]:
    """The answer from (cohort week, k, visitors of the cohort with a session in week cohort + k),
    for 0 <= k < weeks, as an engine counts them (see `answer` for what they mean)."""
    cohorts: dict[int, list[int]] = {}
    for cohort, k, n in counts:
        cohorts.setdefault(int(cohort), [0] * weeks)[int(k)] = int(n)
    return _shaped(scope, cohorts, weeks, now)


def answer(scope: Scope, sessions: Iterable[tuple[str, int]], weeks: int, now: int | None = None) -> dict[str, Any]:
    """From (visitor, session start) of every session the filters let count (over all time):
    `retained[k]` of a cohort counts its visitors with a session in cohort week + k (k = 0 is
    everyone). A week that has not begun yet is None (nobody could have come back), not 0;
    `current_week` is the week still under way, whose count can only grow."""
    calendar = scope.calendar
    firsts: dict[str, int] = {}
    active: dict[str, set[int]] = defaultdict(set)
    for visitor, first_ts in sessions:
        if visitor not in firsts or first_ts < firsts[visitor]:
            firsts[visitor] = first_ts
        active[visitor].add(week_of(first_ts, calendar))
    cohorts: dict[int, list[int]] = {}
    for visitor, first_ts in firsts.items():
        if not scope.start <= first_ts < scope.end:
            continue
        cohort = week_of(first_ts, calendar)
        counts = cohorts.setdefault(cohort, [0] * weeks)
        for week in active[visitor]:
            if 0 <= week - cohort < weeks:
                counts[week - cohort] += 1
    return _shaped(scope, cohorts, weeks, now)


def _shaped(scope: Scope, cohorts: dict[int, list[int]], weeks: int, now: int | None) -> dict[str, Any]:
    current = week_of(int(time.time() * 1000) if now is None else now, scope.calendar)
    return {
        "weeks": weeks,
        "current_week": week_start(current),
        "cohorts": [
            {
                "week": week_start(cohort),
                "visitors": counts[0],
                "retained": [n if cohort + k <= current else None for k, n in enumerate(counts)],
                "rates": [ratio(n, counts[0]) if cohort + k <= current else None for k, n in enumerate(counts)],
            }
            for cohort, counts in sorted(cohorts.items())
        ],
    }
