"""Funnels as data and their one counting rule: ordered steps per visitor within a window,
each visitor counted at the furthest step reached by any of their attempts."""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Sequence
from typing import Annotated, Any

from msgspec import Meta, Struct

from collector.query.overview import ratio

MAX_WINDOW_S = 90 * 86400
MAX_STEPS = 10


class Step(Struct, kw_only=True, forbid_unknown_fields=True):
    type: Annotated[str, Meta(min_length=1, max_length=32)]
    url: Annotated[str, Meta(min_length=1, max_length=2048)] | None = None
    name: Annotated[str, Meta(min_length=1, max_length=256)] | None = None


class FunnelRequest(Struct, kw_only=True, forbid_unknown_fields=True, rename={"from_": "from"}):
    """The body of POST /api/funnel (`from_` is `from` on the wire)."""

    steps: Annotated[list[Step], Meta(min_length=2, max_length=MAX_STEPS)]
    window_s: Annotated[int, Meta(ge=1, le=MAX_WINDOW_S)] = 86400
    site: str | None = None
    segment: str | int | None = None
    filters: dict[str, str] = {}
    bots: bool = False
    from_: str | int | None = None
    to: str | int | None = None


Path = tuple[int, ...]  # the time of each step reached, in order


def furthest_attempt(events: Sequence[tuple[Any, ...]], steps: int, window_ms: int) -> Path:
    """The attempt that got furthest, from a visitor's (ts, step mask, ...) events.

    For each step we keep the attempt with the latest start among those that reached it: a
    later start leaves the most of the window for the steps still to come, so it dominates.
    A step must come strictly after the one before, so the events of one instant all extend
    the attempts as they stood before that instant: they act as one event with their masks
    joined (otherwise a step-1 event would restart the attempt that a later step at the same
    instant should extend).
    """
    starts: list[int] = [0] * (steps + 1)
    paths: list[Path | None] = [None] * (steps + 1)
    instants: dict[int, int] = {}
    for event in events:
        ts = event[0]
        instants[ts] = instants.get(ts, 0) | event[1]
    for ts in sorted(instants):
        mask = instants[ts]
        if mask > 1:  # a later step: try it on the best attempt one step short of it
            for j in range(steps, 1, -1):  # high steps first: one event serves one step of an attempt
                path = paths[j - 1]
                if mask >> (j - 1) & 1 and path is not None:
                    start = starts[j - 1]
                    if path[-1] < ts <= start + window_ms and (paths[j] is None or start >= starts[j]):
                        starts[j], paths[j] = start, (*path, ts)
        if mask & 1:
            starts[1], paths[1] = ts, (ts,)
    for path in reversed(paths):
        if path is not None:
            return path
    return ()


DROPPED_SHOWN = 100  # session ids listed per step; the count is always complete


class Count:
    """Visitors at each step, the time between steps, and the visitors who dropped at each step
    (with the time of their last step event), from each visitor's (ts, step mask, ...) events."""

    def __init__(self, by_visitor: dict[str, list[tuple[Any, ...]]], steps: int, window_s: int) -> None:
        self.reached = [0] * steps
        self.gaps: list[list[float]] = [[] for _ in range(steps)]
        self.dropped: list[list[tuple[str, int]]] = [[] for _ in range(steps)]
        for visitor, events in by_visitor.items():
            path = furthest_attempt(events, steps, window_s * 1000)
            for j in range(len(path)):
                self.reached[j] += 1
                if j:
                    self.gaps[j].append((path[j] - path[j - 1]) / 1000)
            if path and len(path) < steps:
                self.dropped[len(path) - 1].append((visitor, path[-1]))

    def shown(self, j: int) -> list[tuple[str, int]]:
        """The dropped visitors of step j whose sessions are listed: the first by visitor id."""
        return heapq.nsmallest(DROPPED_SHOWN, self.dropped[j])  # sorted(...)[:DROPPED_SHOWN], in one pass

    def answer(self, steps: list[Step], window_s: int, shown: list[list[dict[str, Any]]]) -> dict[str, Any]:
        medians = [statistics.median(g) if g else None for g in self.gaps]
        return answer(steps, window_s, self.reached, medians, [len(d) for d in self.dropped], shown)


def middle_median(count: int, low_ms: int, high_ms: int) -> float | None:
    """What `statistics.median` gives for `count` gaps in seconds (each ms / 1000), from the two
    middle gaps in ms (the one middle gap twice when `count` is odd): the same floats, added in
    the same order, so an engine that finds the middle values itself answers to the last digit."""
    if not count:
        return None
    if count % 2:
        return low_ms / 1000
    return (low_ms / 1000 + high_ms / 1000) / 2


def answer(steps: list[Step], window_s: int, reached: list[int], medians: list[float | None], dropped: list[int],
           shown: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """The funnel's answer from its figures per step."""
    result = []
    for j, step in enumerate(steps):
        result.append({
            "step": j + 1,
            "type": step.type,
            "url": step.url,
            "name": step.name,
            "visitors": reached[j],
            "conversion": ratio(reached[j], reached[j - 1] if j else reached[0]),
            "conversion_from_start": ratio(reached[j], reached[0]),
            "median_s_from_previous": medians[j],
            "dropped": dropped[j],
            "dropped_sessions": sorted(shown[j], key=lambda d: (d["id"], d["visitor_id"])),
        })
    return {"window_s": window_s, "steps": result, "overall_conversion": ratio(reached[-1], reached[0])}
