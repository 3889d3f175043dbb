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
DEVICE = device_sql("JSONExtract(e.data, 'vw', 'Nullable(Float64)')")
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
        where = (f"{url_match(scope.url, alias)} AND {alias}.ts >= {lit(scope.start)}"
                 f" AND {alias}.ts < {lit(scope.end)}")
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
        where += " AND JSONExtractBool(e.data, 'rage')"
    sel = "coalesce(e.name, '')"
    tally = Tally()
    for name, n, dead, tag, text in db.rows(
        f"SELECT {sel} AS sel, count(), sum(JSONExtractBool(e.data, 'dead')),"
        " max(JSONExtract(e.data, 'tag', 'Nullable(String)')), max(JSONExtract(e.data, 'text', 'Nullable(String)'))"
        f" FROM {db.t('events')} AS e WHERE {where} GROUP BY sel"
    ):
        tally.count[name] = int(n)
        tally.dead[name] = int(dead)
        tally.label[name] = (tag, text)

    def grid(field: str, scale: str) -> str:
        value = f"JSONExtract(e.data, '{field}', 'Nullable(Float64)')"
        return f"if({value} IS NULL, -1, {scale.format(value)})"

    in_box = "least(15, greatest(0, toInt64({} * 16)))"  # a 16 x 16 grid over the element
    on_page = "greatest(0, intDiv(toInt64({}), 32))"  # 32 px cells over the page
    cells = (grid("rx", in_box), grid("ry", in_box))
    points = (grid("x", on_page), grid("y", on_page))
    for (x, y), target in ((cells, tally.cells), (points, tally.points)):
        for name, gx, gy, n in db.rows(
            f"SELECT {sel} AS sel, {x} AS gx, {y} AS gy, count() FROM {db.t('events')} AS e WHERE {where}"
            " GROUP BY sel, gx, gy"
        ):
            target[name][(int(gx), int(gy))] = int(n)
    return tally.answer(scope)


def views_sql(db: Db, site_id: str, lo: int, hi: int) -> str:
    """One row per pageview of a human with scroll reports, from its latest report: two reports
    are of one pageview when they share session and URL with no pageview of that session between
    them, i.e. the same count of the session's pageviews up to each. Sessions limited to those
    with a report in UTC days lo..hi."""
    site = lit(site_id)
    return f"""
        SELECT session_id, url, last.1 AS ts, {day_sql('last.1')} AS day, coalesce(last.2, '') AS path,
            coalesce(last.3, last.2, '') AS route, last.4 AS device, coalesce(last.5, 0) AS depth, last.6 AS vh
        FROM (
            SELECT session_id, url, k,
                argMax((e.ts, e.path, e.route, {DEVICE}, JSONExtract(e.data, 'depth', 'Nullable(Float64)'),
                        JSONExtract(e.data, 'vh', 'Nullable(Int64)')), (e.ts, e.seq)) AS last
            FROM (
                SELECT e.*, sum(e.type = 'pageview') OVER (PARTITION BY e.session_id ORDER BY e.ts, e.type = 'scroll'
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS k
                FROM {db.t('events')} AS e
                WHERE e.site_id = {site} AND e.type IN ('pageview', 'scroll') AND {human_event_sql(db.layout, site_id)}
                    AND e.session_id IN (SELECT session_id FROM {db.t('events')} WHERE site_id = {site}
                        AND type = 'scroll' AND day BETWEEN {lo} AND {hi})
            ) AS e
            WHERE e.type = 'scroll' GROUP BY session_id, url, k
        )"""


def scroll(db: Db, scope: Scope) -> dict[str, Any]:
    """Share of pageviews reaching each depth (0..100 % of the document) and the average fold."""
    lo, hi = scope.days
    where = _page_filter(db.layout, scope, _by_route(db, scope, "scroll"), "v")
    rows = db.rows(
        f"SELECT v.depth, count(), sum(coalesce(v.vh, 0)), count(v.vh)"
        f" FROM ({views_sql(db, scope.site_id, lo, hi)}) AS v WHERE {where} GROUP BY v.depth"
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
            SELECT route, 0, count() FROM ({views_sql(db, site_id, lo, hi)}) WHERE day BETWEEN {lo} AND {hi}
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
    rage = " AND JSONExtractBool(e.data, 'rage')" if scope.rage else ""
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
