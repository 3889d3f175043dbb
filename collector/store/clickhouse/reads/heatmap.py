"""Heatmaps on ClickHouse, computed from the events at query time: clicks by element and position,
scroll reach, and a recorded snapshot to draw them on.

The SQLite engine keeps day rollups by route for route templates and plain paths and scans the
events otherwise; both readings are kept here (whole UTC days and the route for the first,
the exact range and the URL pattern for the second), so the answers are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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
from collector.store.clickhouse.schema import SCROLL_FIELDS, Layout
from collector.store.clickhouse.transaction import Db
from collector.wire import object_decoder

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


def _page(scope: Scope, by_route: bool, alias: str = "e") -> str:
    """The page of a heatmap over events `alias` (or, with no alias, a scroll report's fields):
    its route, or its pattern."""
    if by_route:
        return f"{ROUTE if alias == 'e' else 'route'} = {lit(scope.url)}"
    return url_match(scope.url, alias)


def _range(layout: Layout, scope: Scope, by_route: bool, alias: str = "e") -> str:
    """The range, device and experiment variant of a heatmap over events (or views) `alias`."""
    lo, hi = scope.days
    where = f"{alias}.day BETWEEN {lo} AND {hi}"
    if not by_route or not scope.whole_utc_days:  # a site's own midnights: the exact range, as SQLite reads it
        where += f" AND {alias}.ts >= {lit(scope.start)} AND {alias}.ts < {lit(scope.end)}"
    if scope.device:
        device = DEVICE if alias == "e" else f"{alias}.device"
        where += f" AND {device} = {lit(scope.device)}"
    for experiment, variant in scope.exposures:  # only the sessions of the variant's visitors
        where += f" AND {exposed_sql(layout, scope.site_id, experiment, variant, f'{alias}.session_id')}"
    return where


def clicks(db: Db, scope: Scope) -> dict[str, Any]:
    """Clicks of the page in the scope: elements ranked by count, each with cells and points."""
    by_route = _by_route(db, scope, "click")
    page = f"{_page(scope, by_route)} AND {_range(db.layout, scope, by_route)}"
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


_REPORT = tuple(name for name, _ in SCROLL_FIELDS)  # the fields of a kept scroll report (views.py)


def views_sql(db: Db, site_id: str, lo: int, hi: int, columns: tuple[str, ...], page: str = "") -> str:
    """One row per pageview of a human with scroll reports, from its latest report: two reports
    are of one pageview when they share session and URL with no pageview of that session between
    them, i.e. the same count of the session's pageviews up to each (a pageview at the very time of
    a report counts as before it). Read from the pageviews and reports each session row keeps
    (views.py), of the sessions with a report in UTC days lo..hi; a view's latest report may fall
    after hi (it is then not in them).

    A view has session_id, url, ts and day, and the `columns` of a report asked for. `page`, over
    a report's path, route and url, keeps the reports of some pages alone: it depends on the URL
    only (path and route come from it), which every report of a view shares."""
    wanted = {"url", "ts", "seq", *columns, *(("path", "route") if page else ())}
    read = [name for name in _REPORT if name in wanted]  # only these subcolumns are read
    reports = f"{', '.join(read)} -> {{}}, {', '.join(f's.scrolls.{name}' for name in read)}"
    # (null URL?, URL, count, ts, seq, *columns[, of the page]): the count third, so that the
    # reports of one view sort together
    fields = ["isNull(url)", "ifNull(url, '')", "arrayCount(t -> t <= ts, viewed)", "ts", "seq", *columns]
    tuples = f"arrayMap({reports.format('tuple(' + ', '.join([*fields, page] if page else fields) + ')')})"
    if page:
        tuples = f"arrayFilter(x -> x.{len(fields) + 1}, {tuples})"
    picked = "".join(f", r.{6 + i} AS {name}" for i, name in enumerate(columns))
    in_range = f"{day_sql('ts')} BETWEEN {lo} AND {hi}" + (f" AND {page}" if page else "")
    # the sessions' test reads only the subcolumns it names: it runs on every session of the site
    # before the others are read for those that pass (5.1M events: 40 -> 15 ms for the days alone)
    tested = [name for name in read if re.search(rf"\b{name}\b", in_range)]
    test = f"arrayExists({', '.join(tested)} -> {in_range}, {', '.join(f's.scrolls.{name}' for name in tested)})"
    # Per session, in arrays: each report of the page with its count of pageviews up to it,
    # sorted (as whole tuples: a lambda key costs more) so that the reports of one view sit
    # together, latest last; the last of each run is the view. (A window over all the sessions'
    # events, then a GROUP BY on session, URL and count, took seconds; grouping the events by
    # session, most of the time these arrays now take.)
    return f"""
        SELECT session_id, if(r.1, NULL, r.2) AS url, r.4 AS ts, {day_sql('r.4')} AS day{picked}
        FROM (
            SELECT s.id AS session_id, s.views.ts AS viewed,
                arraySort({tuples}) AS sorted,
                arrayFilter((x, i) -> i = length(sorted) OR (sorted[i + 1].1, sorted[i + 1].2, sorted[i + 1].3)
                    != (x.1, x.2, x.3), sorted, arrayEnumerate(sorted)) AS latest
            FROM {sessions_in(db.layout)} WHERE s.site_id = {lit(site_id)} AND {human_sql('s')}
                AND {test}
        ) ARRAY JOIN latest AS r"""


def scroll(db: Db, scope: Scope) -> dict[str, Any]:
    """Share of pageviews reaching each depth (0..100 % of the document) and the average fold."""
    lo, hi = scope.days
    by_route = _by_route(db, scope, "scroll")
    columns = ("depth", "vh", *(("device",) if scope.device else ()))
    views = views_sql(db, scope.site_id, lo, hi, columns, _page(scope, by_route, ""))
    rows = db.rows(
        f"SELECT v.depth, count(), sum(coalesce(v.vh, 0)), count(v.vh) FROM ({views}) AS v"
        f" WHERE {_range(db.layout, scope, by_route, 'v')} GROUP BY v.depth"
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
    fields = object_decoder.decode(data)
    return {"session_id": session_id, "ts": int(client_ts), "rx": fields.get("rx"), "ry": fields.get("ry"),
            "x": fields.get("x"), "y": fields.get("y")}
