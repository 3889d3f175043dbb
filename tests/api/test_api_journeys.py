"""Paths, commerce, surveys, people and retention on journeys with known answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from collector.store.model import Context, EventRow, WriteBatch
from tests.support.analytics_journeys import DATE, DAY_MS, MIN, NEXT_DATE, D, build, event, send
from tests.support.collector import SECRET, Client, every_adapter

pytestmark = every_adapter


def get(client: Client, path: str) -> dict[str, Any]:
    answer = client.http.get(path, headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_paths_from_home(client: Client) -> None:
    build(client)
    result = get(client, f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/&depth=2")
    assert result["sessions"] == 3  # s1, s2, s4 (the bot's visit is left out)
    assert result["next"] == [
        {"step": 1, "pages": [{"path": "/product/1", "sessions": 2}, {"path": "(exit)", "sessions": 1}]},
        {"step": 2, "pages": [{"path": "(exit)", "sessions": 2}]},
    ]
    assert result["previous"] == [
        {"step": 1, "pages": [{"path": "(entrance)", "sessions": 3}]},
        {"step": 2, "pages": []},
    ]
    assert result["next_links"] == [
        {"step": 1, "source": "/", "target": "/product/1", "sessions": 2},
        {"step": 1, "source": "/", "target": "(exit)", "sessions": 1},
        {"step": 2, "source": "/product/1", "target": "(exit)", "sessions": 2},
    ]


def test_paths_refuse_a_width_that_draws_nothing(client: Client) -> None:
    build(client)
    rng = f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/&depth=2"
    # two pages at step 1 fit the narrowest column (folding itself: tests/query/test_paths_retention_sql.py)
    assert get(client, f"{rng}&width=2") == get(client, rng)
    assert get(client, rng)["folded"] == {"next": [0, 0], "previous": [0, 0]}
    for width in ("1", "101", "wide"):
        answer = client.http.get(f"{rng}&width={width}", headers=client.admin)
        assert answer.status_code == 400 and "width" in answer.json()["error"], answer.text


def test_paths_without_a_page_start_from_the_most_viewed_one(client: Client) -> None:
    build(client)
    chosen = get(client, f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/&depth=2")
    default = get(client, f"/api/paths?site=test&from={DATE}&to={DATE}&depth=2")
    assert default["from_url"] == "/"  # the home page has the most human pageviews that day
    assert default == chosen
    empty = get(client, "/api/paths?site=test&from=2001-01-01&to=2001-01-01")
    assert (empty["from_url"], empty["sessions"]) == ("/", 0)


def test_paths_into_a_product_page(client: Client) -> None:
    build(client)
    result = get(client, f"/api/paths?site=test&from={DATE}&to={DATE}&from_url=/product/:id&depth=1")
    assert result["sessions"] == 3  # s1 and s4 via /product/1, s3 via /product/2
    assert result["previous"] == [
        {"step": 1, "pages": [{"path": "/", "sessions": 2}, {"path": "(entrance)", "sessions": 1}]},
    ]
    assert result["next"] == [{"step": 1, "pages": [{"path": "(exit)", "sessions": 3}]}]


def test_commerce(client: Client) -> None:
    build(client)
    result = get(client, f"/api/commerce?site=test&from={DATE}&to={NEXT_DATE}")
    assert (result["revenue"], result["orders"], result["aov"]) == (50.0, 2, 25.0)
    assert result["series"] == [
        {"date": DATE, "revenue": 50.0, "orders": 2},
        {"date": NEXT_DATE, "revenue": 0.0, "orders": 0},
    ]
    assert result["products"] == [  # o2 came without a cart: it still counts
        {"sku": "C", "name": "Item C", "quantity": 1, "revenue": 30.0, "orders": 1},
        {"sku": "A", "name": "Item A", "quantity": 2, "revenue": 20.0, "orders": 1},
    ]
    assert (result["cart_sessions"], result["abandoned_sessions"], result["cart_abandonment_rate"]) == (2, 1, 0.5)
    (abandoned,) = result["abandoned"]
    assert {k: abandoned[k] for k in ("id", "visitor_id", "cart_adds", "cart_value", "has_replay")} == {
        "id": "s3", "visitor_id": "u1", "cart_adds": 1, "cart_value": 5.0, "has_replay": False,
    }


def test_commerce_from_the_rollup_equals_commerce_from_the_sessions(client: Client) -> None:
    build(client)
    whole_days = get(client, f"/api/commerce?site=test&from={DATE}&to={NEXT_DATE}")
    # the same sessions, but a range that does not end on a UTC midnight: read from the sessions
    inner = get(client, f"/api/commerce?site=test&from={D + 1}&to={D + 2 * DAY_MS - 2}")
    assert inner == whole_days
    assert (inner["revenue"], inner["cart_sessions"], inner["abandoned_sessions"]) == (50.0, 2, 1)


def test_commerce_empty_range(client: Client) -> None:
    build(client)
    result = get(client, "/api/commerce?site=test&from=2020-01-01&to=2020-01-01")
    assert (result["revenue"], result["orders"], result["aov"], result["cart_abandonment_rate"]) == (0.0, 0, 0.0, 0.0)
    assert result["products"] == [] and result["abandoned"] == []


def test_surveys(client: Client) -> None:
    build(client)
    result = get(client, f"/api/surveys?site=test&from={DATE}&to={DATE}")
    # NPS answers 9, 3, 10, 7 (the bot's 0 is left out; s4's 10 came after midnight but
    # its session began on D): promoters 2, passives 1, detractors 1.
    assert result["nps"] == {
        "responses": 4, "score": 25.0, "promoters": 2, "passives": 1, "detractors": 1,
        "distribution": {str(s): {3: 1, 7: 1, 9: 1, 10: 1}.get(s, 0) for s in range(11)},
    }
    assert result["csat"] == {
        "responses": 2, "score": 50.0, "satisfied": 1, "mean": 4.0,
        "by_scale": {"5": {"responses": 2, "score": 50.0, "mean": 4.0,
                           "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}}},
    }
    assert result["ces"] == {
        "responses": 3, "score": 0.0, "easy": 1, "neutral": 1, "difficult": 1, "mean": 10 / 3,
        "distribution": {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1},
    }
    assert result["trend"] == [{
        "date": DATE,
        "nps": {"responses": 4, "score": 25.0},
        "csat": {"responses": 2, "score": 50.0},
        "ces": {"responses": 3, "score": 0.0},
    }]
    assert [(c["session_id"], c["visitor_id"], c["kind"], c["score"], c["comment"]) for c in result["comments"]] == [
        ("s4", "a4", "nps", 10, "great"),
        ("s3", "u1", "nps", 3, "too slow"),
    ]
    assert result["by_channel"]["nps"] == [
        {"name": "direct", "responses": 1, "score": -100.0},
        {"name": "email", "responses": 1, "score": 100.0},
        {"name": "organic", "responses": 1, "score": 100.0},
        {"name": "paid", "responses": 1, "score": 0.0},
    ]
    assert result["by_device"]["nps"] == [
        {"name": "mobile", "responses": 2, "score": -50.0},
        {"name": "desktop", "responses": 1, "score": 100.0},
        {"name": "tablet", "responses": 1, "score": 100.0},
    ]
    assert result["by_device"]["csat"] == [
        {"name": "desktop", "responses": 1, "score": 100.0},
        {"name": "mobile", "responses": 1, "score": 0.0},
    ]


def test_surveys_empty_range(client: Client) -> None:
    result = get(client, "/api/surveys?site=test&from=2020-01-01&to=2020-01-01")
    assert (result["nps"]["score"], result["csat"]["score"], result["csat"]["mean"], result["ces"]["score"]) == (
        0.0, 0.0, 0.0, 0.0,
    )
    assert result["comments"] == []


def test_person_by_user_and_by_each_anonymous_id(client: Client) -> None:
    build(client)
    by_user = get(client, "/api/persons/u1?site=test")
    assert (by_user["id"], by_user["user_id"], by_user["anon_ids"]) == ("u1", "u1", ["a2", "a3"])
    assert by_user["traits"] == {"plan": "pro", "email_domain": "example.com"}
    assert [s["id"] for s in by_user["sessions"]] == ["s3", "s2"]
    assert [(e["name"], e["score"]) for e in by_user["surveys"]] == [("nps", 3), ("ces", 2)]
    assert by_user["purchases"] == [] and by_user["revenue"] == 0.0
    assert get(client, "/api/persons/a2?site=test") == by_user
    assert get(client, "/api/persons/a3?site=test") == by_user


def test_anonymous_person_with_a_purchase(client: Client) -> None:
    build(client)
    a1 = get(client, "/api/persons/a1?site=test")
    assert (a1["id"], a1["user_id"], a1["anon_ids"], a1["traits"]) == ("a1", None, ["a1"], {})
    assert [(p["order_id"], p["value"]) for p in a1["purchases"]] == [("o1", 20.0)]
    assert a1["revenue"] == 20.0
    missing = client.http.get("/api/persons/nobody?site=test", headers=client.admin)
    assert (missing.status_code, missing.json()) == (404, {"error": "no such person"})


def write_session(client: Client, visitor: str, day: str, hour: int = 10) -> None:
    """Retention spans weeks, past ingest's 7-day window: written through the store's writer
    (the same transaction code that /v1/batch uses), not over HTTP."""
    ts = int(dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp() * 1000)
    row = EventRow(id=str(uuid.uuid4()), type="pageview", ts=ts, client_ts=ts, anon_id=visitor, user_id=None,
                   session_id=f"{visitor}-{day}", url="https://shop.example/", path="/", route=None,
                   name=None, data=b"{}")
    client.http.app.state.store.writer.write_sync(
        WriteBatch(site_id="test", received_at=ts, context=Context(), events=[row])
    )


def test_weekly_retention_by_first_visit(client: Client) -> None:
    for visitor, day, hour in [
        ("r1", "2025-03-03", 10), ("r1", "2025-03-12", 10), ("r1", "2025-03-25", 10),
        ("r2", "2025-03-09", 23), ("r2", "2025-03-10", 1),  # Sunday, then Monday: the next week
        ("r3", "2025-03-11", 10),
        ("r4", "2025-02-20", 10), ("r4", "2025-03-04", 10),  # first visit before the range
    ]:
        write_session(client, visitor, day, hour)
    result = get(client, "/api/retention?site=test&from=2025-03-03&to=2025-03-31&weeks=4")
    assert result == {"weeks": 4, "current_week": this_monday().isoformat(), "cohorts": [
        {"week": "2025-03-03", "visitors": 2, "retained": [2, 2, 0, 1], "rates": [1.0, 1.0, 0.0, 0.5]},
        {"week": "2025-03-10", "visitors": 1, "retained": [1, 0, 0, 0], "rates": [1.0, 0.0, 0.0, 0.0]},
    ]}
    assert get(client, "/api/retention?site=test&from=2024-01-01&to=2024-02-01") == {
        "weeks": 8, "current_week": this_monday().isoformat(), "cohorts": []}


def this_monday() -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=today.weekday())


def test_retention_weeks_that_have_not_happened_are_none_not_zero(client: Client) -> None:
    monday = this_monday()
    last_week, this_week = monday - dt.timedelta(days=7), monday
    for visitor, day in [("f1", last_week), ("f2", last_week), ("f2", this_week), ("f3", this_week)]:
        write_session(client, visitor, day.isoformat(), 1)
    start = (monday - dt.timedelta(days=7)).isoformat()
    result = get(client, f"/api/retention?site=test&from={start}&to={monday.isoformat()}&weeks=3")
    assert result == {"weeks": 3, "current_week": monday.isoformat(), "cohorts": [
        {"week": last_week.isoformat(), "visitors": 2, "retained": [2, 1, None], "rates": [1.0, 0.5, None]},
        {"week": this_week.isoformat(), "visitors": 1, "retained": [1, None, None], "rates": [1.0, None, None]},
    ]}


def test_retention_without_an_end_follows_every_cohort_to_now(client: Client) -> None:
    """No `to`: the range is open, and the weeks followed stop where stored times do."""
    for visitor, day, hour in [("o1", "2025-03-03", 10), ("o1", "2025-03-12", 10), ("o2", "2025-03-11", 10)]:
        write_session(client, visitor, day, hour)
    result = get(client, "/api/retention?site=test&from=2025-03-03&weeks=2")
    assert result == {"weeks": 2, "current_week": this_monday().isoformat(), "cohorts": [
        {"week": "2025-03-03", "visitors": 1, "retained": [1, 1], "rates": [1.0, 1.0]},
        {"week": "2025-03-10", "visitors": 1, "retained": [1, 0], "rates": [1.0, 0.0]},
    ]}


def test_people_list_counts_every_session_of_a_visitor_in_the_range(client: Client) -> None:
    build(client)
    send(client, [event("pageview", D - 2 * 3_600_000, "s0", "a1", "/")])  # a1 once more, the day before
    q = f"/api/persons?site=test&from={DATE}&to={DATE}"
    result = get(client, f"{q}&sort=sessions")
    assert result["total"] == 4
    assert [(p["id"], p["user_id"], p["sessions"], p["all_sessions"], p["purchases"], p["revenue"])
            for p in result["people"]] == [
        ("u1", "u1", 2, 2, 0, 0.0),  # s2 and s3 after identify
        ("a5", None, 1, 1, 1, 30.0),
        ("a4", None, 1, 1, 0, 0.0),
        ("a1", None, 1, 2, 1, 20.0),  # s1 in the range; s0 and s1 over all time
    ]
    assert [p["id"] for p in get(client, f"{q}&sort=revenue")["people"]] == ["a5", "a1", "u1", "a4"]
    assert [p["id"] for p in get(client, f"{q}&sort=revenue&order=asc")["people"]] == ["a4", "u1", "a1", "a5"]
    pages = [get(client, f"{q}&sort=sessions&limit=3&offset={offset}") for offset in (0, 3, 6)]
    assert [[p["id"] for p in page["people"]] for page in pages] == [["u1", "a5", "a4"], ["a1"], []]
    assert [page["total"] for page in pages] == [4, 4, 4]
    u1 = result["people"][0]
    assert (u1["first_ts"], u1["last_ts"]) == (D + 11 * 60 * 60_000, D + 12 * 60 * 60_000 + 20_000)


def test_person_timeline_joins_web_visits_calls_emails_and_store_purchases(client: Client) -> None:
    build(client)
    t3 = D + 12 * 60 * MIN
    # The site's backend reports u1's contacts elsewhere: no session, no page.
    backend = [
        {"id": "call", "type": "track", "ts": t3 + 120 * MIN, "user_id": "u1", "name": "support_call",
         "props": {"topic": "refund"}, "touchpoint": "call_center"},
        {"id": "mail", "type": "track", "ts": t3 + 180 * MIN, "user_id": "u1", "name": "email_opened",
         "touchpoint": "email"},
        {"id": "till", "type": "purchase", "ts": t3 + 300 * MIN, "user_id": "u1", "order_id": "pos-1",
         "value": 40.0, "touchpoint": "store"},
    ]
    send(client, backend, key=SECRET)
    u1 = get(client, "/api/persons/u1?site=test")
    line = [
        (e["entry"], e["touchpoint"], e.get("session_id") if e["entry"] == "visit" else e.get("name"),
         e.get("has_replay"))
        for e in u1["timeline"]
    ]
    assert line == [
        ("visit", "web", "s2", True),
        ("visit", "web", "s3", False),
        ("contact", "web", "nps", None),
        ("contact", "web", "ces", None),
        ("contact", "call_center", "support_call", None),
        ("contact", "email", "email_opened", None),
        ("contact", "store", "pos-1", None),
    ]
    assert [e["ts"] for e in u1["timeline"]] == sorted(e["ts"] for e in u1["timeline"])
    assert u1["revenue"] == 40.0
    assert [p["order_id"] for p in u1["purchases"]] == ["pos-1"]
