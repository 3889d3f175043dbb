"""Experiments through the API: definitions, exact per-variant counts on hand-made journeys, the
experiment and variant filters on every endpoint, and the 4xx of bad requests.

Day D is three days ago. Experiment `cta` (control, green; 50/50; goal: purchase):

| visitor | sessions     | exposures (D)                 | afterwards                     | counted in          |
|---------|--------------|-------------------------------|--------------------------------|---------------------|
| a1      | s1 (1 page)  | control 10:00                 | purchase 20; nps 9 before      | control, converts   |
| a2      | s2 (2 pages) | control 10:00                 | purchase 15 at 09:00 (before)  | control             |
| a3      | s3 (1), s3b  | green 11:00                   | D+1: purchase 40, nps 10 (s3b) | green, converts     |
| a4      | s4 (3 pages) | green 12:00, control 12:10    | nps 3                          | green, crossed      |
| u5      | s5 (a5), s5b | control 13:00 and 13:30 (s5b) | purchase 10 (s5b)              | control once        |
| bot     | sb           | green 15:00 (Googlebot)       | purchase 99                    | nowhere             |
| a6      | s6           | purple 16:00                  |                                | unexpected variant  |
| a7      | s7           | hero/b (another experiment)   |                                | nowhere             |
Sessions s1 and s3 bounce (one pageview).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.analytics_journeys import DATE, GOOGLEBOT, MIN, NEXT_DATE, D, event, send
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter
H = 60 * MIN
CTA = {"site": "test", "key": "cta", "name": "Checkout button", "variants": ["control", "green"],
       "metrics": ["revenue", "nps"], "hypothesis": "A green button is seen more easily"}


def exposure(ts: int, session: str, anon: str, variant: str, key: str = "cta", **fields: Any) -> dict[str, Any]:
    return event("exposure", ts, session, anon, "/", experiment=key, variant=variant, **fields)


def build(client: Client) -> None:
    send(client, [
        event("survey", D + 10 * H - MIN, "s1", "a1", "/", kind="nps", score=9),
        exposure(D + 10 * H, "s1", "a1", "control"),
        event("pageview", D + 10 * H, "s1", "a1", "/"),
        event("purchase", D + 10 * H + 5 * MIN, "s1", "a1", "/", order_id="o1", value=20.0),
    ])
    send(client, [
        event("purchase", D + 9 * H, "s2", "a2", "/", order_id="o2", value=15.0),
        event("pageview", D + 9 * H, "s2", "a2", "/"),
        exposure(D + 10 * H, "s2", "a2", "control"),
        event("pageview", D + 10 * H + MIN, "s2", "a2", "/p"),
    ])
    send(client, [
        event("pageview", D + 11 * H, "s3", "a3", "/"),
        exposure(D + 11 * H, "s3", "a3", "green"),
        event("pageview", D + 33 * H, "s3b", "a3", "/"),
        event("purchase", D + 33 * H + MIN, "s3b", "a3", "/", order_id="o3", value=40.0),
        event("survey", D + 33 * H + 2 * MIN, "s3b", "a3", "/", kind="nps", score=10),
    ])
    send(client, [
        event("pageview", D + 12 * H, "s4", "a4", "/"),
        exposure(D + 12 * H, "s4", "a4", "green"),
        event("pageview", D + 12 * H + MIN, "s4", "a4", "/a"),
        exposure(D + 12 * H + 10 * MIN, "s4", "a4", "control"),
        event("pageview", D + 12 * H + 11 * MIN, "s4", "a4", "/b"),
        event("survey", D + 12 * H + 20 * MIN, "s4", "a4", "/", kind="nps", score=3),
    ])
    send(client, [
        event("pageview", D + 13 * H, "s5", "a5", "/", user_id="u5"),
        event("identify", D + 13 * H, "s5", "a5", "/", user_id="u5"),
        exposure(D + 13 * H, "s5", "a5", "control", user_id="u5"),
        event("pageview", D + 13 * H + MIN, "s5", "a5", "/x", user_id="u5"),
        event("pageview", D + 13 * H + 30 * MIN, "s5b", "a5b", "/", user_id="u5"),
        exposure(D + 13 * H + 30 * MIN, "s5b", "a5b", "control", user_id="u5"),
        event("purchase", D + 13 * H + 31 * MIN, "s5b", "a5b", "/", user_id="u5", order_id="o5", value=10.0),
    ])
    send(client, [
        event("pageview", D + 15 * H, "sb", "b1", "/"),
        exposure(D + 15 * H, "sb", "b1", "green"),
        event("purchase", D + 15 * H + MIN, "sb", "b1", "/", order_id="ob", value=99.0),
    ], ua=GOOGLEBOT)
    send(client, [event("pageview", D + 16 * H, "s6", "a6", "/"), exposure(D + 16 * H, "s6", "a6", "purple")])
    send(client, [event("pageview", D + 17 * H, "s7", "a7", "/"), exposure(D + 17 * H, "s7", "a7", "b", key="hero")])
    assert client.store.session("sb", "test")["is_bot"] == 1


def get(client: Client, path: str, status: int = 200) -> Any:
    answer = client.http.get(path, headers=client.admin)
    assert answer.status_code == status, answer.text
    return answer.json()


def test_exposures_are_stored_as_events_named_by_their_experiment(client: Client) -> None:
    build(client)
    stored = client.store.session("s4", "test")["events"]
    rows = [{k: e[k] for k in ("session_id", "name", "variant")} for e in stored if e["type"] == "exposure"]
    assert rows == [{"session_id": "s4", "name": "cta", "variant": "green"},
                    {"session_id": "s4", "name": "cta", "variant": "control"}]


def test_results_count_each_visitor_once_in_the_variant_first_seen(client: Client) -> None:
    build(client)
    created = client.http.post("/api/experiments", headers=client.admin, json=CTA)
    assert created.status_code == 201, created.text
    result = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={NEXT_DATE}")
    control, green = result["variants"]
    assert {k: control[k] for k in ("name", "control", "visitors", "conversions", "crossed", "revenue")} == {
        "name": "control", "control": True, "visitors": 3, "conversions": 2, "crossed": 0, "revenue": 30.0,
    }
    assert {k: green[k] for k in ("name", "control", "visitors", "conversions", "crossed", "revenue")} == {
        "name": "green", "control": False, "visitors": 2, "conversions": 1, "crossed": 1, "revenue": 40.0,
    }
    assert (control["rate"], green["rate"]) == (2 / 3, 1 / 2)
    assert (control["revenue_per_visitor"], green["revenue_per_visitor"]) == (10.0, 20.0)
    assert (control["bounce_rate"], green["bounce_rate"]) == (1 / 3, 1 / 2)
    assert green["difference"] == pytest.approx(1 / 2 - 2 / 3)
    assert green["lift"] == pytest.approx(-0.25)
    assert (control["nps"]["responses"], green["nps"]["responses"], green["nps"]["score"]) == (0, 2, 0.0)
    assert (green["nps"]["promoters"], green["nps"]["detractors"]) == (1, 1)
    sample = result["sample"]
    assert (sample["visitors"], sample["crossed"], sample["too_small"]) == (6, 1, True)
    assert sample["unexpected_variants"] == [{"name": "purple", "visitors": 1}]
    assert result["verdict"] == {"status": "collecting", "winner": None}
    assert (result["goal"], result["correction"], result["interval_level"]) == (
        {"type": "purchase", "name": None}, None, 0.95)
    # a range that ends before the green visitor's purchase on D+1 does not count it
    same_day = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={DATE}")
    assert [v["conversions"] for v in same_day["variants"]] == [2, 0]


def test_a_custom_goal_and_a_track_event(client: Client) -> None:
    build(client)
    send(client, [event("track", D + 12 * H + 30 * MIN, "s4", "a4", "/", name="signup")])
    client.http.post("/api/experiments", headers=client.admin, json={**CTA, "goal": "signup"})
    result = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={NEXT_DATE}")
    assert [v["conversions"] for v in result["variants"]] == [0, 1]
    assert result["goal"] == {"type": "track", "name": "signup"}


def saved_goal(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    made = client.http.post("/api/goals", headers=client.admin, json={"site": "test", **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_a_saved_goal_by_id_with_its_property_condition(client: Client) -> None:
    build(client)
    send(client, [
        event("track", D + 10 * H + 2 * MIN, "s1", "a1", "/", name="signup", props={"plan": "free"}),
        event("track", D + 12 * H + 30 * MIN, "s4", "a4", "/", name="signup", props={"plan": "pro"}),
        event("track", D + 11 * H + MIN, "s3", "a3", "/", name="signup", props={"plan": "pro"}),
    ])
    pro = saved_goal(client, {"name": "Pro signups", "kind": "custom", "value": "signup",
                              "property": {"key": "plan", "value": "pro"}})
    created = client.http.post("/api/experiments", headers=client.admin, json={**CTA, "goal": pro["id"]})
    assert created.status_code == 201, created.text
    definition = {"id": pro["id"], "name": "Pro signups", "kind": "custom", "value": "signup",
                  "property": {"key": "plan", "value": "pro"}}
    assert (created.json()["goal"], created.json()["saved_goal"]) == (pro["id"], definition)
    result = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={NEXT_DATE}")
    # a1's signup is on the free plan: only the green visitors' pro signups count
    assert [v["conversions"] for v in result["variants"]] == [0, 2]
    assert result["goal"] == {"type": "track", "name": "signup"}
    # The experiment keeps the goal as it was defined: deleting the saved goal changes nothing.
    assert client.http.delete(f"/api/goals/{pro['id']}?site=test", headers=client.admin).status_code == 200
    again = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={NEXT_DATE}")
    assert [v["conversions"] for v in again["variants"]] == [0, 2]
    [listed] = get(client, "/api/experiments?site=test")["experiments"]
    assert (listed["goal"], listed["saved_goal"]) == (pro["id"], definition)


def test_a_saved_pageview_goal_matches_its_page_pattern(client: Client) -> None:
    build(client)
    send(client, [
        event("pageview", D + 10 * H + 3 * MIN, "s1", "a1", "/thanks/o1"),
        event("pageview", D + 11 * H + 3 * MIN, "s3", "a3", "/thanks-not"),
        event("pageview", D + 12 * H + 3 * MIN, "s4", "a4", "/thanks/o4"),
    ])
    thanks = saved_goal(client, {"name": "Thank-you page", "kind": "pageview", "value": "/thanks/*"})
    client.http.post("/api/experiments", headers=client.admin, json={**CTA, "goal": thanks["id"]})
    result = get(client, f"/api/experiments/cta?site=test&from={DATE}&to={NEXT_DATE}")
    assert [v["conversions"] for v in result["variants"]] == [1, 1]


def test_an_unknown_saved_goal_is_a_clear_404_and_stores_nothing(client: Client) -> None:
    answer = client.http.post("/api/experiments", headers=client.admin, json={**CTA, "goal": 41})
    assert (answer.status_code, answer.json()) == (404, {"error": "no goal 41 for this site (see /api/goals)"})
    assert get(client, "/api/experiments?site=test") == {"experiments": []}
    negative = client.http.post("/api/experiments", headers=client.admin, json={**CTA, "goal": -1})
    assert negative.status_code == 400
    assert "Expected `int` >= 0 - at `$.goal`" in negative.json()["error"]


@pytest.mark.parametrize(
    ("filters", "sessions"),
    [
        ("experiment=cta&variant=green", ["s3", "s3b", "s4"]),
        ("experiment=cta&variant=control", ["s1", "s2", "s5", "s5b"]),
        ("experiment=cta", ["s1", "s2", "s3", "s3b", "s4", "s5", "s5b", "s6"]),
        ("experiment=hero&variant=b", ["s7"]),
        ("experiment=cta&variant=nope", []),
    ],
)
def test_the_variant_filter_cuts_sessions(client: Client, filters: str, sessions: list[str]) -> None:
    build(client)
    found = get(client, f"/api/sessions?site=test&from={DATE}&to={NEXT_DATE}&{filters}&limit=100")
    assert sorted(s["id"] for s in found["sessions"]) == sessions


def test_the_variant_filter_applies_to_funnels_and_the_overview(client: Client) -> None:
    build(client)
    funnel = client.http.post("/api/funnel", headers=client.admin, json={
        "site": "test", "from": DATE, "to": NEXT_DATE, "filters": {"experiment": "cta", "variant": "control"},
        "steps": [{"type": "pageview"}, {"type": "purchase"}],
    })
    assert [s["visitors"] for s in funnel.json()["steps"]] == [3, 2]
    overview = get(client, f"/api/overview?site=test&from={DATE}&to={NEXT_DATE}&experiment=cta&variant=green")
    assert overview["metrics"]["sessions"]["value"] == 3


def test_definitions_list_delete_and_conflict(client: Client) -> None:
    three = {"site": "test", "key": "hero", "variants": ["a", {"name": "b", "weight": 2}, {"name": "c", "weight": 1}],
             "goal": "checkout"}
    assert client.http.post("/api/experiments", headers=client.admin, json=three).status_code == 201
    again = client.http.post("/api/experiments", headers=client.admin, json=three)
    assert (again.status_code, again.json()) == (
        409, {"error": "experiment 'hero' exists on this site: delete it first to redefine it"})
    [listed] = get(client, "/api/experiments?site=test")["experiments"]
    assert {k: listed[k] for k in ("key", "name", "variants", "goal", "metrics")} == {
        "key": "hero", "name": "hero", "goal": "checkout", "metrics": [],
        "variants": [{"name": "a", "weight": 1.0}, {"name": "b", "weight": 2.0}, {"name": "c", "weight": 1.0}],
    }
    result = get(client, f"/api/experiments/hero?site=test&from={DATE}&to={NEXT_DATE}")
    assert (result["correction"], result["interval_level"]) == ("holm", 1 - 0.05 / 2)
    assert [v["visitors"] for v in result["variants"]] == [0, 0, 0]
    assert result["sample"]["srm_p_value"] is None
    deleted = client.http.delete("/api/experiments/hero?site=test", headers=client.admin)
    assert deleted.json() == {"deleted": "hero"}
    assert get(client, "/api/experiments/hero?site=test", 404) == {
        "error": "no experiment 'hero' for this site (see /api/experiments)"}
    gone = client.http.delete("/api/experiments/hero?site=test", headers=client.admin)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"key": "k", "variants": ["a"]}, 400, "Expected `array` of length >= 2 - at `$.variants`"),
        ({"key": "k", "variants": ["a", "a"]}, 400, "variant names must be distinct"),
        ({"key": "k", "variants": [{"name": "a", "weight": 0}, {"name": "b", "weight": 0}]}, 400,
         "at least one variant needs a weight above 0"),
        ({"key": "k", "variants": [{"name": "a", "weight": -1}, "b"]}, 400,
         "Expected `float` >= 0.0 - at `$.variants[0].weight`"),
        ({"key": "", "variants": ["a", "b"]}, 400, "Expected `str` of length >= 1 - at `$.key`"),
        ({"key": "k" * 65, "variants": ["a", "b"]}, 400, "Expected `str` of length <= 64 - at `$.key`"),
        ({"key": "k", "variants": ["a", "b"], "metrics": ["fun"]}, 400,
         "Invalid enum value 'fun' - at `$.metrics[0]`"),
        ({"key": "k", "variants": ["a", "b"], "goal": "exposure"}, 400,
         "exposure cannot be a goal: pick an event type or a custom event name"),
        ({"key": "k", "variants": ["a", "b"], "site": "nope"}, 404, "no site 'nope'"),
    ],
)
def test_bad_definitions_are_clear_4xx(client: Client, body: dict[str, Any], status: int, error: str) -> None:
    answer = client.http.post("/api/experiments", headers=client.admin, json={"site": "test", **body})
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert get(client, "/api/experiments?site=test") == {"experiments": []}


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("variant=green", "variant needs experiment: the key of the experiment it belongs to"),
        ("experiment=" + "k" * 65, "experiment and variant are at most 64 characters"),
    ],
)
def test_bad_filters_are_400(client: Client, query: str, error: str) -> None:
    assert get(client, f"/api/sessions?site=test&{query}", 400) == {"error": error}


def test_exposures_with_bad_names_are_rejected_alone(client: Client) -> None:
    answer = client.http.post("/v1/batch", json={"key": "wk_test", "events": [
        exposure(D, "s1", "a1", "v" * 65), exposure(D, "s1", "a1", ""), {**exposure(D, "s1", "a1", "a"), "variant": 3},
        exposure(D, "s1", "a1", "ok"),
    ]})
    body = answer.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [0, 1, 2]
    assert all("$.variant" in r["error"] for r in body["rejected"])


def test_the_variant_filter_cuts_heatmaps(client: Client) -> None:
    build(client)
    click = {"x": 10, "y": 20, "sel": "#buy", "tag": "button", "rx": 0.5, "ry": 0.5, "vw": 1280}
    send(client, [
        event("click", D + 10 * H + MIN, "s1", "a1", "/", **click),
        event("click", D + 12 * H + 2 * MIN, "s4", "a4", "/", **click),
        event("click", D + 12 * H + 3 * MIN, "s4", "a4", "/", **{**click, "sel": "#other"}),
        event("scroll", D + 10 * H + 2 * MIN, "s1", "a1", "/", depth=40, vw=1280),
        event("scroll", D + 12 * H + 4 * MIN, "s4", "a4", "/", depth=80, vw=1280),
    ])

    def counts(filters: str) -> dict[str, int]:
        found = get(client, f"/api/heatmap?site=test&url=/&kind=click&from={DATE}&to={NEXT_DATE}{filters}")
        return {e["sel"]: e["count"] for e in found["elements"]}

    def scrolled(filters: str) -> tuple[int, float | None]:
        found = get(client, f"/api/heatmap?site=test&url=/&kind=scroll&from={DATE}&to={NEXT_DATE}{filters}")
        return found["views"], found["avg_depth"]

    assert counts("") == {"#buy": 2, "#other": 1}
    assert counts("&experiment=cta&variant=green") == {"#buy": 1, "#other": 1}
    assert counts("&experiment=cta&variant=control") == {"#buy": 1}
    assert counts("&experiment=hero") == {}
    assert scrolled("") == (2, 60.0)
    assert scrolled("&experiment=cta&variant=green") == (1, 80.0)
    assert scrolled("&experiment=cta&variant=control") == (1, 40.0)
    assert scrolled("&experiment=hero") == (0, None)
    assert get(client, "/api/heatmap?site=test&url=/&variant=green", 400) == {
        "error": "variant needs experiment: the key of the experiment it belongs to"}
