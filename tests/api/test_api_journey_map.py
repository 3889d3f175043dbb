"""The journey map on journeys with known answers (tests/support/analytics_journeys.py plus a few more).

By hand, with the shop's default stages, for the sessions that started on D or D+1 (the bot and
s6 of D-1 are out): a1 buys in s1 and comes back in s1b to give NPS 10; u1 views a product,
rage-clicks and then calls the call centre; a4 views a product and leaves (recorded); a5 buys
straight from /checkout, which is also its consideration.
"""

from __future__ import annotations

from typing import Any

import pytest

from collector.query.journey import Touch, page_matches
from collector.store.sqlite.reads.patterns import url_match
from tests.support.analytics_journeys import DATE, MIN, NEXT_DATE, D, build, event, send
from tests.support.collector import SECRET, Client, every_adapter

pytestmark = every_adapter

T1, T3, T4 = D + 10 * 60 * MIN, D + 12 * 60 * MIN, D + (23 * 60 + 50) * MIN
RANGE = f"site=test&from={DATE}&to={NEXT_DATE}"


def get(client: Client, path: str, status: int = 200) -> Any:
    answer = client.http.get(path, headers=client.admin)
    assert answer.status_code == status, answer.text
    return answer.json()


def build_journeys(client: Client) -> None:
    build(client)
    send(client, [
        event("pageview", T1 + 300 * MIN, "s1b", "a1", "/"),
        event("survey", T1 + 301 * MIN, "s1b", "a1", "/", kind="nps", score=10),
    ])
    send(client, [{"id": "call", "type": "track", "ts": T3 + 120 * MIN, "user_id": "u1",
                   "name": "support_call", "touchpoint": "call_center"}], key=SECRET)
    replay = client.http.post("/v1/replay", json={
        "key": "wk_test", "session_id": "s4", "anon_id": "a4", "seq": 0,
        "events": [{"type": 4, "timestamp": T4, "data": {}}],
    })
    assert replay.status_code == 200, replay.text


def people(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["name"], r["people"]) for r in rows]


def test_default_stages_on_known_journeys(client: Client) -> None:
    build_journeys(client)
    result = get(client, f"/api/journey-map?{RANGE}")
    assert result["people"] == 4
    assert result["custom_stages"] is False
    stages = {s["key"]: s for s in result["stages"]}
    assert [s["key"] for s in result["stages"]] == ["awareness", "consideration", "purchase", "retention", "advocacy"]
    assert [(s["people"], s["conversion"], s["median_s_to_next"], s["dropped"]) for s in result["stages"]] == [
        (4, 1.0, 930.0, 0),  # waits 60 s (a1), 3600 s (u1), 1800 s (a4), 30 s (a5)
        (4, 1.0, 45.0, 2),  # waits 90 s (a1), 0 s (a5); u1 and a4 leave
        (2, 0.5, 17850.0, 1),  # a1 returns 5 h after the visit began, 150 s in; a5 does not
        (1, 0.5, 60.0, 0),
        (1, 1.0, None, None),
    ]

    awareness = stages["awareness"]
    assert people(awareness["pages"]) == [("/", 3), ("/checkout", 1)]
    assert people(awareness["touchpoints"]) == [("web", 4)]
    assert people(awareness["actions"]) == [
        ("pageview", 4), ("survey nps", 2), ("identify", 1), ("survey ces", 1), ("survey csat", 1),
    ]
    assert awareness["cx"] == {
        "nps": {"responses": 2, "score": 50.0}, "csat": {"responses": 1, "score": 0.0},
        "ces": {"responses": 1, "score": 0.0},
    }
    assert awareness["emotion"] == 35.0  # NPS 10 (+1), NPS 7 (+0.4), CSAT 3/5 (0), CES 3 (0)

    consideration = stages["consideration"]
    assert people(consideration["pages"]) == [("/product/1", 2), ("/product/2", 1)]
    assert people(consideration["touchpoints"]) == [("web", 3), ("call_center", 1)]
    assert people(consideration["actions"]) == [
        ("pageview", 3), ("cart add", 2), ("survey ces", 2), ("survey nps", 2), ("click", 1),
    ]
    assert consideration["cx"] == {
        "nps": {"responses": 2, "score": 0.0}, "csat": {"responses": 1, "score": 100.0},
        "ces": {"responses": 2, "score": 0.0},
    }
    assert consideration["emotion"] == 38.0  # NPS 9, CSAT 5, CES 5, NPS 3, CES 2: (0.8+1+1-0.4-0.5)/5
    assert consideration["friction"] == {
        "sessions": 4, "rage_clicks": 1, "dead_clicks": 0, "errors": 0,
        "rage_per_session": 0.25, "dead_per_session": 0.0, "errors_per_session": 0.0,
    }
    # u1 left by phone after /product/2; a4 left from /product/1, and a4's visit was recorded.
    assert consideration["exits"] == {
        "pages": [{"name": "/product/1", "people": 1}, {"name": "/product/2", "people": 1}],
        "touchpoints": [{"name": "call_center", "people": 1}, {"name": "web", "people": 1}],
    }
    assert consideration["dropped_replays"] == [{"session_id": "s4", "visitor_id": "a4", "ts": T4 + 30 * MIN}]

    purchase = stages["purchase"]
    assert (people(purchase["actions"]), purchase["pages"], purchase["emotion"]) == ([("purchase", 2)], [], None)
    assert purchase["cx"]["nps"] == {"responses": 0, "score": None}
    assert purchase["exits"] == {"pages": [], "touchpoints": [{"name": "web", "people": 1}]}
    assert people(stages["retention"]["pages"]) == [("/", 1)]
    assert stages["advocacy"]["cx"]["nps"] == {"responses": 1, "score": 100.0}
    assert stages["advocacy"]["emotion"] == 100.0


def test_custom_stages_by_touchpoint_channel_and_survey_answer(client: Client) -> None:
    build_journeys(client)
    stages = {"stages": [
        {"key": "visit", "label": "Visit", "match": [{"type": "pageview"}]},
        {"key": "email_reader", "label": "From email", "match": [{"channel": "email"}]},
        {"key": "product", "label": "Product", "match": [{"page": "/product/:id"}]},
    ]}
    answer = client.http.put("/api/journey-map/stages?site=test", json=stages, headers=client.admin)
    assert answer.status_code == 200, answer.text
    assert get(client, "/api/journey-map/stages?site=test")["custom_stages"] is True
    result = get(client, f"/api/journey-map?{RANGE}")
    assert result["custom_stages"] is True
    # Only a4's session came from an email campaign; a4 then views /product/1 30 minutes in.
    assert [(s["key"], s["people"], s["median_s_to_next"]) for s in result["stages"]] == [
        ("visit", 4, 0.0), ("email_reader", 1, 1800.0), ("product", 1, None),
    ]
    calls = {"stages": [
        {"key": "browse", "label": "Browse", "match": [{"type": "pageview"}]},
        {"key": "call", "label": "Call", "match": [{"touchpoint": "call_center"}]},
        {"key": "unhappy", "label": "Unhappy", "match": [{"type": "survey", "name": "nps", "max_score": 6}]},
    ]}
    assert client.http.put("/api/journey-map/stages?site=test", json=calls, headers=client.admin).status_code == 200
    result = get(client, f"/api/journey-map?{RANGE}")
    assert [(s["key"], s["people"]) for s in result["stages"]] == [("browse", 4), ("call", 1), ("unhappy", 0)]
    reset = client.http.delete("/api/journey-map/stages?site=test", headers=client.admin)
    assert (reset.status_code, reset.json()["custom_stages"]) == (200, False)
    assert [s["key"] for s in get(client, f"/api/journey-map?{RANGE}")["stages"]][0] == "awareness"


@pytest.mark.parametrize(("body", "error"), [
    ({"stages": [{"key": "a", "label": "A", "match": [{"type": "pageview"}]}]},
     "invalid stages: Expected `array` of length >= 2 - at `$.stages`"),
    ({"stages": [{"key": "a", "label": "A", "match": [{"type": "teleport"}]},
                 {"key": "b", "label": "B", "match": [{"type": "pageview"}]}]},
     "invalid stages: unknown event type 'teleport' - at `$.stages[0].match[0]`"),
    ({"stages": [{"key": "a", "label": "A", "match": [{}]},
                 {"key": "b", "label": "B", "match": [{"type": "pageview"}]}]},
     "invalid stages: a matcher needs at least one condition - at `$.stages[0].match[0]`"),
    ({"stages": [{"key": "a", "label": "A", "match": [{"new_visit": False}]},
                 {"key": "b", "label": "B", "match": [{"type": "pageview"}]}]},
     "invalid stages: a matcher needs at least one condition - at `$.stages[0].match[0]`"),
    ({"stages": [{"key": "a", "label": "A", "match": [{"type": "pageview"}]},
                 {"key": "a", "label": "B", "match": [{"type": "pageview"}]}]},
     "invalid stages: stage keys must be unique"),
    ({"stages": [{"key": "a", "label": "A", "match": [{"nth": 2}]},
                 {"key": "b", "label": "B", "match": [{"type": "pageview"}]}]},
     "invalid stages: nth counts events of one type: give the type - at `$.stages[0].match[0]`"),
])
def test_bad_stages_are_a_400_and_keep_the_stages_before(client: Client, body: Any, error: str) -> None:
    answer = client.http.put("/api/journey-map/stages?site=test", json=body, headers=client.admin)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert get(client, "/api/journey-map/stages?site=test")["custom_stages"] is False


def test_empty_range_has_every_stage_at_zero(client: Client) -> None:
    result = get(client, "/api/journey-map?site=test&from=2020-01-01&to=2020-01-02")
    assert result["people"] == 0
    assert [(s["people"], s["conversion"], s["median_s_to_next"]) for s in result["stages"]] == [(0, 0.0, None)] * 5


def test_journey_map_needs_the_admin(client: Client) -> None:
    answer = client.http.get(f"/api/journey-map?{RANGE}")
    assert answer.status_code == 401


PAGES = [  # (path, route, url) as ingest stores them: a route for every page (numbers as :id)
    ("/product/12", "/product/:id", "https://shop.example/product/12"),
    ("/product/12/reviews", "/product/:id/reviews", "https://shop.example/product/12/reviews"),
    ("/products/a*b", "/products/a*b", "https://shop.example/products/a*b"),
    ("/", "/", "https://shop.example/"),
    ("/cart", "/cart", "https://shop.example/cart?x=1"),
]
# The pages each pattern matches (indexes into PAGES), worked out by hand from docs/metrics.md.
MATCHED = {
    "/product/*": [0, 1], "/product/:id": [0], "/product/:id/reviews": [1], "/": [3], "/cart": [4],
    "https://shop.example/cart?x=1": [4], "https://shop.example/*": [0, 1, 2, 3, 4], "/products/a*": [2],
    "/nothing": [], "*reviews": [1],
}


def _sql_matches(client: Client, pattern: str) -> list[str]:
    """The ids of the stored pageviews the engine's SQL page rule matches."""
    if client.engine == "sqlite":
        sql, args = url_match(pattern, "e")
        return [r["id"] for r in client.rows(f"SELECT e.id FROM events e WHERE e.type = 'pageview' AND {sql}"
                                             " ORDER BY e.id", *args)]
    from collector.store.clickhouse.reads.scope import url_match as clickhouse_url_match

    db = client.store.db  # type: ignore[attr-defined]
    return [r[0] for r in db.rows(f"SELECT e.id FROM {db.t('events')} AS e WHERE e.type = 'pageview'"
                                  f" AND {clickhouse_url_match(pattern)} ORDER BY e.id")]


@pytest.mark.parametrize("pattern", MATCHED)
def test_stage_page_patterns_match_as_the_sql_patterns_do(client: Client, pattern: str) -> None:
    """The journey map matches pages in Python (any engine); it must agree with each engine's SQL
    rule over the events as the migrations made the table and ingest stored them."""
    send(client, [{**event("pageview", D + 10 * 60 * MIN + i, "s1", "a1"), "id": f"e{i}", "url": url}
                  for i, (_path, _route, url) in enumerate(PAGES)])
    stored = client.rows("SELECT path, route, url FROM events ORDER BY id") if client.engine == "sqlite" else None
    assert stored is None or [tuple(r.values()) for r in stored] == PAGES
    in_python = [
        i for i, (path, route, url) in enumerate(PAGES)
        if page_matches(pattern, Touch("v", "s", 0, 0, "pageview", None, path, route, url, "web", None, False))
    ]
    assert in_python == MATCHED[pattern]
    assert _sql_matches(client, pattern) == [f"e{i}" for i in MATCHED[pattern]]
