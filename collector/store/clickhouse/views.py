"""What each ClickHouse session row keeps of its events for the questions that walk a session:
its pageviews (`sessions.views`, for the paths) and its scroll reports (`sessions.scrolls`, for
the scroll heatmap and the heatmap page list).

Those questions group each session's events. Grouping them by session at query time was most of
their time on 5.1M events; the writer knows every session's row anyway (it writes it whole with
each group), so the row carries them. The pageviews are in the order the paths walk them: time,
then no path before a path, the path, then arrival (`seq`); the scroll reports are as the
heatmaps read them (reads/heatmap.py), in any order. A session's row and what it keeps are one
insert, so they are all or nothing together (transaction.py).

Rows written another way are packed again from their events (`repack`): every session of a store
made before these columns (on opening, once: the `meta` key KEPT), the sessions a copy brought in,
those a purge or an erasure took events from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.query.definitions import device_bucket
from collector.store.clickhouse.client import Connection
from collector.store.clickhouse.reads.scope import device_sql
from collector.store.clickhouse.schema import SCROLL_FIELDS, SESSION_NAMES, VIEW_FIELDS, Layout, once
from collector.store.model import EventRow
from collector.wire import object_decoder

# (ts, seq, path, route) of each pageview, in the walk's order.
View = tuple[int, int, str | None, str | None]
# (URL, ts, seq, path or '', route, device, depth, viewport height) of each scroll report: the
# columns reads/heatmap.py reads, as the events' own (schema.MATERIALIZED) give them.
Scroll = tuple[str | None, int, int, str, str, str, float, int | None]
KEPT = "session_views_and_scrolls_kept"
_ORDER = "v -> (v.1, isNotNull(v.3), ifNull(v.3, ''), v.2)"
# Each kept field as read from an event's stored columns (schema.MATERIALIZED), in the kept order.
_VIEW_SQL = f"({', '.join(name for name, _ in VIEW_FIELDS)})"
_SCROLL_COLUMNS = {
    "url": "url", "ts": "ts", "seq": "seq", "path": "coalesce(path, '')", "route": "coalesce(route, path, '')",
    "device": device_sql("m_vw"), "depth": "coalesce(m_depth, 0)", "vh": "m_vh",
}
_SCROLL_SQL = f"({', '.join(_SCROLL_COLUMNS[name] for name, _ in SCROLL_FIELDS)})"


def _order(view: Any) -> tuple[int, bool, str, int]:
    return view[0], view[2] is not None, view[2] or "", view[1]


def merged(kept: Iterable[Any], new: Iterable[View]) -> list[View]:
    """A session's kept pageviews (as stored: lists) with a group's new ones, in the walk's order."""
    return sorted((*(tuple(v) for v in kept), *new), key=_order)


def scroll(row: EventRow, seq: int) -> Scroll:
    """A scroll event as the session row keeps it: the values of its stored columns (the JSON
    fields are read as JSONExtract reads them: the wire gave them as numbers, or left them out)."""
    data = object_decoder.decode(row.data)
    vw, depth, vh = data.get("vw"), data.get("depth"), data.get("vh")
    return (
        row.url, row.ts, seq, row.path or "", row.route or row.path or "",
        device_bucket(vw), float(depth) if depth is not None else 0.0,
        int(vh) if vh is not None else None,
    )


def repack(conn: Connection, layout: Layout, where: str) -> None:
    """The session rows matching `where` (on `s`) written again with their pageviews and scroll
    reports read from their events, under their own version: the row inserted last wins among
    equal versions, and a newer row written meanwhile keeps its own."""
    sessions, events = layout.table("sessions"), layout.table("events")
    conn.command(
        f"INSERT INTO {sessions} ({', '.join(SESSION_NAMES)}, version, views, scrolls)"
        f" SELECT {', '.join(f's.{c}' for c in SESSION_NAMES)}, s.version, k.views, k.scrolls"
        f" FROM {sessions} AS s FINAL LEFT JOIN ("
        f"SELECT site_id, session_id,"
        f" arraySort({_ORDER}, groupArrayIf({_VIEW_SQL}, type = 'pageview')) AS views,"
        f" groupArrayIf({_SCROLL_SQL}, type = 'scroll') AS scrolls"
        f" FROM {events} WHERE type IN ('pageview', 'scroll')"
        f" AND (site_id, session_id) IN (SELECT s.site_id, s.id FROM {sessions} AS s FINAL WHERE {where})"
        " GROUP BY site_id, session_id) AS k ON k.site_id = s.site_id AND k.session_id = s.id"
        f" WHERE {where}"
    )


def keep(conn: Connection, layout: Layout) -> None:
    """Pack every session of a store whose rows were written before they kept these."""

    def pack() -> None:
        if conn.rows(f"SELECT 1 FROM {layout.table('sessions')} LIMIT 1"):
            repack(conn, layout, "true")

    once(conn, layout, KEPT, pack)
