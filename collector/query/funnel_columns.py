"""The funnel's counting rule over columns: every visitor's furthest attempt at once, with numpy.

`furthest_attempt` (collector/query/funnel.py) walks one visitor's instants in Python; at a
million events that walk, and the per-visitor lists it needs, cost more than reading the events.
Here the same walk runs for all visitors in lock step: the instants are sorted by visitor and
time, and round r applies every visitor's r-th instant to that visitor's state with array
operations. Each visitor has at most one instant per round, so no two updates of a round touch
one visitor, and the steps are applied high first, as in the Python walk, so an instant extends
the attempts as they stood before it. A visitor with very many instants would make as many
rounds; those few are walked by `furthest_attempt` itself. Both give the same paths (tested).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from collector.query.funnel import DROPPED_SHOWN, Count, Step, answer, furthest_attempt, middle_median

Ints = npt.NDArray[np.int64]
LOCKSTEP_INSTANTS = 64  # a visitor with more instants is walked alone, in Python (at most 65,536)
BLOCK = 50_000  # visitors whose state is held at once: (steps + 1) * steps / 2 int64s each


class Instants:
    """Step events as columns: visitor number, time and step mask, merged into one row per
    visitor and instant and sorted by visitor and time; `rows` maps each back to the events."""

    def __init__(self, visitor: Ints, ts: Ints, mask: Ints) -> None:
        order = by_visitor(visitor, np.argsort(ts, kind="stable"))
        v, t, m = visitor[order], ts[order], mask[order]
        starts = np.ones(len(v), dtype=bool)
        starts[1:] = (v[1:] != v[:-1]) | (t[1:] != t[:-1])
        first = np.flatnonzero(starts)
        self.order = order  # event rows by visitor and time
        self.event_visitor = v
        self.visitor, self.ts = v[first], t[first]
        self.mask = np.bitwise_or.reduceat(m, first) if len(first) else m

    def events_of(self, visitor: int) -> Ints:
        """The event rows (as given) of one visitor."""
        lo, hi = np.searchsorted(self.event_visitor, [visitor, visitor + 1])
        return self.order[lo:hi]


def by_visitor(visitor: Ints, order: Ints) -> Ints:
    """`order` stably sorted by visitor number (as `np.lexsort` with the visitor as its last key).

    numpy sorts keys of 16 bits or less stably by radix, in linear time, and others by merging:
    the numbers are sorted 16 bits at a time, low bits first, a few times faster at 300,000
    events than one sort of the whole numbers."""
    highest = int(visitor.max(initial=0))
    shift = 0
    while True:
        digits = ((visitor[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digits, kind="stable")]
        shift += 16
        if highest >> shift == 0:
            return order


def furthest_paths(instants: Instants, visitors: int, steps: int, window_ms: int) -> tuple[Ints, Ints]:
    """Each visitor's furthest attempt: its depth (0: never started) and the times of its steps
    (row v, columns 0..depth-1), the same as `furthest_attempt` gives."""
    depth = np.zeros(visitors, dtype=np.int64)
    path = np.zeros((visitors, steps), dtype=np.int64)
    v_all, t_all, m_all = instants.visitor, instants.ts, instants.mask
    bounds = np.searchsorted(v_all, np.arange(0, visitors + BLOCK, BLOCK))
    for b in range(len(bounds) - 1):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        if lo == hi:
            continue
        base = b * BLOCK
        v, t, m = v_all[lo:hi] - base, t_all[lo:hi], m_all[lo:hi]
        size = min(BLOCK, visitors - base)
        counts = np.bincount(v, minlength=size)
        rank = np.arange(len(v)) - np.repeat(np.cumsum(counts) - counts, counts)
        alone = counts > LOCKSTEP_INSTANTS
        lockstep = ~alone[v]
        _lockstep(v[lockstep], t[lockstep], m[lockstep], rank[lockstep], size, steps, window_ms,
                  depth[base:base + size], path[base:base + size])
        for one in np.flatnonzero(alone):
            mine = v == one
            found = furthest_attempt(list(zip(t[mine].tolist(), m[mine].tolist(), strict=True)), steps, window_ms)
            depth[base + one] = len(found)
            path[base + one, :len(found)] = found
    return depth, path


def _lockstep(v: Ints, t: Ints, m: Ints, rank: Ints, size: int, steps: int, window_ms: int,
              depth: Ints, out: Ints) -> None:
    """The Python walk's state for `size` visitors, one instant of each per round (see above)."""
    has = np.zeros((steps + 1, size), dtype=bool)
    begun = np.zeros((steps + 1, size), dtype=np.int64)  # each step's best attempt: its start
    paths = [np.zeros((size, max(j, 1)), dtype=np.int64) for j in range(steps + 1)]
    # Every rank here is below LOCKSTEP_INSTANTS: as 16-bit keys they are sorted by radix (above).
    by_rank = np.argsort(rank.astype(np.uint16), kind="stable")
    edges = np.searchsorted(rank[by_rank], np.arange(int(rank.max(initial=-1)) + 2))
    for r in range(len(edges) - 1):
        sel = by_rank[edges[r]:edges[r + 1]]
        vv, tt, mm = v[sel], t[sel], m[sel]
        for j in range(steps, 1, -1):
            cand = ((mm >> (j - 1)) & 1).astype(bool) & has[j - 1, vv]
            if not cand.any():
                continue
            w, tw = vv[cand], tt[cand]
            start = begun[j - 1, w]
            ok = (paths[j - 1][w, j - 2] < tw) & (tw <= start + window_ms) & (~has[j, w] | (start >= begun[j, w]))
            w, tw, start = w[ok], tw[ok], start[ok]
            begun[j, w] = start
            paths[j][w, :j - 1] = paths[j - 1][w, :j - 1]
            paths[j][w, j - 1] = tw
            has[j, w] = True
        first = (mm & 1).astype(bool)
        w = vv[first]
        begun[1, w] = tt[first]
        paths[1][w, 0] = tt[first]
        has[1, w] = True
    for j in range(1, steps + 1):
        reached = has[j]
        depth[reached] = j
        out[reached, :j] = paths[j][reached]


class ColumnCount(Count):
    """`Count`'s figures from the step events as columns (`names[v]` is visitor number v's id,
    one name per visitor). The dropped visitors stay arrays: only the few shown become tuples."""

    def __init__(self, names: list[str], instants: Instants, steps: int, window_s: int) -> None:
        depth, path = furthest_paths(instants, len(names), steps, window_s * 1000)
        self.names = names
        self.reached = [int((depth > j).sum()) for j in range(steps)]
        # Each step's gaps in ms (`Count.gaps` in seconds), of the visitors who reached it.
        self.gaps_ms = [np.zeros(0, dtype=np.int64)] + [
            path[depth > j, j] - path[depth > j, j - 1] for j in range(1, steps)
        ]
        # Visitors who stopped at each step (none stop at the last), and the time they got there.
        self.stopped = [np.flatnonzero(depth == j + 1) for j in range(steps - 1)] + [np.zeros(0, dtype=np.int64)]
        self.last = [path[stopped, j] for j, stopped in enumerate(self.stopped)]

    @property
    def gaps(self) -> list[list[float]]:  # type: ignore[override]
        return [(g / 1000).tolist() for g in self.gaps_ms]

    @property
    def dropped(self) -> list[list[tuple[str, int]]]:  # type: ignore[override]
        return [list(zip(map(self.names.__getitem__, s.tolist()), t.tolist(), strict=True))
                for s, t in zip(self.stopped, self.last, strict=True)]

    def shown(self, j: int) -> list[tuple[str, int]]:
        """As `Count.shown`: one name per visitor, so the first by (name, time) are the first by name."""
        names = list(map(self.names.__getitem__, self.stopped[j].tolist()))
        first = heapq.nsmallest(DROPPED_SHOWN, range(len(names)), key=names.__getitem__)
        return [(names[i], int(self.last[j][i])) for i in first]

    def answer(self, steps: list[Step], window_s: int, shown: list[list[dict[str, Any]]]) -> dict[str, Any]:
        medians = [middle_median(len(g), *_middle(g)) for g in self.gaps_ms]
        return answer(steps, window_s, self.reached, medians, [len(s) for s in self.stopped], shown)


def _middle(values: Ints) -> tuple[int, int]:
    """The two middle values of an unsorted column (the one middle value twice when its length
    is odd; 0, 0 when empty), found by a partial sort."""
    n = len(values)
    if not n:
        return 0, 0
    low, high = (n - 1) // 2, n // 2
    part = np.partition(values, (low, high))
    return int(part[low]), int(part[high])


def columns(values: list[Any]) -> Ints:
    return np.asarray(values, dtype=np.int64)


def column(values: Iterable[int], count: int) -> Ints:
    """`count` integers as a column, taken from an iterator without a list between."""
    return np.fromiter(values, dtype=np.int64, count=count)
