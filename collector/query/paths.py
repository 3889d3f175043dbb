"""Paths, engine-neutral: from each session's pageviews in order, the pages after and before a page.

The SQLite engine hands each session's pages to `answer_of_walks`; the ClickHouse engine counts
the steps in its SQL (a session's pageviews ordered by time, then path, then arrival; the pages at
offsets 1..depth on either side of its first matching view), ranks and folds them there by
`fold`'s rule, and hands back the answer's rows to `from_folded`. `answer` walks the sessions'
views in Python: the definition both are tested against.

The flow diagram's links are folded here, the same for every engine: each column keeps its
`width - 1` busiest pages when it has more than `width`, and the others become one "(other)"
node (`folded` says how many pages each column folded), so no session leaves the drawing and
the answer stays a few kilobytes (unfolded, the busiest page of a shop sent tens of thousands of
links). The step tables (`next`, `previous`) list each step's ten busiest pages, unfolded.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from collector.query.scope import NONE  # a view without a path

EXIT = "(exit)"
ENTRANCE = "(entrance)"
OTHER = "(other)"  # no path is spelled so: paths begin with "/"
TOP = 10
WIDTH = 7  # nodes a column of the flow diagram shows, "(other)" included

View = tuple[int, str, int]  # (ts, path or "(none)", whether it matches from_url)


def answer(from_url: str, sessions: Iterable[list[View]], depth: int, width: int = WIDTH) -> dict[str, Any]:
    """Step k counts the sessions whose k-th page after (or before) the first matching one is each
    path; a session that ends earlier counts once as "(exit)" (or "(entrance)") and then stops.
    Each session's views come in stored order; views at one instant keep it (a stable sort)."""
    return answer_of_walks(from_url, walks(sessions), depth, width)


def walks(sessions: Iterable[list[View]]) -> Iterator[Walk]:
    """Each session's pages in time order and its first matching view, for the sessions with one."""
    for views in sessions:
        views.sort(key=_ts)
        at = next((i for i, v in enumerate(views) if v[2]), None)
        if at is not None:
            yield [v[1] for v in views], at


# A session's pages in order (its views' paths, "" or "(none)" for a view without one) and the
# index of its first view of the page the paths start from.
Walk = tuple[Sequence[str], int]


def answer_of_walks(from_url: str, walks: Iterable[Walk], depth: int, width: int = WIDTH) -> dict[str, Any]:
    """`answer`, from each session's pages and first matching view."""
    # Sessions that share the page and the pages around it count once, with their number: a
    # shop's sessions repeat a few thousand such windows, walked once each below (counted in C).
    following: list[tuple[str, ...]] = []
    preceding: list[tuple[str, ...]] = []
    for pages, at in walks:
        following.append(tuple(pages[at:at + depth + 1]))
        preceding.append(tuple(pages[max(at - depth, 0):at + 1][::-1]))
    links: dict[str, Counter[tuple[int, str, str]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    for direction, windows, end in ((NEXT, following, EXIT), (PREVIOUS, preceding, ENTRANCE)):
        counted = links[direction]
        for window, n in Counter(windows).items():
            _walk(window, depth, counted, end, n)
    return _answer(from_url, len(following), depth, links, width)


_ts = operator.itemgetter(0)


NEXT, PREVIOUS = "next", "previous"
# The kinds of an engine's folded rows (`from_folded`), and the rows: (NEXT or PREVIOUS, kind,
# step, source page, target page, sessions or pages).
LEVEL, FOLDED, LINK = "level", "folded", "link"
Folded = tuple[str, str, int, str, str, int]


def from_folded(from_url: str, sessions: int, rows: Iterable[Folded], depth: int) -> dict[str, Any]:
    """The answer from an engine that counted, ranked and folded the steps itself, as `_answer`
    does: `sessions` that saw the page, and rows (direction, kind, step, source, target, n) of
    three kinds: LEVEL, a target among the TOP busiest of its step's column; FOLDED, the number
    of pages the column folded (in n); LINK, a link as `fold` leaves it."""
    levels = {direction: [Counter[str]() for _ in range(depth)] for direction in (NEXT, PREVIOUS)}
    folded = {direction: [0] * depth for direction in (NEXT, PREVIOUS)}
    links: dict[str, Counter[tuple[int, str, str]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    for direction, kind, step, source, target, n in rows:
        if kind == LEVEL:
            levels[direction][step - 1][target] = n
        elif kind == FOLDED:
            folded[direction][step - 1] = n
        else:
            links[direction][step, source, target] = n
    return _result(from_url, sessions, levels, {way: (links[way], folded[way]) for way in (NEXT, PREVIOUS)})


def _answer(
    from_url: str, sessions: int, depth: int, links: dict[str, Counter[tuple[int, str, str]]], width: int,
) -> dict[str, Any]:
    # column k: the sessions at each page k steps away (each link's target)
    levels = {direction: [Counter[str]() for _ in range(depth)] for direction in (NEXT, PREVIOUS)}
    for direction in (NEXT, PREVIOUS):
        columns = levels[direction]
        for (step, _, target), n in links[direction].items():
            column = columns[step - 1]
            column[target] = column.get(target, 0) + n
    folded = {direction: fold(levels[direction], links[direction], width) for direction in (NEXT, PREVIOUS)}
    return _result(from_url, sessions, levels, folded)


def _result(
    from_url: str, sessions: int, levels: dict[str, list[Counter[str]]],
    folded: dict[str, tuple[Counter[tuple[int, str, str]], list[int]]],
) -> dict[str, Any]:
    return {
        "from_url": from_url,
        "sessions": sessions,
        "next": _levels(levels[NEXT]),
        "previous": _levels(levels[PREVIOUS]),
        "next_links": _links(folded[NEXT][0]),
        "previous_links": _links(folded[PREVIOUS][0]),
        "folded": {direction: folded[direction][1] for direction in (NEXT, PREVIOUS)},
    }


def fold(
    levels: list[Counter[str]], links: Counter[tuple[int, str, str]], width: int,
) -> tuple[Counter[tuple[int, str, str]], list[int]]:
    """One direction's links with each column past `width` pages cut to its `width - 1` busiest
    (most sessions, then path) and the rest named OTHER, and how many pages each column folded.
    Column k holds the targets of step k; column 0, the page the paths start from, stays whole."""
    kept: list[set[str] | None] = [None]  # per column; None: every page is drawn
    counts: list[int] = []
    for column in levels:
        if len(column) > width:
            ranked = sorted(column.items(), key=lambda item: (-item[1], item[0]))
            kept.append({path for path, _ in ranked[:width - 1]})
            counts.append(len(column) - (width - 1))
        else:
            kept.append(None)
            counts.append(0)

    folded: Counter[tuple[int, str, str]] = Counter()
    for (step, source, target), n in links.items():  # a node is its page, or OTHER where folded
        keep = kept[step - 1]
        if keep is not None and source not in keep:
            source = OTHER
        keep = kept[step]
        if keep is not None and target not in keep:
            target = OTHER
        key = (step, source, target)
        folded[key] = folded.get(key, 0) + n
    return folded, counts


def _walk(window: tuple[str, ...], depth: int, links: Counter[tuple[int, str, str]], end: str, n: int) -> None:
    """Count `n` sessions whose pages from the page the paths start at, in the walk's direction,
    are `window` ("" for a view without a path), for `depth` steps or until `end`."""
    source = window[0]
    for k in range(1, depth + 1):
        target = (window[k] or NONE) if k < len(window) else end
        links[(k, source, target)] += n
        if target == end:
            return
        source = target


def _levels(levels: list[Counter[str]]) -> list[dict[str, Any]]:
    return [
        {
            "step": k + 1,
            "pages": [
                {"path": path, "sessions": n}
                for path, n in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]
            ],
        }
        for k, counter in enumerate(levels)
    ]


def _links(links: Counter[tuple[int, str, str]]) -> list[dict[str, Any]]:
    ordered = sorted(links.items(), key=lambda item: (item[0][0], -item[1], item[0][1], item[0][2]))
    return [
        {"step": step, "source": source, "target": target, "sessions": n}
        for (step, source, target), n in ordered
    ]
