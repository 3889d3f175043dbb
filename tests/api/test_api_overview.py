"""GET /api/overview on journeys with known answers (tests/support/analytics_journeys.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.analytics_journeys import (
    DATE,
    DAY_MS,
    MIN,
    NEXT_DATE,
    PREVIOUS_DATE,
    D,
    build,
    event,
    send,
    stamp_session_context,
)
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter


def overview(client: Client, query: str) -> dict[str, Any]:
    answer = client.http.get(f"/api/overview?site=test&{query}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def values(result: dict[str, Any]) -> dict[str, tuple[float, float]]:
    return {name: (m["value"], m["previous"]) for name, m in result["metrics"].items()}


def test_overview_day_with_previous_day(client: Client) -> None:
    build(client)
    result = overview(client, f"from={DATE}&to={DATE}")
    # s4 runs over midnight: it counts on the day it began, with both of its pageviews.
    assert values(result) == {
        "visitors": (4, 1),  # a1, u1 (a2 + a3 merged by identify), a4, a5; the bot is left out
        "sessions": (5, 1),
        "pageviews": (7, 2),
        "bounce_rate": (3 / 5, 0.0),  # s2, s3, s5 have exactly one pageview
        "avg_duration_s": ((150 + 5 + 20 + 1800 + 30) / 5, 40.0),
        "conversion_rate": (2 / 4, 1.0),  # a1 and a5 bought (a5 without a cart)
        "cart_abandonment_rate": (1 / 2, 0.0),  # s3 added to the cart and left
        "revenue": (50.0, 50.0),
        "orders": (2, 1),
        "aov": (25.0, 50.0),
    }
    assert result["metrics"]["visitors"]["change"] == 3.0
    assert result["metrics"]["revenue"]["change"] == 0.0
    assert result["series"] == [{
        "date": DATE, "visitors": 4, "sessions": 5, "pageviews": 7, "bounce_rate": 0.6,
        "revenue": 50.0, "orders": 2,
    }]
    # Top pages count pageviews by their own time: s4's /product/1 was viewed on D+1.
    assert result["pages"] == [
        {"name": "/", "pageviews": 3, "previous": 1},
        {"name": "/checkout", "pageviews": 1, "previous": 0},
        {"name": "/product/1", "pageviews": 1, "previous": 0},
        {"name": "/product/2", "pageviews": 1, "previous": 0},
    ]
    assert result["channels"] == [
        {"name": "direct", "sessions": 2, "previous": 1},
        {"name": "email", "sessions": 1, "previous": 0},
        {"name": "organic", "sessions": 1, "previous": 0},
        {"name": "paid", "sessions": 1, "previous": 0},
    ]
    assert result["campaigns"] == [
        {"name": "(none)", "sessions": 3, "previous": 1},
        {"name": "spring", "sessions": 2, "previous": 0},
    ]
    assert result["devices"] == [
        {"name": "desktop", "sessions": 2, "previous": 1},
        {"name": "mobile", "sessions": 2, "previous": 0},
        {"name": "tablet", "sessions": 1, "previous": 0},
    ]
    assert result["browsers"] == [
        {"name": "Chrome", "sessions": 2, "previous": 1},
        {"name": "Safari", "sessions": 2, "previous": 0},
        {"name": "Firefox", "sessions": 1, "previous": 0},
    ]
    assert result["countries"] == [
        {"name": "DE", "sessions": 3, "previous": 1},
        {"name": "(none)", "sessions": 1, "previous": 0},
        {"name": "FR", "sessions": 1, "previous": 0},
    ]


def test_overview_two_days_series_and_event_time_pages(client: Client) -> None:
    build(client)
    result = overview(client, f"from={DATE}&to={NEXT_DATE}")
    assert [(d["date"], d["sessions"], d["pageviews"]) for d in result["series"]] == [
        (DATE, 5, 7), (NEXT_DATE, 0, 0),
    ]
    assert {p["name"]: p["pageviews"] for p in result["pages"]}["/product/1"] == 2
    assert result["metrics"]["sessions"]["previous"] == 1  # D-2 .. D-1 holds s6


@pytest.mark.parametrize("rolled_up", [True, False])
def test_filtered_overview_equals_rollup_answer(client: Client, rolled_up: bool) -> None:
    """The rollup path (whole days) and the sessions-table path (epoch ms) agree exactly."""
    build(client)
    # An epoch-ms end that is not a day boundary cannot be answered from day rollups.
    query = f"from={DATE}&to={DATE}" if rolled_up else f"from={D}&to={D + DAY_MS - 2}"
    result = overview(client, query)
    assert values(result)["sessions"] == (5, 1)
    assert values(result)["pageviews"] == (7, 2)
    assert result["pages"][0] == {"name": "/", "pageviews": 3, "previous": 1}
    assert result["devices"][0] == {"name": "desktop", "sessions": 2, "previous": 1}


def test_overview_with_filters(client: Client) -> None:
    build(client)
    result = overview(client, f"from={DATE}&to={DATE}&device=mobile")
    assert values(result)["sessions"] == (2, 0)
    assert values(result)["visitors"] == (2, 0)  # u1 (s3) and a5
    assert values(result)["revenue"] == (30.0, 0.0)
    assert result["pages"] == [
        {"name": "/checkout", "pageviews": 1, "previous": 0},
        {"name": "/product/2", "pageviews": 1, "previous": 0},
    ]
    with_bots = overview(client, f"from={DATE}&to={DATE}&bots=1")
    assert values(with_bots)["sessions"] == (6, 1)
    assert values(with_bots)["revenue"] == (149.0, 50.0)
    assert {p["name"]: p["pageviews"] for p in with_bots["pages"]}["/"] == 4


def test_filtered_pages_are_the_pageviews_in_the_range_of_any_session_that_passes(client: Client) -> None:
    # pageviews by their own time: a session open across midnight, one whose last view is the
    # range's first instant, one that ended before it, one going on past its end, another device's
    sessions = {
        "x1": [(D - 10 * MIN, "/late"), (D + 5 * MIN, "/late")],
        "x2": [(D - 30 * MIN, "/edge"), (D, "/edge")],
        "x3": [(D - 60 * MIN, "/gone")],
        "x4": [(D + DAY_MS - 1, "/last"), (D + DAY_MS, "/next")],
        "x5": [(D + 60 * MIN, "/late")],
    }
    for session, views in sessions.items():
        send(client, [event("pageview", ts, session, f"a-{session}", path) for ts, path in views])
        stamp_session_context(client, session, device="desktop" if session == "x5" else "mobile")
    for query in (f"from={DATE}&to={DATE}&device=mobile", f"from={D}&to={D + DAY_MS - 1}&device=mobile"):
        pages = {p["name"]: (p["pageviews"], p["previous"]) for p in overview(client, query)["pages"]}
        assert pages == {"/late": (1, 1), "/edge": (1, 1), "/last": (1, 0)}, query  # pages of the range only


def test_empty_range_is_zeros(client: Client) -> None:
    build(client)
    result = overview(client, "from=2020-01-01&to=2020-01-02")
    assert {name: m for name, m in result["metrics"].items()} == {
        name: {"value": 0 if name in ("visitors", "sessions", "pageviews", "orders") else 0.0,
               "previous": 0 if name in ("visitors", "sessions", "pageviews", "orders") else 0.0,
               "change": None}
        for name in result["metrics"]
    }
    assert len(result["metrics"]) == 10
    assert [d["sessions"] for d in result["series"]] == [0, 0]
    assert result["pages"] == [] and result["channels"] == [] and result["countries"] == []


def test_goal_event_of_a_site_drives_conversion(client: Client) -> None:
    client.http.app.state.store.add_site("goal", "Goal site", key="wk_goal", settings={"goal": "signup"})
    send(client, [
        event("pageview", D + 1000, "g1", "ga", "/"),
        event("track", D + 2000, "g1", "ga", "/", name="signup"),
        event("pageview", D + 3000, "g2", "gb", "/"),
        event("track", D + 4000, "g2", "gb", "/", name="newsletter"),
    ], key="wk_goal")
    result = client.http.get(f"/api/overview?site=goal&from={DATE}&to={DATE}", headers=client.admin).json()
    assert result["metrics"]["conversion_rate"]["value"] == 0.5
    listed = client.http.get(f"/api/sessions?site=goal&from={DATE}&to={DATE}&converted=1", headers=client.admin)
    assert [s["id"] for s in listed.json()["sessions"]] == ["g1"]
    assert PREVIOUS_DATE < DATE
