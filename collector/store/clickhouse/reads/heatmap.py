"""Heatmaps on ClickHouse, computed from the events at query time: clicks by element and position,
scroll reach, and a recorded snapshot to draw them on.

The SQLite engine keeps day rollups by route for route templates and plain paths and scans the
events otherwise; both readings are kept here (whole UTC days and the route for the first,
the exact range and the URL pattern for the second), so the answers are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from collector.query.definitions import day_of
from collector.query.heatmap import SNAPSHOT_SESSIONS, Scope, Tally, full_snapshot, scroll_answer
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import (
    day_sql,
    device_sql,
    exposed_sql,
    human_event_sql,
    human_sql,
    sessions_in,
    url_match,
)
from collector.store.clickhouse.schema import Layout
from collector.store.clickhouse.transaction import Db

_decode_fields = msgspec.json.Decoder(dict[str, Any])
# The JSON fields a heatmap reads are columns of their own (schema.MATERIALIZED).
DEVICE = device_sql("e.m_vw")
ROUTE = "coalesce(e.route, e.path, '')"


def _by_route(db: Db, scope: Scope, kind: str) -> bool:
    """Whether the SQLite engine's rollups answer this page: a route template, or a path that is a
    route (never with an experiment filter: the rollups do not know who saw which variant)."""
    if scope.exposures or not scope.url.startswith("/") or "*" in scope.url:
        return False
    return ":" in scope.url or bool(db.rows(
        f"SELECT 1 FROM {db.t('events')} AS e WHERE e.site_id = {lit(scope.site_id)} AND e.type = {lit(kind)}"
        f" AND {ROUTE} = {lit(scope.url)} LIMIT 1"
    ))


def _page_filter(layout: Layout, scope: Scope, by_route: bool, alias: str = "e") -> str:
    """The page, range and device of a heatmap over events (or views) `alias`."""
    lo, hi = scope.days
    if by_route:
        route = ROUTE if alias == "e" else f"{alias}.route"
        where = f"{route} = {lit(scope.url)} AND {alias}.day BETWEEN {lo} AND {hi}"
        if not scope.whole_utc_days:  # a site's own midnights: the exact range, as SQLite reads it
            where += f" AND {alias}.ts >= {lit(scope.start)} AND {alias}.ts < {lit(scope.end)}"
    else:
        where = (f"{url_match(scope.url, alias)} AND {alias}.day BETWEEN {lo} AND {hi}"
                 f" AND {alias}.ts >= {lit(scope.start)} AND {alias}.ts < {lit(scope.end)}")
    if scope.device:
        device = DEVICE if alias == "e" else f"{alias}.device"
        where += f" AND {device} = {lit(scope.device)}"
    for experiment, variant in scope.exposures:  # only the sessions of the variant's visitors
        where += f" AND {exposed_sql(layout, scope.site_id, experiment, variant, f'{alias}.session_id')}"
    return where


def clicks(db: Db, scope: Scope) -> dict[str, Any]:
    """Clicks of the page in the scope: elements ranked by count, each with cells and points."""
    page = _page_filter(db.layout, scope, _by_route(db, scope, "click"))
    humans = human_event_sql(db.layout, scope.site_id)
    where = f"e.site_id = {lit(scope.site_id)} AND e.type = 'click' AND {page} AND {humans}"
    if scope.rage:
        where += " AND e.m_rage = 1"
    sel = "coalesce(e.name, '')"

    def grid(field: str, scale: str) -> str:
        value = f"e.m_{field}"
        return f"if({value} IS NULL, -1, {scale.format(value)})"

    in_box = "least(15, greatest(0, toInt64({} * 16)))"  # a 16 x 16 grid over the element
    on_page = "greatest(0, intDiv(toInt64({}), 32))"  # 32 px cells over the page
    # One pass over the clicks: each counted three times over, by element (0), by its cell in the
    # element's box (1) and by its cell on the page (2).
    tally = Tally()
    targets = {1: tally.cells, 2: tally.points}
    for name, kind, gx, gy, n, dead, tag, text in db.rows(
        f"SELECT {sel} AS sel, g.1, g.2, g.3, count(), sum(e.m_dead), max(e.m_tag), max(e.m_text)"
        f" FROM {db.t('events')} AS e ARRAY JOIN [(0, toInt64(0), toInt64(0)),"
        f" (1, {grid('rx', in_box)}, {grid('ry', in_box)}), (2, {grid('x', on_page)}, {grid('y', on_page)})] AS g"
        f" WHERE {where} GROUP BY sel, g.1, g.2, g.3"
    ):
        if kind == 0:
            tally.count[name] = int(n)
            tally.dead[name] = int(dead)
            tally.label[name] = (tag, text)
        else:
            targets[kind][name][(int(gx), int(gy))] = int(n)
    return tally.answer(scope)


def _report(alias: str = "e") -> str:
    """A scroll report as a view would read if it were the view's latest (views_sql's columns)."""
    a = alias
    return (f"{a}.session_id AS session_id, {a}.url AS url, {a}.ts AS ts, {day_sql(f'{a}.ts')} AS day,"
            f" coalesce({a}.path, '') AS path, coalesce({a}.route, {a}.path, '') AS route,"
            f" {device_sql(f'{a}.m_vw')} AS device, coalesce({a}.m_depth, 0) AS depth, {a}.m_vh AS vh")


def views_sql(db: Db, site_id: str, lo: int, hi: int, columns: tuple[str, ...], where: str = "") -> str:
    """One row per pageview of a human with scroll reports, from its latest report: two reports
    are of one pageview when they share session and URL with no pageview of that session between
    them, i.e. the same count of the session's pageviews up to each (a pageview at the very time
    of a report counts as before it). Sessions limited to those with a report in UTC days lo..hi.
    Given `where` over a report `v` (views_sql's columns), each view has `passes`: whether its
    latest report passes it, and only sessions with a report in lo..hi that passes are read.

    Only events from day lo on are read: a view counted in lo..hi has its latest report there, and
    the pageviews before day lo add the same number to the count of every report read, so the
    reports of one view still share a count. Later days are read, since a view's latest report
    may fall after hi (then it is not in the range).

    Besides session_id, url, ts and day a view has only the `columns` of _report asked for."""
    events = db.t("events")
    if where:
        columns = (*columns, "passes")
    # Each column carried costs, strings most: a report is (null URL?, URL, ts, seq, *columns),
    # and once the count is put in third place the columns are from the sixth on.
    carried = "".join(f", v.{name}" for name in columns)
    picked = "".join(f", r.{6 + i} AS {name}" for i, name in enumerate(columns))
    rest = "".join(f", x.{5 + i}" for i in range(len(columns)))
    # Per session, in arrays: each report with its count of pageviews up to it, sorted (as whole
    # tuples: a lambda key costs more) so that the reports of one view sit together, latest last;
    # the last of each run is the view. (A window over all the sessions' events, then a GROUP BY on
    # session, URL and count, took seconds.) A session none of whose reports in lo..hi passes
    # `where` has no view that does, as a view's latest report is one of its session's: judged
    # while grouping (a second read of the reports, into a set of sessions to look each event up
    # in, cost more than it saved).
    return f"""
        SELECT session_id, if(r.1, NULL, r.2) AS url, r.4 AS ts, {day_sql('r.4')} AS day{picked}
        FROM (
            SELECT session_id, arraySort(arrayMap(x -> tuple(x.1, x.2, arrayCount(t -> t <= x.3, views), x.3,
                x.4{rest}), reports)) AS s,
                arrayFilter((x, i) -> i = length(s) OR (s[i + 1].1, s[i + 1].2, s[i + 1].3) != (x.1, x.2, x.3),
                    s, arrayEnumerate(s)) AS latest
            FROM (
                SELECT v.session_id AS session_id, groupArrayIf(v.ts, v.type = 'pageview') AS views,
                    groupArrayIf((isNull(v.url), ifNull(v.url, ''), v.ts, v.seq{carried}), v.type = 'scroll') AS reports
                FROM (
                    SELECT *{f", {where} AS passes" if where else ""} FROM (
                        SELECT {_report()}, e.type AS type, e.seq AS seq FROM {events} AS e
                        WHERE e.site_id = {lit(site_id)} AND e.day >= {lo} AND e.type IN ('pageview', 'scroll')
                            AND {human_event_sql(db.layout, site_id)}
                    ) AS v
                ) AS v
                GROUP BY v.session_id
                HAVING countIf(v.type = 'scroll' AND v.day BETWEEN {lo} AND {hi}{" AND v.passes" if where else ""}) > 0
            )
        ) ARRAY JOIN latest AS r"""


def scroll(db: Db, scope: Scope) -> dict[str, Any]:
    """Share of pageviews reaching each depth (0..100 % of the document) and the average fold."""
    lo, hi = scope.days
    where = _page_filter(db.layout, scope, _by_route(db, scope, "scroll"), "v")
    views = views_sql(db, scope.site_id, lo, hi, ("depth", "vh"), where)
    rows = db.rows(
        f"SELECT v.depth, count(), sum(coalesce(v.vh, 0)), count(v.vh) FROM ({views}) AS v"
        " WHERE v.passes GROUP BY v.depth"
    )
    return scroll_answer(scope, ((float(d), int(n), int(vh), int(vn)) for d, n, vh, vn in rows))


def pages(db: Db, site_id: str, start: int, end: int, limit: int = 50) -> list[dict[str, Any]]:
    """Routes with clicks or scroll reports in the range, most clicked first."""
    lo, hi = day_of(start), day_of(max(start, end - 1))
    rows = db.rows(
        f"""
        SELECT route, sum(clicks) AS c, sum(views) AS v FROM (
            SELECT {ROUTE} AS route, count() AS clicks, 0 AS views FROM {db.t('events')} AS e
                WHERE e.site_id = {lit(site_id)} AND e.type = 'click' AND e.day BETWEEN {lo} AND {hi}
                AND {human_event_sql(db.layout, site_id)} GROUP BY route
            UNION ALL
            SELECT route, 0, count() FROM ({views_sql(db, site_id, lo, hi, ("route",))})
                WHERE day BETWEEN {lo} AND {hi}
                GROUP BY route)
        GROUP BY route HAVING c > 0 OR v > 0 ORDER BY c DESC, v DESC, route LIMIT {int(limit)}
        """
    )
    return [{"route": r, "clicks": int(c), "scroll_views": int(v)} for r, c, v in rows]


def snapshot(db: Db, scope: Scope, chunks: Any) -> dict[str, Any] | None:
    """The newest recorded full snapshot (rrweb type 2) of the page in the device bucket, with its meta."""
    candidates = db.rows(
        f"SELECT e.session_id, e.path FROM {db.t('events')} AS e"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.type = 'pageview' AND {url_match(scope.url, 'e')}"
        f" AND e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)}"
        f" AND e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)}"
        f" WHERE s.site_id = {lit(scope.site_id)} AND s.has_replay = 1)"
        f" ORDER BY e.ts DESC, e.seq DESC LIMIT {SNAPSHOT_SESSIONS * 4}"
    )
    tried: set[str] = set()
    for session_id, path in candidates:
        if session_id in tried:
            continue
        tried.add(session_id)
        stored: Iterator[bytes] = chunks(scope.site_id, session_id)
        found = full_snapshot(stored, scope, session_id, path)
        if found is not None:
            return found
        if len(tried) >= SNAPSHOT_SESSIONS:
            break
    return None


def click_moment(db: Db, scope: Scope, sel: str) -> dict[str, Any] | None:
    """The newest human click on `sel` in the scope from a recorded session: where to rebuild the
    page as it stood when that element was clicked. `ts` is the browser's clock, the clock of the
    recording's own timestamps."""
    device = f" AND {DEVICE} = {lit(scope.device)}" if scope.device else ""
    rage = " AND e.m_rage = 1" if scope.rage else ""
    rows = db.rows(
        f"SELECT e.session_id, e.client_ts, e.data FROM {db.t('events')} AS e"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.type = 'click' AND e.name = {lit(sel)}"
        f" AND {url_match(scope.url, 'e')} AND e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)}{device}{rage}"
        f" AND e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE s.site_id = {lit(scope.site_id)}"
        f" AND s.has_replay = 1 AND {human_sql('s')})"
        " ORDER BY e.ts DESC, e.seq DESC LIMIT 1"
    )
    if not rows:
        return None
    session_id, client_ts, data = rows[0]
    fields = _decode_fields.decode(data)
    return {"session_id": session_id, "ts": int(client_ts), "rx": fields.get("rx"), "ry": fields.get("ry"),
            "x": fields.get("x"), "y": fields.get("y")}
