"""The journey map page and the person's cross-channel timeline in real Chromium at 1280 px.

The page must show what GET /api/journey-map answers: stages left to right with their people,
the emotion line through the stages that have answers, pain points and the worst drop-off
highlighted, and replay links for people who left.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from collector.api.outcome import retrain
from collector.query.scope import Goal
from e2e.dashboard_data import browser_fixture, seed, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard, f_int
from tests.support.collector import SECRET
from tests.support.outcome_traffic import planted, today_start

pytestmark = pytest.mark.e2e


@pytest.fixture
def dash(server: Any, browser: Browser) -> Any:
    now = int(time.time() * 1000)
    seed(server.url, server.key, now)
    # user_42's call to the call centre, reported by the shop's backend.
    with httpx.Client(base_url=server.url) as http:
        answer = http.post("/v1/batch", json={"key": SECRET, "sent_at": now, "events": [
            {"id": "call-1", "type": "track", "ts": now - 60_000, "user_id": "user_42", "name": "support_call",
             "props": {"topic": "delivery"}, "touchpoint": "call_center"},
        ]}, headers={"User-Agent": "trailmark-python/0.1.0"})  # as the Python SDK sends it: not a bot
        assert answer.json() == {"accepted": 1, "rejected": []}
    board = Dashboard(server, browser, 1280)
    yield board
    board.close()


def test_journey_map_page(dash: Dashboard) -> None:
    data = dash.api("/api/journey-map")
    stages = data["stages"]
    page = dash.open("/journey")
    assert dash.texts("#journey-map .jm-stage .jm-stage-name") == [s["label"] for s in stages]
    assert dash.texts("#journey-map .jm-stage .jm-stage-people") == [
        f"{f_int(s['people'])} {'person' if s['people'] == 1 else 'people'}" for s in stages
    ]
    # user_42 came back (retention) and then called: the call is a touchpoint of that stage.
    retention = next(s for s in stages if s["key"] == "retention")
    assert {"name": "call_center", "people": 1} in retention["touchpoints"]
    assert "call_center" in dash.texts("[data-lane=touchpoints][data-stage=retention] .jm-touchpoint .jm-name")
    felt = [s for s in stages if s["emotion"] is not None]
    assert felt, "the seeded journeys answer surveys"
    assert [d.get_attribute("data-stage") for d in page.locator(".jm-emotion circle").all()] == [s["key"] for s in felt]
    assert dash.texts(".jm-dot-label") == [str(round(s["emotion"])) for s in felt]
    # The worst drop-off (largest share who left) is highlighted, and only it.
    dropping = [s for s in stages if s["dropped"]]
    worst = max(dropping, key=lambda s: s["dropped"] / s["people"])
    assert [c.get_attribute("data-stage") for c in page.locator(".jm-cell.drop").all()] == [worst["key"]]
    # Rage clicks and errors on /pricing (a4, who left at awareness) make that stage a pain point.
    pains = [c.get_attribute("data-stage") for c in page.locator(".jm-cell.pain").all()]
    assert "awareness" in pains
    replays = [r["session_id"] for s in stages for r in s["dropped_replays"]]
    assert replays, "the recorded buyer did not come back"
    links = [a.get_attribute("href") for a in page.locator(".jm-replays a").all()]
    assert [h.split("/sessions/")[1].split("?")[0] for h in links] == replays
    dash.shot("journey-map")


def test_person_timeline_across_channels(dash: Dashboard) -> None:
    person = dash.api("/api/persons/user_42")
    dash.open("/people/user_42")
    rows = dash.texts("#person-timeline tbody td:nth-child(2)")
    assert rows == [e["touchpoint"] for e in person["timeline"]]
    assert "call_center" in rows and rows.count("web") >= 2
    dash.shot("person-timeline")


def test_outcome_panel_says_when_it_cannot_predict_and_retrains_on_demand(dash: Dashboard) -> None:
    page = dash.open("/journey")
    assert page.get_attribute("#outcome [data-status]", "data-status") == "not_trained"
    page.click("#retrain")
    page.wait_for_selector("#outcome [data-status=insufficient_data]")
    assert "too little history to predict" in dash.text("#outcome [data-status]")
    assert page.locator("#calibration").count() == 0  # no model: no quality to show, no people listed
    assert page.locator("#outcome-likely").count() == 0


def test_outcome_panel_shows_the_model_quality_beside_who_is_likely(dash: Dashboard) -> None:
    now = today_start()
    planted(now).write(dash.server.store)
    report = retrain(dash.server.store, "test", Goal(), now=now)
    assert report["status"] == "ready"
    page = dash.open("/journey")
    q = report["quality"]
    assert dash.text("#outcome-auc") == f"{q['auc']:.2f} (95% {q['auc_low']:.2f}–{q['auc_high']:.2f})"
    assert len(dash.texts("#calibration tbody tr")) == len(q["calibration"])
    assert dash.texts("#outcome-features tbody td:first-child") == [f["name"] for f in report["features"][:8]]
    likely = dash.api("/api/predictions")["likely"]
    assert dash.texts("#outcome-likely tbody td:first-child") == [p["visitor_id"] for p in likely]
    page.locator("#outcome").scroll_into_view_if_needed()
    dash.shot("journey-outcome")
