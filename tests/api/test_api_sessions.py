"""GET /api/sessions: every filter and cursor pagination on journeys with known answers."""

from __future__ import annotations

import time

import pytest

from collector.query.sessions import encode_cursor
from tests.support.analytics_journeys import DATE, build, event, item
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter


def listed(client: Client, query: str) -> list[str]:
    answer = client.http.get(f"/api/sessions?site=test&from={DATE}&to={DATE}&{query}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    return [s["id"] for s in answer.json()["sessions"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["s4", "s5", "s3", "s2", "s1"]),  # newest first; s4 began at 23:50
    ("bots=1", ["s4", "sb", "s5", "s3", "s2", "s1"]),
    ("country=DE", ["s3", "s2", "s1"]),
    ("device=mobile", ["s5", "s3"]),
    ("browser=Safari", ["s5", "s3"]),
    ("page=/product/*", ["s4", "s3", "s1"]),
    ("page=/product/:id", ["s4", "s3", "s1"]),
    ("page=https://shop.example/checkout", ["s5"]),
    ("page=/cart", []),
    ("channel=email", ["s4"]),
    ("campaign=spring", ["s4", "s5"]),
    ("converted=1", ["s5", "s1"]),
    ("converted=0", ["s4", "s3", "s2"]),
    ("abandoned=1", ["s3"]),
    ("replay=1", ["s2"]),
    ("frustrated=1", ["s3"]),
    ("min_duration=30", ["s4", "s5", "s1"]),
    ("user=u1", ["s3", "s2"]),
    ("device=mobile&converted=1", ["s5"]),
])
def test_filters(client: Client, query: str, expected: list[str]) -> None:
    build(client)
    assert listed(client, query) == expected


def test_cursor_pagination_walks_every_session_once(client: Client) -> None:
    build(client)
    seen, cursor, pages = [], "", 0
    while True:
        answer = client.http.get(
            f"/api/sessions?site=test&from={DATE}&to={DATE}&limit=2&cursor={cursor}", headers=client.admin
        ).json()
        seen += [s["id"] for s in answer["sessions"]]
        pages += 1
        if answer["next"] is None:
            break
        cursor = answer["next"]
    assert seen == ["s4", "s5", "s3", "s2", "s1"]
    assert pages == 3


def test_session_rows_carry_rollups(client: Client) -> None:
    build(client)
    answer = client.http.get(f"/api/sessions?site=test&from={DATE}&to={DATE}&user=u1", headers=client.admin)
    s3 = answer.json()["sessions"][0]
    assert (s3["visitor_id"], s3["anon_id"], s3["user_id"]) == ("u1", "a3", "u1")
    assert (s3["pageviews"], s3["rage_clicks"], s3["cart_adds"], s3["purchases"]) == (1, 1, 1, 0)
    assert s3["duration_ms"] == 20_000


@pytest.mark.parametrize(("query", "expected"), [
    ("sort=time", ["s4", "s5", "s3", "s2", "s1"]),
    ("sort=time&order=asc", ["s1", "s2", "s3", "s5", "s4"]),
    ("sort=duration", ["s4", "s1", "s5", "s3", "s2"]),  # 30 min, 150 s, 30 s, 20 s, 5 s
    ("sort=duration&order=asc", ["s2", "s3", "s5", "s1", "s4"]),
    ("sort=pages", ["s4", "s1", "s5", "s3", "s2"]),  # 2, 2, 1, 1, 1: equal counts by id
    ("sort=revenue", ["s5", "s1", "s4", "s3", "s2"]),  # 30, 20, then none
    ("sort=revenue&order=asc", ["s2", "s3", "s4", "s1", "s5"]),
    ("sort=revenue&converted=1", ["s5", "s1"]),
])
def test_sort(client: Client, query: str, expected: list[str]) -> None:
    build(client)
    assert listed(client, query) == expected


@pytest.mark.parametrize("sort", ["time", "duration", "pages", "revenue"])
def test_sorted_pages_walk_every_session_once_and_carry_the_total(client: Client, sort: str) -> None:
    build(client)
    whole = listed(client, f"sort={sort}&limit=500")
    seen, cursor = [], ""
    while True:
        answer = client.http.get(
            f"/api/sessions?site=test&from={DATE}&to={DATE}&sort={sort}&limit=2&cursor={cursor}", headers=client.admin
        ).json()
        assert answer["total"] == 5
        seen += [s["id"] for s in answer["sessions"]]
        if answer["next"] is None:
            break
        cursor = answer["next"]
    assert seen == whole and len(seen) == 5


def test_a_cursor_past_the_last_session_gives_an_empty_page_and_the_total(client: Client) -> None:
    build(client)
    last = client.http.get(f"/api/sessions?site=test&from={DATE}&to={DATE}&limit=500",
                           headers=client.admin).json()["sessions"][-1]
    assert last["id"] == "s1"
    answer = client.http.get(f"/api/sessions?site=test&from={DATE}&to={DATE}&device=mobile&limit=2"
                             f"&cursor={encode_cursor(last['first_ts'], last['id'])}", headers=client.admin).json()
    assert answer == {"sessions": [], "total": 2, "next": None}


def test_total_counts_the_filtered_sessions_not_the_page(client: Client) -> None:
    build(client)
    answer = client.http.get(f"/api/sessions?site=test&from={DATE}&to={DATE}&device=mobile&limit=1",
                             headers=client.admin).json()
    assert (answer["total"], len(answer["sessions"])) == (2, 1)


def test_an_effect_is_never_listed_before_its_cause(client: Client) -> None:
    """The SDK holds a click for a second (dead-click check), so the cart add its handler made
    goes out in an earlier batch; each batch's clock offset then differs by its network delay."""
    now = int(time.time() * 1000)
    t = now - 3_600_000
    page = event("pageview", t - 5_000, "sc", "ac", "/product/1")
    cart = event("cart", t, "sc", "ac", "/product/1", action="add", item=item("A", 10.0, 1))
    vital = event("vital", t + 100, "sc", "ac", "/product/1", name="INP", value=40)
    click = event("click", t, "sc", "ac", "/product/1", x=5, y=5, sel="button.add")
    for events, sent_at in (([page, cart, vital], t + 200), ([click], t + 160)):
        answer = client.http.post("/v1/batch", json={"key": "wk_test", "sent_at": sent_at, "events": events})
        assert answer.json() == {"accepted": len(events), "rejected": []}
    one = client.http.get("/api/sessions/sc", headers=client.admin).json()
    stored = {e["type"]: e["ts"] for e in one["events"]}
    assert stored["click"] > stored["cart"]  # as stored, the click's corrected time is the later one
    assert [e["type"] for e in one["events"]] == ["pageview", "click", "cart", "vital"]
