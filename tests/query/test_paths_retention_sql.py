"""Paths and retention, counted in each engine's SQL, against the Python walks that define them
(collector/query/paths.py `answer`, collector/query/retention.py `answer`) on generated traffic.

The walks read the journeys as generated, not the store: views of one instant (ordered by path,
as the engines read them), sessions that end right after the page or start on it, pages seen
again later in the session, depths past the end of most sessions; for retention, sessions over
eleven weeks in a zone with a DST change, first sessions on either side of local Monday midnight.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

import pytest

from collector.query import paths as shared_paths
from collector.query import retention as shared_retention
from collector.query.days import Calendar
from collector.query.scope import Scope
from collector.store.model import Context, EventRow, WriteBatch
from tests.support.analytics_journeys import DATE, MIN, D, event, send
from tests.support.collector import Client, every_store

PAGES = ("/", "/product/1", "/product/2", "/product/33", "/cart", "/checkout")
SHOP = "https://shop.example"


def matches(pattern: str, path: str) -> bool:
    """The patterns these tests ask about, as url_match reads them (a path, `*`, `/route/:id`, a
    whole URL: the events' URLs are the shop's address and the path)."""
    if pattern.startswith(SHOP):
        return (SHOP + path).startswith(pattern[:-1]) if pattern.endswith("*") else SHOP + path == pattern
    if pattern.endswith("/*"):
        return path.startswith(pattern[:-1])
    if pattern == "/product/:id":
        return path.startswith("/product/") and path.count("/") == 2
    return path == pattern


def journeys(
    rng: random.Random, sessions: int, pages: tuple[str, ...] = PAGES,
) -> tuple[list[list[dict[str, Any]]], list[list[tuple[int, str]]]]:
    """Batches (one per session) and each session's (ts, path) views as generated."""
    batches, views = [], []
    for n in range(sessions):
        session, anon = f"p{n}", f"pa{n}"
        t = D + rng.randrange(0, 20 * 60) * MIN // 2
        events, seen = [], []
        for _ in range(rng.randrange(1, 9)):
            t += rng.choice((0, 0, 1, 1000, 5 * MIN))  # often two views at one instant
            path = rng.choice(pages)
            events.append(event("pageview", t, session, anon, path))
            seen.append((t, path))
            if rng.random() < 0.2:
                events.append(event("click", t, session, anon, path, x=1, y=1))  # not a view
        batches.append(events)
        views.append(seen)
    return batches, views


def reference(
    views: list[list[tuple[int, str]]], from_url: str, depth: int, width: int = shared_paths.WIDTH,
) -> dict[str, Any]:
    # the engines order the views of one instant by path (then by arrival, which only matters
    # between views of the same path: the same page either way)
    ordered = [sorted(seen) for seen in views]
    return shared_paths.answer(
        from_url, [[(ts, path, int(matches(from_url, path))) for ts, path in seen] for seen in ordered], depth, width,
    )


@every_store
@pytest.mark.parametrize("seed", [1, 2])
def test_paths_match_the_walk(client: Client, seed: int) -> None:
    rng = random.Random(seed)
    batches, views = journeys(rng, 120)
    # Each session's events in up to three requests, all sent in a shuffled order: a session's
    # later views often arrive first, in another write than its earlier ones.
    parts = [events[i::3] for events in batches for i in range(3) if events[i::3]]
    rng.shuffle(parts)
    for events in parts:
        send(client, events)
    for from_url in ("/cart", "/", "/product/*", "/product/:id", "/nowhere", f"{SHOP}/cart", f"{SHOP}/product/*"):
        # six pages and the exit fit a column of the default width; narrower ones fold
        for depth, width in ((1, 7), (3, 7), (6, 7), (3, 3), (6, 2)):
            answer = client.http.get(f"/api/paths?site=test&from={DATE}&to={DATE}&from_url={from_url}"
                                     f"&depth={depth}&width={width}", headers=client.admin)
            assert answer.status_code == 200, answer.text
            assert answer.json() == reference(views, from_url, depth, width), (from_url, depth, width)
    # the seeds give every part work to do: exits and entrances at every depth, pages seen twice
    deep = reference(views, "/cart", 6)
    assert deep["sessions"] > 30
    assert all(level["pages"] for level in deep["next"] + deep["previous"])
    assert any(link["target"] == shared_paths.EXIT and link["step"] == 1 for link in deep["next_links"])
    assert any(link["target"] == shared_paths.ENTRANCE and link["step"] == 1 for link in deep["previous_links"])
    assert any(link["target"] == "/cart" for link in deep["next_links"])
    assert reference(views, "/nowhere", 3)["next"] == [{"step": k, "pages": []} for k in (1, 2, 3)]
    assert reference(views, "/cart", 6)["folded"] == {"next": [0] * 6, "previous": [0] * 6}
    narrow = reference(views, "/", 6, 2)
    assert all(narrow["folded"]["next"]) and any(link["source"] == shared_paths.OTHER for link in narrow["next_links"])


@every_store
def test_paths_of_more_pages_than_a_step_table_lists(client: Client) -> None:
    """Columns of more than TOP pages: the step tables list the busiest (ties by path) and the
    flow folds the rest, whatever the width."""
    rng = random.Random(3)
    batches, views = journeys(rng, 300, tuple(f"/product/{n}" for n in range(14)))
    for events in batches:
        send(client, events)
    for width in (3, 7, 12, 20):
        answer = client.http.get(f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/product/*"
                                 f"&depth=3&width={width}", headers=client.admin)
        assert answer.status_code == 200, answer.text
        assert answer.json() == reference(views, "/product/*", 3, width), width
    wide = reference(views, "/product/*", 3, 20)
    assert [len(level["pages"]) for level in wide["next"]] == [shared_paths.TOP] * 3
    assert wide["folded"] == {"next": [0, 0, 0], "previous": [0, 0, 0]}
    assert all(reference(views, "/product/*", 3, 12)["folded"]["next"])


def test_a_column_past_its_width_keeps_its_busiest_pages_and_folds_the_rest() -> None:
    # From "/" to one of five pages (5, 4, 3, 3 and 1 sessions); the first session of each goes on to /z
    sessions = []
    for page, n in (("/a", 5), ("/b", 4), ("/c", 3), ("/d", 3), ("/e", 1)):
        for i in range(n):
            sessions.append([(1, "/", 1), (2, page, 0), *([(3, "/z", 0)] if i == 0 else [])])
    answer = shared_paths.answer("/", sessions, 2, width=3)
    assert answer["sessions"] == 16
    # the step tables are not folded
    assert answer["next"] == [
        {"step": 1, "pages": [{"path": p, "sessions": n} for p, n in (("/a", 5), ("/b", 4), ("/c", 3), ("/d", 3),
                                                                          ("/e", 1))]},
        {"step": 2, "pages": [{"path": "(exit)", "sessions": 11}, {"path": "/z", "sessions": 5}]},
    ]
    # five pages at step 1 are more than three: the two busiest stay, three pages fold into one node,
    # as sources of step 2 too; step 2's two pages fit
    assert answer["folded"] == {"next": [3, 0], "previous": [0, 0]}
    assert [(link["step"], link["source"], link["target"], link["sessions"]) for link in answer["next_links"]] == [
        (1, "/", "(other)", 7), (1, "/", "/a", 5), (1, "/", "/b", 4),
        (2, "(other)", "(exit)", 4), (2, "/a", "(exit)", 4), (2, "(other)", "/z", 3), (2, "/b", "(exit)", 3),
        (2, "/a", "/z", 1), (2, "/b", "/z", 1),
    ]
    assert answer["previous_links"] == [{"step": 1, "source": "/", "target": "(entrance)", "sessions": 16}]
    # a column exactly as wide as allowed is drawn whole
    assert shared_paths.answer("/", sessions, 2, width=5)["folded"] == {"next": [0, 0], "previous": [0, 0]}
    assert shared_paths.answer("/", sessions, 2, width=4)["folded"] == {"next": [2, 0], "previous": [0, 0]}


@every_store
def test_paths_leave_out_bots_and_sessions_before_the_range(client: Client) -> None:
    views = [[(D + MIN, "/"), (D + 2 * MIN, "/cart"), (D + 3 * MIN, "/checkout")]]
    send(client, [event("pageview", ts, "p0", "a0", path) for ts, path in views[0]])
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    send(client, [event("pageview", D + MIN, "pb", "b0", "/cart"), event("pageview", D + 2 * MIN, "pb", "b0", "/")],
         ua=bot)
    # a session that began the evening before and saw the cart after midnight is not in the range
    send(client, [event("pageview", D - 10 * MIN, "py", "y0", "/"), event("pageview", D + MIN, "py", "y0", "/cart")])
    answer = client.http.get(f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/cart", headers=client.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == reference(views, "/cart", 3)
    assert answer.json()["next_links"] == [
        {"step": 1, "source": "/cart", "target": "/checkout", "sessions": 1},
        {"step": 2, "source": "/checkout", "target": "(exit)", "sessions": 1},
    ]


NY = "America/New_York"
# Sunday 2024-11-03 is the day New York falls back; Monday 2024-11-04 starts a week there at 05:00Z
START = dt.datetime(2024, 9, 16, tzinfo=dt.UTC)


def write_sessions(client: Client, rng: random.Random) -> list[tuple[str, int]]:
    """Sessions of 40 visitors over 11 weeks (written through the store's writer: they lie past
    ingest's 7-day window); (visitor, start) of each."""
    rows, starts = [], []
    week = 7 * 86_400_000
    for v in range(40):
        visitor = f"v{v}"
        first = int(START.timestamp() * 1000) + rng.randrange(0, 6 * week)
        for k in range(rng.randrange(1, 6)):
            # often right at a Monday midnight in New York or in UTC, on either side
            ts = first + (k and rng.randrange(0, 5 * week))
            if rng.random() < 0.3:
                monday = Calendar(NY).day_start(((ts // 86_400_000 - 4) // 7) * 7 + 4)
                ts = monday + rng.choice((-1, 0, 1))
            sid = f"r{v}-{k}"
            rows.append(EventRow(id=f"{sid}-pv", type="pageview", ts=ts, client_ts=ts, anon_id=visitor,
                                 user_id=None, session_id=sid, url=SHOP + "/", path="/", route=None, name=None,
                                 data=b"{}"))
            starts.append((visitor, ts))
    client.store.write_sync(WriteBatch(site_id="test", received_at=max(r.ts for r in rows),
                                       context=Context(device="desktop"), events=rows))
    return starts


@every_store
@pytest.mark.parametrize("zone", ["UTC", NY])
def test_retention_matches_the_walk(client: Client, zone: str) -> None:
    starts = write_sessions(client, random.Random(7))
    answer = client.http.patch("/api/sites/test", json={"timezone": zone}, headers=client.admin)
    assert answer.status_code == 200, answer.text
    calendar = Calendar(zone)
    for first, last, weeks in (("2024-09-16", "2024-10-20", 8), ("2024-10-01", "2024-11-10", 3),
                               ("2024-11-04", "2024-11-04", 12), ("2025-01-01", "2025-01-31", 8)):
        answer = client.http.get(f"/api/retention?site=test&from={first}&to={last}&weeks={weeks}", headers=client.admin)
        assert answer.status_code == 200, answer.text
        start, end = calendar.span(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
        scope = Scope("test", start, end, calendar=calendar)
        expected = shared_retention.answer(scope, starts, weeks)
        assert answer.json() == expected, (first, last, weeks)
    # the cohorts counted are not all trivial: some visitors came back in later weeks
    scope = Scope("test", *calendar.span(dt.date(2024, 9, 16), dt.date(2024, 10, 20)), calendar=calendar)
    cohorts = shared_retention.answer(scope, starts, 8)["cohorts"]
    assert len(cohorts) >= 4 and any(sum(c["retained"][1:]) > 0 for c in cohorts)


def test_retention_weeks_by_visitor_not_session() -> None:
    # the walk itself, by hand: v1 first seen Monday 2024-09-16, back twice in week +1 (one
    # visitor once) and once in week +3; v2 first seen in week +1; v3 first seen before the range
    day = 86_400_000
    monday = int(START.timestamp() * 1000)
    starts = [("v1", monday), ("v1", monday + 8 * day), ("v1", monday + 9 * day), ("v1", monday + 22 * day),
              ("v2", monday + 7 * day), ("v3", monday - day), ("v3", monday + 2 * day)]
    scope = Scope("test", monday, monday + 14 * day)
    by_week = defaultdict(list)
    for cohort in shared_retention.answer(scope, starts, 4, now=monday + 60 * day)["cohorts"]:
        by_week[cohort["week"]] = cohort["retained"]
    # v3 began the day before the range: no cohort of the range holds them
    assert dict(by_week) == {"2024-09-16": [1, 1, 0, 1], "2024-09-23": [1, 0, 0, 0]}
