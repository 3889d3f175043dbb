"""Paths, engine-neutral: from each session's pageviews in order, the pages after and before a page.

Each engine counts the steps in its own SQL (a session's pageviews ordered by time, then path,
then arrival; the pages at offsets 1..depth on either side of its first matching view) and hands
back one row per (direction, step, source, target) with its count: `from_links` builds the
answer from those rows. `answer` walks the sessions' views in Python: the definition the SQL is
tested against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

EXIT = "(exit)"
ENTRANCE = "(entrance)"
TOP = 10

View = tuple[int, str, int]  # (ts, path or "(none)", whether it matches from_url)


def answer(from_url: str, sessions: Iterable[list[View]], depth: int) -> dict[str, Any]:
    """Step k counts the sessions whose k-th page after (or before) the first matching one is each
    path; a session that ends earlier counts once as "(exit)" (or "(entrance)") and then stops.
    Each session's views come in stored order; views at one instant keep it (a stable sort)."""
    after: list[Counter[str]] = [Counter() for _ in range(depth)]
    before: list[Counter[str]] = [Counter() for _ in range(depth)]
    links_after: Counter[tuple[int, str, str]] = Counter()
    links_before: Counter[tuple[int, str, str]] = Counter()
    count = 0
    for views in sessions:
        views.sort(key=lambda view: view[0])
        at = next((i for i, v in enumerate(views) if v[2]), None)
        if at is None:
            continue
        count += 1
        pages = [v[1] for v in views]
        _walk(pages[at + 1:], pages[at], after, links_after, EXIT)
        _walk(pages[:at][::-1], pages[at], before, links_before, ENTRANCE)
    return {
        "from_url": from_url,
        "sessions": count,
        "next": _levels(after),
        "previous": _levels(before),
        "next_links": _links(links_after),
        "previous_links": _links(links_before),
    }


Link = tuple[str, int, str, str, int]  # (NEXT or PREVIOUS, step, source page, target page, sessions)
NEXT, PREVIOUS = "next", "previous"


def from_links(from_url: str, sessions: int, rows: Iterable[Link], depth: int) -> dict[str, Any]:
    """The answer from counted steps: `sessions` that saw the page, and for each direction, step
    k (1..depth) and (source, target) pair the sessions whose pages at offsets k - 1 and k were
    those (the target "(exit)" or "(entrance)" where the session had no page at offset k)."""
    levels = {direction: [Counter[str]() for _ in range(depth)] for direction in (NEXT, PREVIOUS)}
    links: dict[str, Counter[tuple[int, str, str]]] = {NEXT: Counter(), PREVIOUS: Counter()}
    for direction, step, source, target, n in rows:
        levels[direction][step - 1][target] += n
        links[direction][(step, source, target)] += n
    return {
        "from_url": from_url,
        "sessions": sessions,
        "next": _levels(levels[NEXT]),
        "previous": _levels(levels[PREVIOUS]),
        "next_links": _links(links[NEXT]),
        "previous_links": _links(links[PREVIOUS]),
    }


def _walk(
    pages: list[str], start: str, levels: list[Counter[str]],
    links: Counter[tuple[int, str, str]], end: str,
) -> None:
    source = start
    for k in range(len(levels)):
        target = pages[k] if k < len(pages) else end
        levels[k][target] += 1
        links[(k + 1, source, target)] += 1
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
