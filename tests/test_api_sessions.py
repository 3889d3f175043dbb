"""GET /api/sessions: every filter and cursor pagination on journeys with known answers."""

from __future__ import annotations

import pytest

from tests.analytics_journeys import DATE, build
from tests.conftest import Client, every_store

pytestmark = every_store


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
