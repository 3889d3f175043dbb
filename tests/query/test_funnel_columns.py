"""The funnel's column walk gives every visitor the very path the per-visitor walk gives."""

from __future__ import annotations

import random

import numpy as np
import pytest

from collector.query import funnel_columns
from collector.query.funnel import Count, furthest_attempt
from collector.query.funnel_columns import ColumnCount, Instants, columns, furthest_paths


def journeys(rng: random.Random, visitors: int, steps: int, most: int) -> dict[str, list[tuple[int, int]]]:
    """(ts, mask) events per visitor: equal instants, window edges, repeated and broken attempts."""
    found: dict[str, list[tuple[int, int]]] = {}
    for v in range(visitors):
        t = rng.randrange(1000)
        events = []
        for _ in range(rng.randrange(0, most)):
            t += rng.choice((0, 0, 1, 5, 30, 59, 60, 61, 200))
            events.append((t, rng.randrange(1, 1 << steps)))
            if rng.random() < 0.2:  # another step at the very same instant
                events.append((t, 1 << rng.randrange(steps)))
        rng.shuffle(events)
        found[f"v{v}"] = events
    return found


def as_columns(by_visitor: dict[str, list[tuple[int, int]]]) -> tuple[list[str], Instants]:
    names = list(by_visitor)
    rows = [(n, ts, mask) for n, name in enumerate(names) for ts, mask in by_visitor[name]]
    return names, Instants(columns([r[0] for r in rows]), columns([r[1] for r in rows]), columns([r[2] for r in rows]))


@pytest.mark.parametrize(("seed", "steps", "most"), [(1, 2, 12), (2, 3, 20), (3, 4, 40), (4, 5, 90), (5, 10, 60)])
def test_every_path_is_the_walks_path(seed: int, steps: int, most: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small blocks and a low bound on lock-step instants: every branch runs on a few hundred visitors.
    monkeypatch.setattr(funnel_columns, "BLOCK", 97)
    monkeypatch.setattr(funnel_columns, "LOCKSTEP_INSTANTS", 25)
    by_visitor = journeys(random.Random(seed), 400, steps, most)
    names, instants = as_columns(by_visitor)
    depth, path = furthest_paths(instants, len(names), steps, 60)
    walked = {name: furthest_attempt(events, steps, 60) for name, events in by_visitor.items()}
    assert {name: tuple(path[v, :depth[v]].tolist()) for v, name in enumerate(names)} == walked
    depths = {len(p) for p in walked.values()}
    assert {0, 1} <= depths and max(depths) >= min(steps, 5)  # the walks stop early and go deep
    if most >= 40:  # then some visitors have more instants than the lock step takes
        assert max(len({ts for ts, _ in events}) for events in by_visitor.values()) > 25


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_counts_are_the_same(seed: int) -> None:
    by_visitor = journeys(random.Random(seed), 300, 3, 15)
    names, instants = as_columns(by_visitor)
    column = ColumnCount(names, instants, 3, 60)
    walked = Count(by_visitor, 3, 60)
    assert column.reached == walked.reached
    assert [sorted(g) for g in column.gaps] == [sorted(g) for g in walked.gaps]
    assert [sorted(d) for d in column.dropped] == [sorted(d) for d in walked.dropped]
    assert [column.shown(j) for j in range(3)] == [walked.shown(j) for j in range(3)]


def test_no_events() -> None:
    names, instants = as_columns({"a": [], "b": []})
    depth, path = furthest_paths(instants, 2, 3, 60)
    assert depth.tolist() == [0, 0] and path.shape == (2, 3)
    assert ColumnCount(names, instants, 3, 60).reached == [0, 0, 0]


def test_events_of_a_visitor_are_its_rows() -> None:
    instants = Instants(np.array([2, 0, 2, 1, 0]), np.array([5, 1, 3, 7, 1]), np.array([1, 1, 2, 1, 2]))
    assert sorted(instants.events_of(0).tolist()) == [1, 4]
    assert sorted(instants.events_of(2).tolist()) == [0, 2]
    assert instants.events_of(3).tolist() == []
    assert instants.mask.tolist() == [3, 1, 2, 1]  # visitor 0's two events at one instant are one


@pytest.mark.parametrize("highest", [0, 3, 65_535, 65_536, 1 << 20, 1 << 40])
def test_instants_come_in_the_order_of_lexsort(highest: int) -> None:
    # Visitor numbers sorted 16 bits at a time: one pass below 65,536, more above; ties keep
    # their time order, and equal times the order given.
    rng = np.random.default_rng(highest)
    visitor = rng.integers(0, highest + 1, size=5_000)
    visitor[:50] = highest  # the widest number is there
    ts = rng.integers(0, 40, size=5_000)
    instants = Instants(visitor, ts, np.ones(5_000, dtype=np.int64))
    assert instants.order.tolist() == np.lexsort((ts, visitor)).tolist()
    assert Instants(columns([]), columns([]), columns([])).order.tolist() == []
