"""A heatmap's question as data: page, device bucket, range and rage flag, checked once."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec

from collector.errors import ClientError
from collector.query.definitions import DAY_MS, DEVICES, device_bucket


@dataclass(frozen=True)
class Scope:
    """One heatmap's page, device bucket ('' for all), UTC time range [start, end) and rage flag."""

    site_id: str
    url: str
    device: str
    start: int
    end: int
    rage: bool = False
    # (experiment, variant or None): only the sessions of its exposed visitors (query/scope.py)
    exposures: tuple[tuple[str, str | None], ...] = ()

    def __post_init__(self) -> None:
        if not self.url:
            raise ClientError(400, "url is required: a route (/product/:id), a path, /path/* or a URL")
        if self.device not in ("", *DEVICES):
            raise ClientError(400, "device must be desktop, tablet or mobile")

    @property
    def whole_utc_days(self) -> bool:
        """Whether the range is whole UTC days, the unit the day rollups count in. A site outside
        UTC asks for its own midnights: those ranges are read from the events, exactly."""
        return self.start % DAY_MS == 0 and self.end % DAY_MS == 0

    @property
    def days(self) -> tuple[int, int]:
        """The rollups' UTC days touched by the range; epoch-ms bounds widen to whole days."""
        return self.start // DAY_MS, max(self.start, self.end - 1) // DAY_MS


# ---- the answers, engine-neutral: each engine sums its rows, these shape them ----

GRID = 16  # cells per side of an element box (heatmap_cells)
POINT_PX = 32  # side of a page-coordinate cell in px (heatmap_points)
MAX_ELEMENTS = 300  # the ranked list and the layer; the rest is summed as `other`
SNAPSHOT_SESSIONS = 40  # recent recorded sessions searched for a full snapshot

_decode_events = msgspec.json.Decoder(list[Any])


class Tally:
    """Clicks of one page summed per element, with their box cells and page points."""

    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.dead: dict[str, int] = defaultdict(int)
        self.label: dict[str, tuple[str | None, str | None]] = {}
        self.cells: dict[str, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
        self.points: dict[str, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))

    def answer(self, scope: Scope) -> dict[str, Any]:
        total = sum(self.count.values())
        ranked = sorted((s for s in self.count if self.count[s] > 0), key=lambda s: (-self.count[s], s))
        shown = ranked[:MAX_ELEMENTS]
        elements = []
        for sel in shown:
            tag, text = self.label.get(sel, (None, None))
            elements.append({
                "sel": sel or None,
                "tag": tag,
                "text": text,
                "count": self.count[sel],
                "share": self.count[sel] / total if total else 0.0,
                "dead": self.dead[sel],
                "cells": _triples(self.cells.get(sel, {})),
                "points": _triples(self.points.get(sel, {})),
            })
        return {
            "kind": "click",
            "url": scope.url,
            "device": scope.device or None,
            "rage": scope.rage,
            "total": total,
            "other": sum(self.count[s] for s in ranked[MAX_ELEMENTS:]),
            "grid": GRID,
            "point_px": POINT_PX,
            "elements": elements,
        }


def _triples(grid: dict[tuple[int, int], int]) -> list[list[int]]:
    """[[x, y, n], ...] of the non-empty cells; -1 marks clicks sent without that coordinate."""
    return [[x, y, n] for (x, y), n in sorted(grid.items()) if n > 0 and x >= 0 and y >= 0]


def greater(
    old: tuple[str | None, str | None] | None, new: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    """Per field the greatest non-null value, as the rollup keeps it: the same label either way."""
    if old is None:
        return new
    return (
        max(old[0], new[0]) if old[0] is not None and new[0] is not None else old[0] or new[0],
        max(old[1], new[1]) if old[1] is not None and new[1] is not None else old[1] or new[1],
    )


def cell(offset: float) -> int:
    return min(GRID - 1, max(0, int(offset * GRID)))


def scroll_answer(scope: Scope, rows: Iterable[tuple[float, int, int, int]]) -> dict[str, Any]:
    """Share of pageviews reaching each depth (0..100 % of the document) and the average fold,
    from (depth, pageviews, sum of viewport heights, pageviews with a height) rows."""
    by_depth: dict[int, int] = defaultdict(int)
    vh_sum = vh_n = 0
    for depth, n, vh, vn in rows:
        by_depth[min(100, max(0, int(depth)))] += n
        vh_sum += vh
        vh_n += vn
    views = sum(by_depth.values())
    reached = []
    running = 0
    for depth in range(100, -1, -1):  # pageviews whose deepest report is at or past `depth`
        running += by_depth.get(depth, 0)
        reached.append(running)
    reached.reverse()
    return {
        "kind": "scroll",
        "url": scope.url,
        "device": scope.device or None,
        "views": views,
        "reached": reached,
        "bands": [
            {"depth": d, "views": reached[d], "share": reached[d] / views if views else 0.0}
            for d in range(0, 101, 5)
        ],
        "avg_depth": sum(d * n for d, n in by_depth.items()) / views if views else None,
        "avg_fold_px": vh_sum / vh_n if vh_n else None,
    }


def full_snapshot(
    chunks: Iterable[bytes], scope: Scope, session_id: str, path: str | None
) -> dict[str, Any] | None:
    """The first full snapshot (rrweb type 2) after a meta event (type 4) that fits the page and
    device, from a session's stored chunks in order; None without one."""
    meta: dict[str, Any] | None = None
    for data in chunks:
        try:
            events = _decode_events.decode(zlib.decompress(data, wbits=16 + zlib.MAX_WBITS))
        except (zlib.error, msgspec.DecodeError):
            continue  # a damaged chunk: the session's other chunks may still hold a snapshot
        for event in events:
            if not isinstance(event, dict):
                continue
            if event.get("type") == 4 and isinstance(event.get("data"), dict):
                meta = event
            elif event.get("type") == 2 and meta is not None and _fits(meta, scope, path):
                return {"session_id": session_id, "meta": meta, "snapshot": event}
    return None


def _fits(meta: dict[str, Any], scope: Scope, path: str | None) -> bool:
    data = meta["data"]
    width = data.get("width")
    if not isinstance(width, int | float) or (scope.device and device_bucket(width) != scope.device):
        return False
    try:
        href_path = urlsplit(str(data.get("href", ""))).path or "/"
    except ValueError:
        return False
    # a hash route (`/todo#/active`) is drawn on its document's snapshot; elements the route
    # rendered later are shown as they stood when clicked (click_moment)
    return path is None or href_path == path.partition("#")[0]
