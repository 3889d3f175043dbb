"""Paths, engine-neutral: from each session's pageviews in order, the pages after and before a page.

Each engine counts the steps in its own SQL (a session's pageviews ordered by time, then path,
then arrival; the pages at offsets 1..depth on either side of its first matching view) and hands
back one row per (direction, step, source, target) with its count: `from_links` builds the
answer from those rows. `answer` walks the sessions' views in Python: the definition the SQL is
tested against.

The flow diagram's links are folded here, the same for every engine: each column keeps its
`width - 1` busiest pages when it has more than `width`, and the others become one "(other)"
node (`folded` says how many pages each column folded), so no session leaves the drawing and
the answer stays a few kilobytes (unfolded, the busiest page of a shop sent tens of thousands of
links). The step tables (`next`, `previous`) list each step's ten busiest pages, unfolded.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable
from typing import Any

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
    # Sessions that share the page and the pages around it count once, with their number: a
    # shop's sessions repeat a few thousand such windows, walked once each below.
    windows: dict[str, Counter[tuple[str, ...]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    count = 0
    for views in sessions:
        views.sort(key=_ts)
        at = next((i for i, v in enumerate(views) if v[2]), None)
        if at is None:
            continue
        count += 1
        pages = [v[1] for v in views]
        windows[NEXT][tuple(pages[at:at + depth + 1])] += 1
        windows[PREVIOUS][tuple(pages[max(at - depth, 0):at + 1][::-1])] += 1
    levels = _columns(depth)
    links: dict[str, Counter[tuple[int, str, str]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    for direction, end in ((NEXT, EXIT), (PREVIOUS, ENTRANCE)):
        for (start, *pages), n in windows[direction].items():
            _walk(pages, start, levels[direction], links[direction], end, n)
    return _answer(from_url, count, levels, links, width)


_ts = operator.itemgetter(0)


Link = tuple[str, int, str, str, int]  # (NEXT or PREVIOUS, step, source page, target page, sessions)
NEXT, PREVIOUS = "next", "previous"


def from_links(from_url: str, sessions: int, rows: Iterable[Link], depth: int, width: int = WIDTH) -> dict[str, Any]:
    """The answer from counted steps: `sessions` that saw the page, and for each direction, step
    k (1..depth) and (source, target) pair the sessions whose pages at offsets k - 1 and k were
    those (the target "(exit)" or "(entrance)" where the session had no page at offset k)."""
    levels = _columns(depth)
    links: dict[str, Counter[tuple[int, str, str]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    for direction, step, source, target, n in rows:
        levels[direction][step - 1][target] += n
        links[direction][(step, source, target)] += n
    return _answer(from_url, sessions, levels, links, width)


def _columns(depth: int) -> dict[str, list[Counter[str]]]:
    return {direction: [Counter[str]() for _ in range(depth)] for direction in (NEXT, PREVIOUS)}


def _answer(
    from_url: str, sessions: int, levels: dict[str, list[Counter[str]]],
    links: dict[str, Counter[tuple[int, str, str]]], width: int,
) -> dict[str, Any]:
    folded = {direction: fold(levels[direction], links[direction], width) for direction in (NEXT, PREVIOUS)}
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

    def node(column: int, path: str) -> str:
        keep = kept[column]
        return path if keep is None or path in keep else OTHER

    folded: Counter[tuple[int, str, str]] = Counter()
    for (step, source, target), n in links.items():
        folded[(step, node(step - 1, source), node(step, target))] += n
    return folded, counts


def _walk(
    pages: list[str], start: str, levels: list[Counter[str]],
    links: Counter[tuple[int, str, str]], end: str, n: int,
) -> None:
    """Count `n` sessions whose pages after `start`, in the walk's direction, are `pages`."""
    source = start
    for k in range(len(levels)):
        target = pages[k] if k < len(pages) else end
        levels[k][target] += n
        links[(k + 1, source, target)] += n
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
