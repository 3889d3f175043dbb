"""Weekly retention, engine-neutral: cohorts by the week of a visitor's first session, who came back."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from collector.query.definitions import DAY_MS, day_of
from collector.query.overview import day_name, ratio
from collector.query.scope import Scope

WEEK_MS = 7 * DAY_MS
# 1970-01-01 was a Thursday: weeks start on Monday, three days later (ISO weeks, UTC).
MONDAY_MS = 4 * DAY_MS


def week_of(ts: int) -> int:
    """The index of the UTC Monday-to-Sunday week holding `ts`."""
    return (ts - MONDAY_MS) // WEEK_MS


def week_start(week: int) -> str:
    return day_name(day_of(week * WEEK_MS + MONDAY_MS))


def answer(scope: Scope, sessions: Iterable[tuple[str, int]], weeks: int, now: int | None = None) -> dict[str, Any]:
    """From (visitor, session start) of every session the filters let count (over all time):
    `retained[k]` of a cohort counts its visitors with a session in cohort week + k (k = 0 is
    everyone). A week that has not begun yet is None (nobody could have come back), not 0;
    `current_week` is the week still under way, whose count can only grow."""
    current = week_of(int(time.time() * 1000) if now is None else now)
    firsts: dict[str, int] = {}
    active: dict[str, set[int]] = defaultdict(set)
    for visitor, first_ts in sessions:
        if visitor not in firsts or first_ts < firsts[visitor]:
            firsts[visitor] = first_ts
        active[visitor].add(week_of(first_ts))
    cohorts: dict[int, list[int]] = {}
    for visitor, first_ts in firsts.items():
        if not scope.start <= first_ts < scope.end:
            continue
        cohort = week_of(first_ts)
        counts = cohorts.setdefault(cohort, [0] * weeks)
        for week in active[visitor]:
            if 0 <= week - cohort < weeks:
                counts[week - cohort] += 1
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
