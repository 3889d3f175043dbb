"""Heatmaps: clicks by element and position, scroll reach, and a recorded snapshot to draw them on.

Route templates and plain paths read the rollups that migration m006_heatmap keeps on write;
a concrete path of a templated route (`/product/42`), a wildcard or a full URL reads the events.
docs/heatmaps.md has the response shapes and the grids.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import msgspec

from collector.query.definitions import DEVICES
from collector.query.heatmap import (
    POINT_PX,
    SNAPSHOT_SESSIONS,
    Scope,
    Tally,
    cell,
    full_snapshot,
    greater,
    scroll_answer,
)
from collector.query.params import DAY_MS
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import device_sql, exposed_sql, human_event_sql, human_sql
from collector.wire import object_decoder

_decode_events = msgspec.json.Decoder(list[Any])


def rollup_filter(scope: Scope, *, clicks: bool = True) -> tuple[str, list[object]]:
    """WHERE over a rollup table: site, route, device(s), days, and for clicks the rage flag."""
    devices = [scope.device] if scope.device else ["", *DEVICES]
    marks = ", ".join("?" for _ in devices)
    sql = f"site_id = ? AND route = ? AND device IN ({marks}) AND day BETWEEN ? AND ?"
    params: list[object] = [scope.site_id, scope.url, *devices, *scope.days]
    if clicks and scope.rage:
        sql += " AND rage = 1"
    return sql, params


def by_route(conn: sqlite3.Connection, scope: Scope, table: str) -> bool:
    """True when the page is a route: a route template, or a path that is its own route (never
    with an experiment filter: the rollups do not know who saw which variant)."""
    if scope.exposures or not scope.url.startswith("/") or "*" in scope.url:
        return False
    found = conn.execute(
        f"SELECT 1 FROM {table} WHERE site_id = ? AND route = ? LIMIT 1", (scope.site_id, scope.url)
    ).fetchone()
    return found is not None or ":" in scope.url


# ---- clicks ----

def clicks(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    """Clicks of the page in the scope: elements ranked by count, each with cells and points."""
    tally = Tally()
    route = by_route(conn, scope, "heatmap_elements")
    if route and scope.whole_utc_days:
        where, params = rollup_filter(scope)
        for sel, n, dead, tag, text in conn.execute(
            f"SELECT sel, sum(n), sum(dead), max(tag), max(text) FROM heatmap_elements"
            f" WHERE {where} GROUP BY sel", params,
        ):
            tally.count[sel] = n
            tally.dead[sel] = dead
            tally.label[sel] = (tag, text)
        for table, target in (("heatmap_cells", tally.cells), ("heatmap_points", tally.points)):
            cx, cy = ("gx", "gy") if table == "heatmap_cells" else ("px", "py")
            for sel, gx, gy, n in conn.execute(
                f"SELECT sel, {cx}, {cy}, sum(n) FROM {table} WHERE {where} GROUP BY sel, {cx}, {cy}",
                params,
            ):
                target[sel][(gx, gy)] = n
    else:
        for name, data in _scan(conn, scope, "click", route):
            fields = object_decoder.decode(data)
            if scope.rage and not fields.get("rage"):
                continue
            sel = name or ""
            tally.count[sel] += 1
            tally.dead[sel] += bool(fields.get("dead"))
            tally.label[sel] = greater(tally.label.get(sel), (fields.get("tag"), fields.get("text")))
            rx, ry = fields.get("rx"), fields.get("ry")
            if rx is not None and ry is not None:
                tally.cells[sel][(cell(rx), cell(ry))] += 1
            x, y = fields.get("x"), fields.get("y")
            if x is not None and y is not None:
                tally.points[sel][(max(0, int(x)) // POINT_PX, max(0, int(y)) // POINT_PX)] += 1
    return tally.answer(scope)


def _scan(conn: sqlite3.Connection, scope: Scope, kind: str, route: bool) -> Iterator[tuple[str | None, bytes]]:
    """(name, data) of the scope's events of one type, humans only, straight from `events`: of the
    route (as the rollups count it) or of the pages the URL pattern matches."""
    match, params = _page(scope, "coalesce(e.route, e.path)", route, "e")
    device = "" if not scope.device else (
        " AND " + device_sql("json_extract(e.data, '$.vw')") + " = ?"
    )
    sql = (
        f"SELECT e.name, e.data FROM events e WHERE e.site_id = ? AND e.type = ? AND {match}"
        f" AND e.ts >= ? AND e.ts < ? AND {human_event_sql('e')}{device}"
    )
    args: list[object] = [scope.site_id, kind, *params, scope.start, scope.end]
    if scope.device:
        args.append(scope.device)
    exposed, exposed_args = _exposed(scope, "e.session_id")
    for name, data in conn.execute(sql + exposed, args + exposed_args):
        yield name, data.encode() if isinstance(data, str) else data


def _page(scope: Scope, route_column: str, route: bool, alias: str) -> tuple[str, list[object]]:
    """The page of a heatmap read from rows `alias`: its route (as the rollups count it), or the
    pages its URL pattern matches."""
    if route:
        return f"{route_column} = ?", [scope.url]
    return url_match(scope.url, alias)


def _exposed(scope: Scope, column: str) -> tuple[str, list[object]]:
    """" AND ..." keeping the events of sessions in the scope's experiment variants."""
    sql, args = "", []
    for experiment, variant in scope.exposures:
        clause, clause_args = exposed_sql(experiment, variant, scope.site_id, column)
        sql += f" AND {clause}"
        args += clause_args
    return sql, args


# ---- scroll ----

def scroll(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    """Share of pageviews reaching each depth (0..100 % of the document) and the average fold."""
    route = by_route(conn, scope, "heatmap_scroll")
    if route and scope.whole_utc_days:
        where, params = rollup_filter(scope, clicks=False)
        rows = conn.execute(
            f"SELECT depth, sum(n), sum(vh_sum), sum(vh_n) FROM heatmap_scroll WHERE {where}"
            " GROUP BY depth", params,
        )
    else:
        match, params = _page(scope, "v.route", route, "v")
        device = " AND v.device = ?" if scope.device else ""
        exposed, exposed_args = _exposed(scope, "v.session_id")
        rows = conn.execute(
            f"SELECT v.depth, count(*), coalesce(sum(v.vh), 0), count(v.vh) FROM heatmap_scroll_views v"
            f" WHERE v.site_id = ? AND {match} AND v.ts >= ? AND v.ts < ?{device}{exposed} GROUP BY v.depth",
            [scope.site_id, *params, scope.start, scope.end, *([scope.device] if scope.device else []), *exposed_args],
        )
    return scroll_answer(scope, rows)


# ---- pages and snapshots ----

def pages(conn: sqlite3.Connection, site_id: str, start: int, end: int, limit: int = 50) -> list[dict[str, Any]]:
    """Routes with clicks or scroll reports in the range, most clicked first."""
    lo, hi = start // DAY_MS, max(start, end - 1) // DAY_MS
    rows = conn.execute(
        """
        SELECT route, sum(clicks), sum(views) FROM (
            SELECT route, n AS clicks, 0 AS views FROM heatmap_elements
                WHERE site_id = ? AND day BETWEEN ? AND ?
            UNION ALL
            SELECT route, 0, n FROM heatmap_scroll WHERE site_id = ? AND day BETWEEN ? AND ?)
        GROUP BY route HAVING sum(clicks) > 0 OR sum(views) > 0
        ORDER BY sum(clicks) DESC, sum(views) DESC, route LIMIT ?
        """,
        (site_id, lo, hi, site_id, lo, hi, limit),
    )
    return [{"route": r, "clicks": c, "scroll_views": v} for r, c, v in rows]


def snapshot(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any] | None:
    """The newest recorded full snapshot (rrweb type 2) of the page in the device bucket, with its meta."""
    match, params = url_match(scope.url, "e")
    candidates = conn.execute(
        f"""
        SELECT e.session_id, e.path FROM events e JOIN sessions s
            ON s.site_id = e.site_id AND s.id = e.session_id AND s.has_replay = 1
        WHERE e.site_id = ? AND e.type = 'pageview' AND {match} AND e.ts >= ? AND e.ts < ?
        ORDER BY e.ts DESC LIMIT ?
        """,
        [scope.site_id, *params, scope.start, scope.end, SNAPSHOT_SESSIONS * 4],
    ).fetchall()
    tried: set[str] = set()
    for session_id, path in candidates:
        if session_id in tried:
            continue
        tried.add(session_id)
        found = _full_snapshot(conn, scope, session_id, path)
        if found is not None:
            return found
        if len(tried) >= SNAPSHOT_SESSIONS:
            break
    return None


def click_moment(conn: sqlite3.Connection, scope: Scope, sel: str) -> dict[str, Any] | None:
    """The newest human click on `sel` in the scope from a recorded session: where to rebuild the
    page as it stood when that element was clicked (an element that appeared after load). `ts` is
    the browser's clock, the clock of the recording's own timestamps."""
    match, params = url_match(scope.url, "e")
    device = "" if not scope.device else " AND " + device_sql("json_extract(e.data, '$.vw')") + " = ?"
    rage = " AND json_extract(e.data, '$.rage') = 1" if scope.rage else ""
    row = conn.execute(
        f"""
        SELECT e.session_id, e.client_ts, e.data FROM events e JOIN sessions s
            ON s.site_id = e.site_id AND s.id = e.session_id AND s.has_replay = 1 AND {human_sql('s')}
        WHERE e.site_id = ? AND e.type = 'click' AND e.name = ? AND {match}
            AND e.ts >= ? AND e.ts < ?{device}{rage}
        ORDER BY e.ts DESC LIMIT 1
        """,
        [scope.site_id, sel, *params, scope.start, scope.end, *([scope.device] if scope.device else [])],
    ).fetchone()
    if row is None:
        return None
    fields = object_decoder.decode(row[2].encode() if isinstance(row[2], str) else row[2])
    return {"session_id": row[0], "ts": row[1], "rx": fields.get("rx"), "ry": fields.get("ry"),
            "x": fields.get("x"), "y": fields.get("y")}


def _full_snapshot(
    conn: sqlite3.Connection, scope: Scope, session_id: str, path: str | None
) -> dict[str, Any] | None:
    chunks = conn.execute(
        "SELECT data FROM replay_chunks WHERE site_id = ? AND session_id = ? ORDER BY seq",
        (scope.site_id, session_id),
    )
    return full_snapshot((bytes(data) for (data,) in chunks), scope, session_id, path)
