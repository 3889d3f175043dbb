"""The furthest-attempt rule of collector.query.funnel, on hand-made event lists."""

from __future__ import annotations

import pytest

from collector.query.funnel import furthest_attempt
from collector.query.patterns import url_match

S1, S2, S3 = 1, 2, 4  # step masks


@pytest.mark.parametrize(("events", "expected"), [
    # one clean attempt
    ([(0, 1, S1, "a"), (10, 2, S2, "a"), (20, 3, S3, "a")], ((0, "a"), (10, "a"), (20, "a"))),
    # step 2 after the window of the first step-1 event, but inside the second attempt's
    ([(0, 1, S1, "a"), (100, 2, S1, "b"), (150, 3, S2, "b")], ((100, "b"), (150, "b"))),
    # order matters: step 2 before step 1 does not count
    ([(0, 1, S2, "a"), (10, 2, S1, "a")], ((10, "a"),)),
    # an event matching steps 1 and 2 serves one step of an attempt, not both
    ([(0, 1, S1 | S2, "a")], ((0, "a"),)),
    ([(0, 1, S1 | S2, "a"), (5, 2, S1 | S2, "a")], ((0, "a"), (5, "a"))),
    # the furthest of any attempt wins even when a later attempt stalls
    ([(0, 1, S1, "a"), (10, 2, S2, "a"), (20, 3, S3, "a"), (500, 4, S1, "b")],
     ((0, "a"), (10, "a"), (20, "a"))),
    # the same timestamp is not "after"
    ([(0, 1, S1, "a"), (0, 2, S2, "a")], ((0, "a"),)),
    # exactly at the window edge still counts
    ([(0, 1, S1, "a"), (60, 2, S2, "a")], ((0, "a"), (60, "a"))),
    ([(0, 1, S1, "a"), (61, 2, S2, "a")], ((0, "a"),)),
    ([], ()),
])
def test_furthest_attempt(events: list[tuple[int, int, int, str]], expected: tuple[object, ...]) -> None:
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
