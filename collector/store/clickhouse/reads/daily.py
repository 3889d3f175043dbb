"""The analyst's daily tools on ClickHouse: filter suggestions, custom events, Web Vitals, JS
errors and the live view, each answering as the SQLite engine's reads (suggest.py, events.py,
vitals.py, live.py) do."""

from __future__ import annotations

from collections import Counter
from typing import Any

from collector.query import breakdowns
from collector.query import vitals as vitals_report
from collector.query.definitions import day_of
from collector.query.scope import NONE, Scope
from collector.query.vitals import METRICS, THRESHOLDS
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import (
    human_sql,
    json_text,
    like_literal,
    scope_sql,
    sessions_in,
    since_sql,
)
from collector.store.clickhouse.schema import FREQUENT_TYPES
from collector.store.clickhouse.transaction import Db
from collector.store.sqlite.reads.events import TOP
from collector.store.sqlite.reads.live import ACTIVE_MIN, LATEST, MINUTE_MS, WINDOW_MIN
from collector.store.sqlite.reads.suggest import FIELDS
from collector.store.sqlite.reads.vitals import SAMPLE_SESSIONS, TOP_ERRORS
from collector.wire import EVENT_TYPES

_COLUMNS = {
    "country": "s.country", "region": "s.region", "device": "s.device", "browser": "s.browser",
    "os": "s.os", "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
}
_FOLDED = {"entry": ("s.entry_url", breakdowns.page), "exit": ("s.exit_url", breakdowns.page),
           "referrer": ("s.referrer", breakdowns.host)}
assert set(FIELDS) == {*_COLUMNS, "page", *_FOLDED}  # the same fields as the SQLite engine


def events_in(db: Db, scope: Scope, event_type: str) -> str:
    """`FROM ... WHERE ...` over the events `e` of one type in the scope's sessions `s`."""
    events = (f"e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)} AND e.type = {lit(event_type)}"
              f" AND e.ts >= {lit(scope.start)}")
    # Of a rarer type, only the sessions that hold such events go into the join's table: errors
    # are in a few sessions of thousands, and the table of them all cost more than the events'
    # whole read. Pageviews and vitals are in nearly every session: nothing to leave out.
    holding = ""
    if event_type not in FREQUENT_TYPES:
        holding = f" AND s.id IN (SELECT e.session_id FROM {db.t('events')} AS e WHERE {events})"
    return (
        f"FROM {db.t('events')} AS e INNER JOIN (SELECT s.id, s.visitor_id, s.device, s.country, s.has_replay"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}{holding}) AS s ON e.session_id = s.id"
        f" WHERE {events}"
    )


def _like(contains: str) -> str:
    # SQLite's LIKE ignores the case of ASCII letters
    return lit("%" + like_literal(contains) + "%")


def suggest(db: Db, scope: Scope, field: str, contains: str, limit: int) -> list[tuple[str, int]]:
    """(value, sessions) pairs whose value contains `contains` (case-insensitive)."""
    if field in _COLUMNS:
        column = _COLUMNS[field]
        rows = db.rows(
            f"SELECT {column} AS v, count() FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}"
            f" AND v ILIKE {_like(contains)} GROUP BY v ORDER BY 2 DESC, 1 LIMIT {int(limit)}"
        )
        return [(value, int(n)) for value, n in rows]
    if field == "page":  # each session's distinct paths, from the pageviews its row keeps (views.py)
        rows = db.rows(
            f"SELECT v, count() FROM {sessions_in(db.layout)} ARRAY JOIN arrayDistinct(arrayFilter("
            f"path -> isNotNull(path) AND path ILIKE {_like(contains)}, s.views.path)) AS v"
            f" WHERE {scope_sql(db.layout, scope)} GROUP BY v ORDER BY 2 DESC, 1 LIMIT {int(limit)}"
        )
        return [(value, int(n)) for value, n in rows]
    column, fold = _FOLDED[field]
    counts: Counter[str] = breakdowns.fold(
        ((value, int(n)) for value, n in db.rows(
            f"SELECT {column}, count() FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)} GROUP BY 1"
        )),
        fold,
    )
    wanted = contains.lower()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(value, n) for value, n in ranked if wanted in value.lower() and value != NONE][:limit]


def custom_events(db: Db, scope: Scope, name: str | None) -> dict[str, Any]:
    """Each custom event name with its count and distinct visitors; with `name`, that event's
    property values too."""
    tracked = events_in(db, scope, "track")
    rows = db.rows(
        f"SELECT e.name, count(), uniqExact(s.visitor_id) {tracked}"
        f" GROUP BY e.name ORDER BY 2 DESC, 1 NULLS FIRST LIMIT {TOP}"
    )
    result: dict[str, Any] = {
        "events": [{"name": n, "count": int(count), "visitors": int(visitors)} for n, count, visitors in rows],
    }
    if name is not None:
        # each property of the matching events, its value as SQLite's json_each gives it as text
        value = json_text("concat('{\"v\":', p.2, '}')", "v")
        props = db.rows(
            f"SELECT p.1 AS key, {value} AS value, count(), uniqExact(visitor) FROM"
            " (SELECT arrayJoin(JSONExtractKeysAndValuesRaw(e.m_data, 'props')) AS p, s.visitor_id AS visitor"
            f" {tracked} AND e.name = {lit(name)})"
            f" GROUP BY key, value ORDER BY key, 3 DESC, value NULLS FIRST LIMIT {TOP * 10}"
        )
        result["name"] = name
        result["properties"] = [
            {"key": key, "value": value, "count": int(count), "visitors": int(visitors)}
            for key, value, count, visitors in props
        ]
    return result


def vitals(db: Db, scope: Scope) -> dict[str, Any]:
    """The vitals report (query/vitals.py), each metric's tally counted in SQL overall, by page and
    by device: the values' count, nearest-rank p75 and good and poor counts come back, not the
    values (a vital is in nearly every pageview)."""
    names = ", ".join(lit(m) for m in METRICS)
    good, poor = (f"transform(e.name, [{names}], [{', '.join(repr(float(THRESHOLDS[m][i])) for m in METRICS)}], 0.)"
                  for i in (0, 1))  # each metric's bounds, as query/vitals.py rates a value
    value = "assumeNotNull(e.m_value)"  # the value as a number (schema.MATERIALIZED)
    overall: dict[str, vitals_report.Tally] = {}
    groups: tuple[vitals_report.Tallies, vitals_report.Tallies] = ({}, {})
    for by_page, by_device, metric, page, device, n, p75, good_n, poor_n in db.rows(
        f"SELECT grouping(page), grouping(device), e.name AS metric, coalesce(e.path, '') AS page,"
        f" coalesce(s.device, '') AS device, count(),"
        f" arraySort(groupArray({value}))[toUInt64(ceil(0.75 * count()))],"  # nearest rank
        f" countIf({value} <= {good}), countIf({value} > {poor}) {events_in(db, scope, 'vital')}"
        f" AND e.m_value IS NOT NULL AND e.name IN ({names})"
        " GROUP BY GROUPING SETS ((metric), (metric, page), (metric, device))"
        " SETTINGS force_grouping_standard_compatibility = 1"  # grouping() is 1 where the column is not a key
    ):
        counted = vitals_report.Tally(int(n), float(p75), int(good_n), int(poor_n))
        if by_page and by_device:
            overall[metric] = counted
        else:
            table, name = (groups[0], page) if not by_page else (groups[1], device)
            table.setdefault(name or "(none)", {})[metric] = counted
    return vitals_report.report_of(overall, *groups)


def errors(db: Db, scope: Scope) -> list[dict[str, Any]]:
    """JS errors grouped by message and source: counts, affected sessions and a few of them
    (those with a replay first)."""
    raised = events_in(db, scope, "error")
    source = f"coalesce({json_text('e.m_data', 'source')}, '')"
    groups = db.rows(
        f"SELECT coalesce(e.name, '') AS message, {source} AS src, count(), uniqExact(e.session_id),"
        f" uniqExact(s.visitor_id), min(e.ts), max(e.ts)"
        f" {raised} GROUP BY message, src ORDER BY 3 DESC, message, src LIMIT {TOP_ERRORS}"
    )
    found = {
        (message, src): {
            "message": message, "source": src, "count": int(count), "sessions": int(sessions),
            "visitors": int(visitors), "first_seen": int(first), "last_seen": int(last), "examples": [],
        }
        for message, src, count, sessions, visitors, first, last in groups
    }
    if found:
        examples = db.rows(
            f"SELECT coalesce(e.name, '') AS message, {source} AS src, e.session_id, s.has_replay, max(e.ts) AS at"
            f" {raised} GROUP BY message, src, e.session_id, s.has_replay"
            " ORDER BY s.has_replay DESC, at DESC, e.session_id"
        )
        for message, src, session_id, has_replay, at in examples:
            group = found.get((message, src))
            if group is not None and len(group["examples"]) < SAMPLE_SESSIONS:
                group["examples"].append({"session_id": session_id, "replay": bool(has_replay), "ts": int(at)})
    return list(found.values())


def live(db: Db, site_id: str, now: int) -> dict[str, Any]:
    """Visitors of the last 5 and 30 minutes, the pages the active ones are on, visitors per
    minute and the latest events (humans only)."""
    since, active = now - WINDOW_MIN * MINUTE_MS, now - ACTIVE_MIN * MINUTE_MS
    # A client clock a little ahead still counts as now.
    events = (f"e.site_id = {lit(site_id)} AND e.day >= {day_of(since)} AND e.type IN {lits(EVENT_TYPES)}"
              f" AND e.ts >= {lit(since)} AND e.ts < {lit(now + MINUTE_MS)}")
    recent = (
        f"FROM {db.t('events')} AS e INNER JOIN (SELECT s.id, s.visitor_id, s.country, s.device"
        f" FROM {sessions_in(db.layout)} WHERE s.site_id = {lit(site_id)} AND {human_sql('s')}) AS s"
        f" ON e.session_id = s.id WHERE {events}"
    )
    ((visitors_active, visitors_window),) = db.rows(
        f"SELECT uniqExactIf(s.visitor_id, e.ts >= {lit(active)}), uniqExact(s.visitor_id) {recent}"
    )
    # Each active visitor's latest pageview.
    pages = db.rows(
        "SELECT path, count() FROM (SELECT s.visitor_id, argMax(coalesce(e.path, ''), (e.ts, e.seq)) AS path"
        f" {recent} AND e.ts >= {lit(active)} AND e.type = 'pageview' GROUP BY s.visitor_id)"
        " GROUP BY path ORDER BY 2 DESC, 1 LIMIT 20"
    )
    minutes = {
        int(m): int(n) for m, n in db.rows(
            f"SELECT least({WINDOW_MIN - 1}, intDiv(e.ts - {lit(since)}, {MINUTE_MS})) AS m,"
            f" uniqExact(s.visitor_id) {recent} GROUP BY m"
        )
    }
    latest = db.rows(
        "SELECT e.ts, e.type, e.name, e.path, e.session_id, s.visitor_id, s.country, s.device"
        f" {recent} ORDER BY e.ts DESC, e.seq DESC LIMIT {LATEST}"
    )
    return {
        "now": now,
        "visitors_5m": int(visitors_active),
        "visitors_30m": int(visitors_window),
        "pages": [{"path": path, "visitors": int(n)} for path, n in pages],
        # distinct visitors per minute, oldest first; a clock ahead of ours counts in the last minute
        "minutes": [minutes.get(m, 0) for m in range(WINDOW_MIN)],
        "events": [
            {"ts": int(ts), "type": kind, "name": name, "path": path, "session_id": session_id,
             "visitor_id": visitor, "country": country, "device": device}
            for ts, kind, name, path, session_id, visitor, country, device in latest
        ],
    }
