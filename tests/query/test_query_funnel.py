"""The furthest-attempt rule of collector.query.funnel, on hand-made event lists."""

from __future__ import annotations

import statistics

import pytest

from collector.query.funnel import middle_median
from collector.store.sqlite.reads.funnel import furthest_attempt
from collector.store.sqlite.reads.patterns import url_match

S1, S2, S3 = 1, 2, 4  # step masks


@pytest.mark.parametrize(("events", "expected"), [
    # one clean attempt
    ([(0, S1), (10, S2), (20, S3)], (0, 10, 20)),
    # step 2 after the window of the first step-1 event, but inside the second attempt's
    ([(0, S1), (100, S1), (150, S2)], (100, 150)),
    # order matters: step 2 before step 1 does not count
    ([(0, S2), (10, S1)], (10,)),
    # an event matching steps 1 and 2 serves one step of an attempt, not both
    ([(0, S1 | S2)], (0,)),
    ([(0, S1 | S2), (5, S1 | S2)], (0, 5)),
    # the furthest of any attempt wins even when a later attempt stalls
    ([(0, S1), (10, S2), (20, S3), (500, S1)], (0, 10, 20)),
    # a later attempt that gets further replaces an earlier, shorter one
    ([(0, S1), (100, S1), (120, S2), (130, S3)], (100, 120, 130)),
    # the same timestamp is not "after"
    ([(0, S1), (0, S2)], (0,)),
    # exactly at the window edge still counts
    ([(0, S1), (60, S2)], (0, 60)),
    ([(0, S1), (61, S2)], (0,)),
    ([], ()),
])
def test_furthest_attempt(events: list[tuple[int, int]], expected: tuple[int, ...]) -> None:
    assert furthest_attempt(events, 3, 60) == expected


@pytest.mark.parametrize(("pattern", "sql", "args"), [
    ("/product/*", "e.path GLOB ?", ["/product/*"]),
    ("/a[1]?", "e.path = ?", ["/a[1]?"]),
    ("/a[1]?/*", "e.path GLOB ?", ["/a[[]1][?]/*"]),
    ("https://x.example/", "e.url = ?", ["https://x.example/"]),
    ("https://x.example/*", "e.url GLOB ?", ["https://x.example/*"]),
])
def test_url_match(pattern: str, sql: str, args: list[object]) -> None:
    assert url_match(pattern) == (sql, args)


def test_route_template_match() -> None:
    sql, args = url_match("/product/:id")
    assert args == ["/product/:id", "/product/*", 2]
    assert "e.route = ?" in sql


@pytest.mark.parametrize(("events", "expected"), [
    # a new start at the same instant as step 2 does not take step 2 away from the attempt before
    ([(0, S1), (10, S1), (10, S2)], (0, 10)),
    ([(0, S1), (10, S2), (10, S1)], (0, 10)),
    # nor does a step-2 event at the same instant as step 3 take step 3 away
    ([(0, S1), (5, S2), (10, S2), (10, S3)], (0, 5, 10)),
    ([(0, S1), (5, S2), (10, S3), (10, S2)], (0, 5, 10)),
])
def test_events_at_one_instant_extend_the_attempts_before_it(
    events: list[tuple[int, int]], expected: tuple[int, ...]
) -> None:
    assert furthest_attempt(events, 3, 60) == expected


@pytest.mark.parametrize("gaps_ms", [[7], [1, 2], [3, 1, 2], [100, 200, 300, 400], [1, 1, 2, 2], [0, 0], [15, 76],
                                     [300, 7000, 1, 1, 0, 7100], list(range(1, 1000, 7))])
def test_middle_median_is_statistics_median(gaps_ms: list[int]) -> None:
    ordered = sorted(gaps_ms)
    n = len(ordered)
    low, high = ordered[(n - 1) // 2], ordered[n // 2]
    assert middle_median(n, low, high) == statistics.median(g / 1000 for g in gaps_ms)


def test_middle_median_rounds_as_statistics_median_does() -> None:
    # (0.001 + 0.008) / 2 is not 0.009 / 2 in floats: the seconds are added, not the milliseconds
    assert middle_median(2, 1, 8) == statistics.median([0.001, 0.008]) != (1 + 8) / 2000
    assert middle_median(0, 0, 0) is None
