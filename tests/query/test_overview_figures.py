"""The overview's figures from a store's rows: summed by column, they equal the rows added one by one."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from collector.query.overview import BREAKDOWNS, SUMS, Figures


def _row_by_row(rows: list[tuple[Any, ...]]) -> tuple[dict[int, Counter[str]], Counter[str], dict[str, Counter[str]]]:
    """The definition: every row's sums added to its day and to the totals, its sessions to each
    breakdown value it has ("(none)" for none)."""
    days: dict[int, Counter[str]] = {}
    totals: Counter[str] = Counter()
    found: dict[str, Counter[str]] = {name: Counter() for name in BREAKDOWNS}
    for row in rows:
        sums = dict(zip(SUMS, row[1 + len(BREAKDOWNS):], strict=True))
        days.setdefault(row[0], Counter()).update(sums)
        totals.update(sums)
        for index, name in enumerate(BREAKDOWNS):
            found[name][row[1 + index] or "(none)"] += sums["sessions"]
    return days, totals, found


@pytest.mark.parametrize("seed", range(20))
def test_figures_are_the_rows_added_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    values = [None, "", "a", "b", "c"]
    rows = []
    for _ in range(rng.randrange(0, 300)):
        sessions = rng.randrange(1, 9)  # a row is a group of sessions alike
        sums = [sessions, rng.randrange(0, 40), rng.randrange(0, sessions + 1), rng.randrange(0, sessions + 1),
                rng.randrange(0, 10**7), rng.randrange(0, 3), rng.randrange(0, 2),
                rng.choice([0.0, 0.1, 0.2, 0.3, 19.99, 1e16, -0.0]), rng.randrange(0, 3)]
        rows.append((rng.randrange(20000, 20012), *(rng.choice(values) for _ in BREAKDOWNS), *sums))
    figures = Figures(rows, 7, 3, {20000: 7})
    days, totals, found = _row_by_row(rows)
    assert figures.days == days
    assert {name: figures.totals[name] for name in SUMS} == {name: totals[name] for name in SUMS}
    # floats added in another order differ in their last bits: these are the same bits
    assert repr(figures.totals["revenue"]) == repr(totals["revenue"])
    assert all(repr(figures.days[d]["revenue"]) == repr(days[d]["revenue"]) for d in days)
    assert figures.breakdowns == found
    assert (figures.visitors, figures.converted, figures.day_visitors) == (7, 3, {20000: 7})


def test_a_store_that_counted_its_breakdowns_apart_gives_them_as_they_are() -> None:
    counted = {name: Counter({"x": 2}) for name in BREAKDOWNS}
    figures = Figures([(5, 2, 3, 2, 1, 9000, 1, 0, 12.5, 1), (6, 1, 1, 1, 1, 0, 0, 0, 0.0, 0)], 2, 1, {},
                      breakdowns=counted)
    assert figures.breakdowns is counted
    assert figures.totals == Counter(dict(zip(SUMS, (3, 4, 3, 2, 9000, 1, 0, 12.5, 1), strict=True)))
    assert figures.days[5]["revenue"] == 12.5 and figures.days[6]["sessions"] == 1
    with pytest.raises(ValueError):
        Figures([(5, 2, 3)], 0, 0, {}, breakdowns=counted)  # a row short of its sums


def test_no_rows_give_zeros() -> None:
    figures = Figures([], 0, 0, {})
    assert figures.metrics()["sessions"] == 0 and figures.days == {} and figures.breakdowns["devices"] == Counter()
