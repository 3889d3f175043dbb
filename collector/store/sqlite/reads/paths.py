"""Paths: the pages visitors see before and after a page, a few steps deep."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from typing import Any

from collector.query.scope import Scope
from collector.store.sqlite.reads.patterns import url_match
from collector.store.sqlite.reads.scope import scope_sql

EXIT = "(exit)"
ENTRANCE = "(entrance)"
TOP = 10


def top_page(conn: sqlite3.Connection, scope: Scope) -> str | None:
    """The most viewed path of human pageviews in the scope's days (the page_days rollup)."""
    found = conn.execute(
        "SELECT path FROM page_days WHERE site_id = ? AND day >= ? AND day <= ? AND path != ''"
        " GROUP BY path ORDER BY sum(pageviews) DESC, path LIMIT 1",
        (scope.site_id, scope.start // 86_400_000, (scope.end - 1) // 86_400_000),
    ).fetchone()
    return found[0] if found else None


def paths(conn: sqlite3.Connection, scope: Scope, from_url: str, depth: int = 3) -> dict[str, Any]:
    """From the first pageview matching `from_url` in each session: the pages after and before.

    Step k counts the sessions whose k-th page after (or before) the matched one is each path;
    a session that ends earlier counts once as "(exit)" (or "(entrance)") and then stops.
    """
    where, args = scope_sql(scope)
    hit, hit_args = url_match(from_url, "e")
    in_scope = {row[0] for row in conn.execute(f"SELECT s.id FROM sessions s WHERE {where}", args)}
    # One pass over the range's pageviews in the covering index events_type_ts_session (a
    # session's events all lie at or after its start): seeking each session's pageviews instead
    # costs an index descent per session, several times more when most sessions saw the page.
    rows = conn.execute(
        f"SELECT e.session_id, e.ts, e.path, {hit} FROM events e"
        " WHERE e.site_id = ? AND e.type = 'pageview' AND e.ts >= ?",
        [*hit_args, scope.site_id, scope.start],
    )
    by_session: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for session_id, ts, path, is_hit in rows:
        if session_id in in_scope:
            by_session[session_id].append((ts, path or "(none)", is_hit))
    after: list[Counter[str]] = [Counter() for _ in range(depth)]
    before: list[Counter[str]] = [Counter() for _ in range(depth)]
    links_after: Counter[tuple[int, str, str]] = Counter()
    links_before: Counter[tuple[int, str, str]] = Counter()
    sessions = 0
    for views in by_session.values():
        views.sort(key=lambda view: view[0])  # stable: views at one instant keep index order
        at = next((i for i, v in enumerate(views) if v[2]), None)
        if at is None:
            continue
        sessions += 1
        pages = [v[1] for v in views]
        _walk(pages[at + 1:], pages[at], after, links_after, EXIT)
        _walk(pages[:at][::-1], pages[at], before, links_before, ENTRANCE)
    return {
        "from_url": from_url,
        "sessions": sessions,
        "next": _levels(after),
        "previous": _levels(before),
        "next_links": _links(links_after),
        "previous_links": _links(links_before),
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
