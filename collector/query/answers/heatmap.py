"""The heatmap answers: clicks by element and position, scroll reach, the pages that have
heatmaps, the recorded page to draw them on, and the moment of a click."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from collector.query.answers.base import Answer, Ms

Triple = Annotated[list[int], Meta(description="[x, y, clicks]: a cell of the grid, or a point in px")]


class Element(Answer):
    sel: str | None  # null: clicks sent without a selector
    tag: str | None
    text: str | None
    count: int
    share: float
    dead: int
    cells: list[Triple]
    points: list[Triple]


class ClickMap(Answer, tag_field="kind", tag="click"):
    """GET /api/heatmap?kind=click: the most clicked elements, each with its cells and points."""

    url: str
    device: str | None
    rage: bool
    total: int
    other: int
    grid: int
    point_px: int
    elements: list[Element]


class Band(Answer):
    depth: int
    views: int
    share: float


class ScrollMap(Answer, tag_field="kind", tag="scroll"):
    """GET /api/heatmap?kind=scroll: pageviews reaching each depth, 0 to 100 % of the page."""

    url: str
    device: str | None
    views: int
    reached: list[int]
    bands: list[Band]
    avg_depth: float | None
    avg_fold_px: float | None


class HeatmapPage(Answer):
    route: str
    clicks: int
    scroll_views: int


class HeatmapPages(Answer):
    """GET /api/heatmap/pages."""

    pages: list[HeatmapPage]


class Snapshot(Answer):
    """GET /api/heatmap/snapshot: a recorded session's meta and full snapshot rrweb events."""

    session_id: str
    meta: dict[str, Any]
    snapshot: dict[str, Any]


class ClickMoment(Answer):
    """GET /api/heatmap/moment: the recorded session and its clock's time of the newest click."""

    session_id: str
    ts: Ms
    rx: float | None
    ry: float | None
    x: int | None
    y: int | None


Heatmap = ClickMap | ScrollMap  # GET /api/heatmap, by `kind`
