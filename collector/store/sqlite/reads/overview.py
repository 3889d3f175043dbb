"""The overview on SQLite: session sums from the day rollups or the sessions table, pageviews by path.

The arithmetic (ratios, series, ranking) is engine-neutral, in collector/query/overview.py.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from collector.query.overview import BREAKDOWNS, SUMS, Figures, Period, answer, pages, sources, sources_apart
from collector.query.params import DAY_MS
from collector.query.scope import Goal, Scope
from collector.store.sqlite import paths
from collector.store.sqlite.connection import tuples
from collector.store.sqlite.reads.scope import (
    abandoned_sql,
    bounced_sql,
    carted_sql,
    goal_event_sql,
    human_sql,
    open_sql,
    scope_sql,
    viewed_sql,
)
from collector.wire import json_encoder

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


def _sums(conn: sqlite3.Connection, scope: Scope, width: int) -> Iterable[Sequence[Any]]:
    """Session sums by day (or hour) and by breakdown value, from the rollup or the sessions table."""
    if scope.rolled_up and width == DAY_MS:
        return tuples(conn, _ROLLUP, (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS))
    where, args = scope_sql(scope)
    return tuples(conn, _GROUPED.format(where=where, local=_local(scope, width), bucket=int(width)), args)


def _people(
    conn: sqlite3.Connection, scope: Scope, width: int, goals: list[Goal],
) -> tuple[int, int, dict[int, int], list[tuple[int, int]]]:
    """Distinct visitors, converted visitors, distinct visitors per day (or hour), and the visitors
    and sessions that reached each goal: no rollup sums these.

    One read of the scope's sessions (from the covering index sessions_visitors) counted here,
    against each goal's sessions gathered from its events: a count(DISTINCT) per figure and per
    goal cost a pass over the range's sessions each.
    """
    where, args = scope_sql(scope)
    sessions = tuples(
        conn,
        f"SELECT s.id, s.visitor_id, {_local(scope, width)} / {int(width)}, s.purchases > 0"
        f" FROM sessions s WHERE {where}",
        args,
    )
    # Counted with C-level maps: a Python loop over a hundred thousand sessions costs as much as
    # reading them. The sessions come in order of their start (the index's), so a bucket is
    # mostly one run; the runs of one bucket are merged.
    by_bucket: dict[int, set[str]] = defaultdict(set)
    for bucket, run in itertools.groupby(sessions, _third):
        by_bucket[bucket].update(map(_second, run))
    ids, visitors, bought = ([*map(column, sessions)] for column in (_first, _second, _fourth))
    visitor_count, converted, reached = _reached(conn, scope, goals, ids, visitors, bought)
    return visitor_count, converted, {bucket: len(run) for bucket, run in by_bucket.items()}, reached


def _reached(
    conn: sqlite3.Connection, scope: Scope, goals: list[Goal],
    ids: Sequence[str], visitors: Sequence[str], bought: Sequence[object],
) -> tuple[int, int, list[tuple[int, int]]]:
    """Distinct visitors, converted visitors and the (visitors, sessions) that reached each goal,
    from the scope's sessions as columns: each one's id, visitor, and whether it bought (truthy)."""

    def reached(goal: Goal) -> tuple[int, int]:
        if not ids:  # the goal's events would be read for nothing
            return 0, 0
        if goal == Goal():  # a column of the session rollup
            holds: Iterable[object] = bought
        else:
            # a session's events all lie at or after its start
            event_sql, event_args = goal_event_sql(goal, "g")
            found_ids = set(map(_first, tuples(
                conn, f"SELECT g.session_id FROM events g WHERE g.site_id = ? AND g.ts >= ? AND {event_sql}",
                [scope.site_id, scope.start, *event_args],
            )))
            holds = map(found_ids.__contains__, ids)
        found = list(itertools.compress(visitors, holds))
        return len(set(found)), len(found)

    return len(set(visitors)), reached(scope.goal)[0], [reached(goal) for goal in goals]


_first, _second, _third, _fourth = map(operator.itemgetter, range(4))


def _pages(conn: sqlite3.Connection, scope: Scope) -> Counter[str]:
    """Pageviews by path that happened in the range (by their own time, unlike sessions)."""
    if scope.rolled_up:
        return pages(tuples(
            conn,
            "SELECT path, sum(pageviews) FROM page_days WHERE site_id = ? AND day >= ? AND day < ?"
            " GROUP BY path HAVING sum(pageviews) != 0",
            (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS),
        ))
    # The sessions of the scope that were open in the range (of any start).
    return pages(_range_pageviews(conn, scope, "", [], scope.end))


def _range_pageviews(
    conn: sqlite3.Connection, scope: Scope, listed: str, listed_args: list[object], began_before: int,
) -> list[tuple[Any, ...]]:
    """(path, pageviews) of the range's pageviews of some sessions: those `listed` selects (SQL
    for ids, then UNION ALL; '' for none) and those of the scope open in the range that began
    before `began_before`. The ids form a sorted list that SQLite seeks one by one in the session
    index; one pass over all the range's pageviews probing a set costs more unless the filter
    keeps nearly every session, and joined the other way each pageview cost two B-tree descents."""
    where, args = scope_sql(scope, started=False)
    open_, open_args = open_sql(scope, began_before)
    return tuples(
        conn,
        "SELECT coalesce(e.path, ''), count(*) FROM events e INDEXED BY events_session_type"
        f" WHERE e.site_id = ? AND e.session_id IN ({listed}SELECT s.id FROM sessions s WHERE {where} AND {open_})"
        " AND e.type = 'pageview' AND e.ts >= ? AND e.ts < ? GROUP BY 1",
        [scope.site_id, *listed_args, *args, *open_args, scope.start, scope.end],
    )


def _sources(conn: sqlite3.Connection, scope: Scope) -> dict[str, Counter[str]]:
    """Sessions by referrer host, entry page, exit page and region: from the source_days rollup
    and the exit pages grouped alone, or else in one pass over the range's sessions (four
    GROUP BYs would each pass over them again)."""
    where, args = scope_sql(scope)
    if not scope.rolled_up:
        return sources(tuples(
            conn,
            "SELECT s.referrer, s.entry_url, s.exit_url, s.country, s.region, count(*) FROM sessions s"
            f" WHERE {where} GROUP BY 1, 2, 3, 4, 5",
            args,
        ))
    rows = tuples(
        conn,
        "SELECT kind, value, extra, sum(sessions) FROM source_days WHERE site_id = ? AND day >= ? AND day < ?"
        f" AND {human_sql('')} GROUP BY kind, value, extra HAVING sum(sessions) != 0",
        (scope.site_id, scope.start // DAY_MS, scope.end // DAY_MS),
    )

    def of(kind: str) -> list[tuple[str, int]]:
        return [(value, n) for held, value, _, n in rows if held == kind]

    exits = tuples(conn, f"SELECT s.exit_url, count(*) FROM sessions s WHERE {where} GROUP BY 1", args)
    regions = [(country, region, n) for held, country, region, n in rows if held == "region"]
    return sources_apart(of("referrer"), of("entry"), exits, regions)


def _period(conn: sqlite3.Connection, scope: Scope, width: int, goals: list[Goal]) -> Period:
    if not scope.rolled_up:
        read = _read(conn, scope, width, goals)
        if read is not None:
            return read
    visitors, converted, by_bucket, reached = _people(conn, scope, width, goals)
    return Period(
        Figures(_sums(conn, scope, width), visitors, converted, by_bucket, width=width),
        _pages(conn, scope), _sources(conn, scope), reached,
    )


# The session columns a scope that no rollup answers is counted by, value by value: its figures'
# breakdowns, then its sources. Regions pair each country with its region.
_COUNTED = (*BREAKDOWNS.values(), "region", "referrer", "entry_url", "exit_url")
_SEP = paths.SEPARATOR


def _read(conn: sqlite3.Connection, scope: Scope, width: int, goals: list[Goal]) -> Period | None:
    """A period that no rollup answers (a filter, bots, part of a day) from one read of its
    sessions, or None when a value holds the separator (then the statements per figure answer).

    One row per day (or hour): SQLite's sums (the same as the rollups', to the last digit) and
    each column the overview counts by value as one text, its values joined by the separator in
    the same order (every aggregate of a statement steps through the same rows). These are split
    and counted by C-level maps: per session that costs less than a GROUP BY's sort per figure or
    a Python object per value and row. Each session's pageview paths come from its row
    (collector/store/sqlite/paths.py) where it lies wholly inside the range and knows them; the
    others' pageviews are read from the events.
    """
    where, args = scope_sql(scope)
    texts = ", ".join(f"group_concat(coalesce(s.{column}, ''), char(31))" for column in _COUNTED)
    rows = tuples(
        conn,
        f"SELECT {_local(scope, width)} / {int(width)} AS bucket, count(*), sum(s.pageviews),"
        f" sum({viewed_sql('s')}), sum({bounced_sql('s')}), sum(s.duration_ms), sum({carted_sql('s')}),"
        f" sum({abandoned_sql('s')}), sum(s.revenue), sum(s.purchases),"
        f" group_concat(s.id, char(31)), group_concat(s.visitor_id, char(31)), group_concat(s.purchases > 0, char(31)),"
        f" {texts}, group_concat(CASE WHEN s.last_ts < ? THEN s.paths END, ''),"
        " group_concat(CASE WHEN s.paths IS NULL OR s.last_ts >= ? THEN s.id END, char(31))"
        f" FROM sessions s WHERE {where} GROUP BY bucket",
        [scope.end, scope.end, *args],
    )
    sums = 1 + len(SUMS)
    ids: list[str] = []
    visitors: list[str] = []
    bought: list[bool] = []
    by_bucket: dict[int, int] = {}
    counted: dict[str, Counter[str]] = {column: Counter() for column in _COUNTED}
    regions: Counter[tuple[str, str]] = Counter()
    page_counts: Counter[str] = Counter()
    unkept: list[str] = []
    for row in rows:
        count, columns = row[1], [_split(text) for text in row[sums:sums + 3 + len(_COUNTED)]]
        if any(len(column) != count for column in columns):
            return None
        ids += columns[0]
        visitors += columns[1]
        bought += map("1".__eq__, columns[2])
        by_bucket[row[0]] = len(set(columns[1]))
        values = dict(zip(_COUNTED, columns[3:], strict=True))
        for column, counts in counted.items():
            counts.update(values[column])
        regions.update(zip(values["country"], values["region"], strict=True))
        page_counts.update(paths.split(row[-2]))
        unkept += _split(row[-1])
    page_counts.update(dict(_unkept_pages(conn, scope, unkept)))
    visitor_count, converted, reached = _reached(conn, scope, goals, ids, visitors, bought)
    breakdowns = {name: _counts(counted[column]) for name, column in BREAKDOWNS.items()}
    found = sources_apart(
        counted["referrer"].items(), counted["entry_url"].items(), counted["exit_url"].items(),
        ((country, region, n) for (country, region), n in regions.items()),
    )
    return Period(
        Figures([row[:sums] for row in rows], visitor_count, converted, by_bucket, width=width, breakdowns=breakdowns),
        pages(page_counts.items()), found, reached,
    )


def _split(text: str | None) -> list[str]:
    """The values of a group_concat joined by the separator (none for no rows)."""
    return [] if text is None else text.split(_SEP)


def _counts(counts: Counter[str]) -> Counter[str]:
    """Sessions by value, an empty value shown as none (as a breakdown row shows it)."""
    if "" in counts:
        counts["(none)"] += counts.pop("")
    return counts


def _unkept_pages(conn: sqlite3.Connection, scope: Scope, ids: list[str]) -> Iterable[tuple[str, int]]:
    """Pageviews by path in the range of the scope's sessions whose row does not say them (`ids`),
    and of the sessions that match the filters and began before the range but were open in it."""
    listed = "SELECT value FROM json_each(?) UNION ALL "
    return _range_pageviews(conn, scope, listed, [json_encoder.encode(ids).decode()], scope.start)


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
