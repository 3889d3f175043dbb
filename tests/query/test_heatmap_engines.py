"""Heatmaps on generated traffic: ClickHouse's answers (clicks read from columns kept on insert,
scroll views found in per-session arrays) held to SQLite's, which answers from its rollups or
its events by the rules in collector/store/sqlite/reads/heatmap.py.

The traffic has what makes those rules bite: several scroll reports of one pageview (the latest
counts), reports at the very time of their pageview or of one another, a page seen twice in a session, reports of
a page without a pageview of it, clicks without element or page coordinates, dead and rage
clicks, three device widths, a bot, and sessions running over midnight.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from tests.support.analytics_journeys import CHROME, DATE, DAY_MS, GOOGLEBOT, MIN, NEXT_DATE, PREVIOUS_DATE, SHOP, D
from tests.support.collector import ADMIN_TOKEN, KEY, open_engine
from tests.support.fixtures import make_settings

PAGES = ("/", "/product/1", "/product/2", "/product/33", "/cart")
WIDTHS = (390, 820, 1440)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def adder(rng: random.Random, events: list[dict[str, Any]], sid: str, anon: str, vw: int) -> Any:
    def add(kind: str, path: str, ts: int, **fields: Any) -> None:
        events.append({"id": str(uuid.UUID(int=rng.getrandbits(128))), "type": kind, "ts": ts,
                       "session_id": sid, "anon_id": anon, "url": SHOP + path, "vw": vw, **fields})

    return add


def traffic(rng: random.Random, sessions: int) -> Iterator[tuple[list[dict[str, Any]], str]]:
    """Batches of events, one per session, with the user agent to send them with."""
    for n in range(sessions):
        sid, anon = f"h{n}", f"ha{n % 40}"
        t = D - DAY_MS // 2 + rng.randrange(0, 2 * DAY_MS)
        vw = rng.choice(WIDTHS)
        events: list[dict[str, Any]] = []
        add = adder(rng, events, sid, anon, vw)
        for index in range(rng.randrange(1, 6)):
            # A pageview may share its instant with the report before it, stored after it: the
            # report is then of the pageview's view (SQLite counts the session's views again).
            t += rng.choice((0, 1, 1000, 5 * MIN, 3 * 60 * MIN))
            path = rng.choice(PAGES)
            if index == 0 or rng.random() < 0.9:  # else reports of a page with no pageview of it
                add("pageview", path, t)
            for _ in range(rng.randrange(0, 3)):
                t += rng.choice((0, 0, 500, 4000))
                fields: dict[str, Any] = {"sel": rng.choice(("button.buy", "a.home", "#nav"))}
                if rng.random() < 0.8:
                    fields |= {"rx": rng.random(), "ry": rng.random()}
                if rng.random() < 0.8:
                    fields |= {"x": rng.randrange(1400), "y": rng.randrange(3000)}
                if rng.random() < 0.1:
                    fields.pop("sel")
                add("click", path, t, tag="button", text=rng.choice(("Buy", "Home")),
                    dead=rng.random() < 0.2, rage=rng.random() < 0.2, **fields)
            for _ in range(rng.randrange(0, 4)):
                t += rng.choice((0, 0, 1, 2000))
                report: dict[str, Any] = {"depth": rng.randrange(5, 101)}
                if rng.random() < 0.8:
                    report["vh"] = rng.choice((700, 800))
                add("scroll", path, t, **report)
        yield events, GOOGLEBOT if n % 17 == 5 else CHROME


@pytest.fixture
def engines(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, TestClient]]:
    """One app per engine, each on its own store."""
    clients: dict[str, TestClient] = {}
    try:
        for engine in ("sqlite", "chdb"):
            folder = tmp_path / engine
            folder.mkdir()
            store = open_engine(engine, folder, request)
            http = TestClient(create_app(make_settings(folder / "trailmark.db"), store),
                              base_url="http://127.0.0.1:8000")
            clients[engine] = http.__enter__()
        yield clients
    finally:
        for http in clients.values():
            http.__exit__(None, None, None)


def answers(http: TestClient, query: str, path: str = "/api/heatmap") -> Any:
    answer = http.get(f"{path}?site=test&{query}", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("seed", [1, 2])
def test_clickhouse_heatmaps_match_sqlite(engines: dict[str, TestClient], seed: int) -> None:
    rng = random.Random(seed)
    sent = 0
    for events, agent in traffic(rng, 90):
        for http in engines.values():
            answer = http.post("/v1/batch", json={"key": KEY, "events": events}, headers={"User-Agent": agent})
            assert answer.status_code == 200, answer.text
        sent += len(events)
    assert sent > 700
    asked = 0
    # whole UTC days (SQLite's rollups), then the site's own midnights (its events)
    for zone, days in ((None, f"from={DATE}&to={DATE}"), (None, f"from={PREVIOUS_DATE}&to={NEXT_DATE}"),
                       ("America/New_York", f"from={DATE}&to={NEXT_DATE}")):
        if zone:
            for http in engines.values():
                changed = http.patch("/api/sites/test", json={"timezone": zone}, headers=ADMIN)
                assert changed.status_code == 200, changed.text
        pages = {engine: answers(http, days, "/api/heatmap/pages") for engine, http in engines.items()}
        assert pages["chdb"] == pages["sqlite"], days
        assert pages["sqlite"]["pages"], days
        for url in ("/", "/product/1", "/product/:id", "/product/*", f"{SHOP}/cart", "/nowhere"):
            for extra in ("kind=click", "kind=click&device=mobile", "kind=click&rage=1", "kind=scroll",
                          "kind=scroll&device=desktop"):
                query = f"{days}&url={url}&{extra}"
                found = {engine: answers(http, query) for engine, http in engines.items()}
                assert found["chdb"] == found["sqlite"], query
                asked += 1
    assert asked == 90


def test_scroll_views_across_midnight_are_counted_by_their_latest_report(engines: dict[str, TestClient]) -> None:
    """A view belongs to the day of its latest report, wherever its pageview and earlier reports
    fall: ClickHouse reads events only from the range's first day on, which must not change which
    reports are of one view, nor lose a later report after the range's last day."""
    rng = random.Random(7)
    sessions: list[list[dict[str, Any]]] = []
    for sid, steps in (
        # pageview the day before, its one report just after midnight: counted on DATE
        ("m1", [("pageview", "/", D - 60_000, {}), ("scroll", "/", D + 1_000, {"depth": 30, "vh": 700})]),
        # reported on DATE, then again after the next midnight: the view is NEXT_DATE's
        ("m2", [("pageview", "/", D + DAY_MS - 2_000, {}), ("scroll", "/", D + DAY_MS - 1_000, {"depth": 20}),
                ("scroll", "/", D + DAY_MS + 1_000, {"depth": 90, "vh": 800})]),
        # "/" seen the day before and again on DATE: two views, DATE holds only the second
        ("m3", [("pageview", "/", D - 3_600_000, {}), ("scroll", "/", D - 3_599_000, {"depth": 40}),
                ("pageview", "/cart", D - 1_800_000, {}), ("pageview", "/", D + 3_600_000, {}),
                ("scroll", "/", D + 3_601_000, {"depth": 60})]),
    ):
        events: list[dict[str, Any]] = []
        add = adder(rng, events, sid, f"a{sid}", 1440)
        for kind, path, ts, fields in steps:
            add(kind, path, ts, **fields)
        sessions.append(events)
    for http in engines.values():
        for events in sessions:
            answer = http.post("/v1/batch", json={"key": KEY, "events": events}, headers={"User-Agent": CHROME})
            assert answer.status_code == 200, answer.text
    for days, views, depth, fold in ((f"from={DATE}&to={DATE}", 2, 45.0, 700.0),
                                     (f"from={NEXT_DATE}&to={NEXT_DATE}", 1, 90.0, 800.0),
                                     (f"from={PREVIOUS_DATE}&to={PREVIOUS_DATE}", 1, 40.0, None)):
        for engine, http in engines.items():
            scroll = answers(http, f"{days}&url=/&kind=scroll")
            assert (scroll["views"], scroll["avg_depth"], scroll["avg_fold_px"]) == (views, depth, fold), (engine, days)
            pages = answers(http, days, "/api/heatmap/pages")["pages"]
            assert pages == [{"route": "/", "clicks": 0, "scroll_views": views}], (engine, days)


def test_a_scroll_view_passes_a_filter_by_its_latest_report_alone(engines: dict[str, TestClient]) -> None:
    """A view is judged by its latest report even where an earlier report of it would pass the
    filter (ClickHouse keeps the session for such a report, then must still drop the view), and a
    report at the very instant of a pageview is of that pageview's view."""
    rng = random.Random(11)
    events: list[dict[str, Any]] = []
    add = adder(rng, events, "f1", "af1", 390)
    add("pageview", "/product/1", D + 1_000)
    add("scroll", "/product/1", D + 2_000, depth=30, vh=700)  # on a phone's width...
    events.append({**events[-1], "id": str(uuid.UUID(int=rng.getrandbits(128))), "ts": D + 3_000,
                   "vw": 1440, "depth": 70, "vh": 800})  # ...then wider: the view is a desktop's
    add("pageview", "/product/1", D + 4_000)  # seen again; its report at the very same instant
    add("scroll", "/product/1", D + 4_000, depth=50)
    for http in engines.values():
        answer = http.post("/v1/batch", json={"key": KEY, "events": events}, headers={"User-Agent": CHROME})
        assert answer.status_code == 200, answer.text
    days = f"from={DATE}&to={DATE}"
    for engine, http in engines.items():
        found = {device: answers(http, f"{days}&url=/product/*&kind=scroll&device={device}")
                 for device in ("mobile", "desktop")}
        assert (found["mobile"]["views"], found["mobile"]["avg_depth"]) == (1, 50.0), engine
        assert (found["desktop"]["views"], found["desktop"]["avg_depth"], found["desktop"]["avg_fold_px"]) == (
            1, 70.0, 800.0), engine
        pages = answers(http, days, "/api/heatmap/pages")["pages"]
        assert pages == [{"route": "/product/:id", "clicks": 0, "scroll_views": 2}], engine


def test_a_pageview_arriving_late_splits_the_scroll_view_it_falls_in(engines: dict[str, TestClient]) -> None:
    """Two reports of one URL are of one view only while no pageview of the session lies between
    them: a pageview that arrives after both (a retried batch, a slow connection) makes them two
    views, each counted, as if it had arrived in time; one that arrives after a single report
    changes nothing."""
    rng = random.Random(13)
    early: list[dict[str, Any]] = []
    add = adder(rng, early, "l1", "al1", 1440)
    add("pageview", "/product/1", D + 1_000)
    add("scroll", "/product/1", D + 2_000, depth=30, vh=700)
    add("scroll", "/product/1", D + 4_000, depth=80, vh=800)
    add("scroll", "/cart", D + 5_000, depth=10)  # a report with no pageview of its URL before it
    late: list[dict[str, Any]] = []
    adder(rng, late, "l1", "al1", 1440)("pageview", "/product/1", D + 3_000)
    adder(rng, late, "l1", "al1", 1440)("pageview", "/cart", D + 6_000)  # after the only /cart report
    days = f"from={DATE}&to={DATE}"
    for engine, http in engines.items():
        for events in (early, late):
            answer = http.post("/v1/batch", json={"key": KEY, "events": events}, headers={"User-Agent": CHROME})
            assert answer.status_code == 200, answer.text
        scroll = answers(http, f"{days}&url=/product/1&kind=scroll")
        assert (scroll["views"], scroll["avg_depth"], scroll["avg_fold_px"]) == (2, 55.0, 750.0), engine
        pages = answers(http, days, "/api/heatmap/pages")["pages"]
        assert pages == [{"route": "/product/:id", "clicks": 0, "scroll_views": 2},
                         {"route": "/cart", "clicks": 0, "scroll_views": 1}], engine
