"""Heatmap click rollups: the SQL that the m006 triggers and the writer's per-group fold share.

docs/heatmaps.md explains the grids; collector/query/heatmap.py reads them. Every expression takes
the alias of an `events` row (`new`, `old` or a FROM alias), so one text serves both.
"""

from __future__ import annotations

import sqlite3

from collector.store.sqlite.reads.scope import day_sql, device_sql, human_event_sql
from collector.store.sqlite.stored import Stored


# Device bucket from the event's viewport width (docs/metrics.md); '' when the SDK sent none.
def device(e: str) -> str:
    return device_sql(f"json_extract({e}.data, '$.vw')")


def cell(e: str, field: str) -> str:  # 16 x 16 grid over the element box; -1 without offsets
    v = f"json_extract({e}.data, '$.{field}')"
    return f"CASE WHEN {v} IS NULL THEN -1 ELSE min(15, max(0, CAST({v} * 16 AS INTEGER))) END"


def point(e: str, field: str) -> str:  # 32 px grid over the page; -1 without coordinates
    v = f"json_extract({e}.data, '$.{field}')"
    return f"CASE WHEN {v} IS NULL THEN -1 ELSE max(0, CAST({v} AS INTEGER) / 32) END"


def keys(e: str) -> str:
    return (f"{e}.site_id, coalesce({e}.route, {e}.path, ''), {device(e)}, {day_sql(f'{e}.ts')},"
            f" coalesce(json_extract({e}.data, '$.rage'), 0), coalesce({e}.name, '')")


def human(e: str) -> str:
    return human_event_sql(e)


def clicks(e: str, sign: str, source: str) -> list[str]:
    """Add (sign '') or take back (sign '-') the clicks `source` selects, in all three grids."""
    upsert = "ON CONFLICT DO UPDATE SET n = n + excluded.n"
    return [
        f"""INSERT INTO heatmap_elements (site_id, route, device, day, rage, sel, n, dead, tag, text)
            SELECT {keys(e)}, {sign}count(*),
                {sign}sum(coalesce(json_extract({e}.data, '$.dead'), 0)),
                max(json_extract({e}.data, '$.tag')), max(json_extract({e}.data, '$.text'))
            {source} GROUP BY 1, 2, 3, 4, 5, 6
            ON CONFLICT DO UPDATE SET n = n + excluded.n, dead = dead + excluded.dead,
                tag = coalesce(max(tag, excluded.tag), tag, excluded.tag),
                text = coalesce(max(text, excluded.text), text, excluded.text)""",
        f"""INSERT INTO heatmap_cells SELECT {keys(e)}, {cell(e, "rx")}, {cell(e, "ry")},
            {sign}count(*) {source} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 {upsert}""",
        f"""INSERT INTO heatmap_points SELECT {keys(e)}, {point(e, "x")}, {point(e, "y")},
            {sign}count(*) {source} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 {upsert}""",
    ]


def trigger_body(statements: list[str]) -> str:
    return "".join(f"{statement};\n" for statement in statements)


def fold_clicks(conn: sqlite3.Connection, group: Stored) -> None:
    """Add the clicks of humans among a group's stored events to the three grids, one GROUP BY per
    grid for a whole commit group: ~3.9 us per click and ~23 us per group, where a trigger cost
    10.4 us per click."""
    source = f"FROM {group.source} WHERE {group.where} AND e.type = 'click' AND {human('e')}"
    for statement in clicks("e", "", source):
        conn.execute(statement, group.params)
