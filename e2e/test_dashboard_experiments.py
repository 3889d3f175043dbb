"""The experiment pages in real Chromium against a real collector: the verdict, the sample's health
and every figure shown are the API's; a variant's links open its sessions. Screenshots at 1280 px
(and a check that 768 px fits) in artifacts/screenshots/."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

import random
import time
import uuid
from typing import Any

import httpx
import pytest

from e2e.dashboard_data import browser_fixture, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard, f_int, f_pct
from tests.support.analytics_journeys import CHROME

pytestmark = pytest.mark.e2e

RATES = {"control": 0.10, "green": 0.15, "blue": 0.10}


def seed(server: Any) -> dict[str, Any]:
    """3,000 visitors split by hand into three arms with known conversion rates, and a broken
    50/50 test whose second arm lost a fifth of its visitors."""
    rng = random.Random(7)
    start = int(time.time() * 1000) - 20 * 3600 * 1000
    events = []
    names = list(RATES)
    for n in range(3000):
        visitor, ts = f"v{n}", start + n * 20_000
        variant = names[n % 3]
        base = {"session_id": "s-" + visitor, "anon_id": visitor, "url": "https://shop.example/"}
        events += [
            {"id": str(uuid.uuid4()), "type": "pageview", "ts": ts, **base},
            {"id": str(uuid.uuid4()), "type": "exposure", "ts": ts + 1, "experiment": "checkout-cta",
             "variant": variant, **base},
        ]
        if rng.random() < RATES[variant]:
            events.append({"id": str(uuid.uuid4()), "type": "purchase", "ts": ts + 60_000, "order_id": "o" + visitor,
                           "value": round(rng.uniform(10, 90), 2), **base})
        if rng.random() < 0.15:
            events.append({"id": str(uuid.uuid4()), "type": "survey", "ts": ts + 90_000, "kind": "nps",
                           "score": rng.randint(0, 10), **base})
        if n % 2 == 0 or rng.random() > 0.2:
            events.append({"id": str(uuid.uuid4()), "type": "exposure", "ts": ts + 2, "experiment": "hero",
                           "variant": "a" if n % 2 == 0 else "b", **base})
    with httpx.Client(base_url=server.url, headers=server.admin) as http:
        for at in range(0, len(events), 500):
            answer = http.post("/v1/batch", json={"key": server.key, "events": events[at:at + 500]},
                               headers={"User-Agent": CHROME})
            assert answer.json()["rejected"] == []
        for body in (
            {"site": "test", "key": "checkout-cta", "name": "Checkout button colour", "variants": names,
             "metrics": ["revenue", "bounce", "nps"], "hypothesis": "A green button is seen sooner on small screens"},
            {"site": "test", "key": "hero", "name": "Hero image", "variants": ["a", "b"]},
        ):
            assert http.post("/api/experiments", json=body).status_code == 201
    return {}


@pytest.fixture
def dash(server: Any, browser: Any, request: pytest.FixtureRequest) -> Any:
    seed(server)
    board = Dashboard(server, browser, request.param)
    yield board
    board.close()


@pytest.mark.parametrize("dash", [1280, 768], indirect=True, ids=["1280px", "768px"])
def test_an_experiment_at_a_glance(dash: Dashboard) -> None:
    data = dash.api("/api/experiments/checkout-cta")
    assert data["verdict"] == {"status": "winner", "winner": "green"}
    dash.open("/experiments/checkout-cta")
    assert dash.text(".page-title") == "Checkout button colour"
    assert dash.text("#verdict h2") == "green wins"
    green = data["variants"][1]
    assert "probability to beat control" in dash.text("#verdict p")
    assert dash.page.get_attribute("#verdict", "data-status") == "winner"
    names = dash.texts("#variants-table tbody td:nth-child(1)")
    assert names == ["control", "green", "blue"]
    assert dash.texts("#variants-table tbody td:nth-child(2)") == [f_int(v["visitors"]) for v in data["variants"]]
    assert dash.texts("#variants-table tbody td:nth-child(5)") == [f_pct(v["rate"]) for v in data["variants"]]
    assert dash.text("[data-kpi=visitors] .value") == f_int(data["sample"]["visitors"])
    assert dash.text("[data-kpi=srm] .value") == "As planned"
    assert dash.page.locator("#lift circle").count() == 2
    assert dash.text(".nav-links a.active") == "Experiments"
    dash.shot("experiment")
    assert green["significant"] is True

    # a variant's sessions: the link carries the experiment and variant filters
    dash.page.click("#journeys [data-variant=green] a:text('Sessions')")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert "experiment=checkout-cta" in dash.page.url and "variant=green" in dash.page.url
    chips = dash.texts("#f-chips .chip")
    assert "Experiment: checkout-cta×" in chips and "Variant: green×" in chips
    shown, cursor = [], {}
    while True:
        got = dash.api("/api/sessions", experiment="checkout-cta", variant="green", limit="500", **cursor)
        shown += [s["visitor_id"] for s in got["sessions"]]
        if not got["next"]:
            break
        cursor = {"cursor": got["next"]}
    # one session per generated visitor: the green arm is every third visitor from v1
    assert sorted(shown) == sorted(f"v{n}" for n in range(1, 3000, 3))
    assert len(shown) == green["visitors"]


@pytest.mark.parametrize("dash", [1280], indirect=True, ids=["1280px"])
def test_a_broken_split_says_so_first(dash: Dashboard) -> None:
    data = dash.api("/api/experiments/hero")
    assert data["sample"]["srm"] is True
    dash.open("/experiments/hero")
    assert dash.text("#verdict h2") == "Sample ratio mismatch: do not trust these results"
    assert dash.text("[data-kpi=srm] .value") == "Mismatch"
    assert dash.texts("#sample-health .badge")[0] == "Check"
    dash.shot("experiment-srm")


@pytest.mark.parametrize("dash", [1280], indirect=True, ids=["1280px"])
def test_the_list_and_a_new_experiment(dash: Dashboard) -> None:
    dash.open("/experiments")
    assert dash.texts("#experiments-table tbody td:nth-child(1)") == ["Checkout button colour", "Hero image"]
    dash.page.fill("#experiment-form [name=key]", "pricing")
    dash.page.fill("#experiment-form [name=variants]", "control, low:2")
    dash.page.check("#experiment-form [value=revenue]")
    dash.page.click("#experiment-form button[type=submit]")
    dash.page.wait_for_selector("#experiments-table a:text('pricing')")
    made = [e for e in dash.api("/api/experiments")["experiments"] if e["key"] == "pricing"]
    assert [(e["variants"], e["metrics"]) for e in made] == [
        ([{"name": "control", "weight": 1.0}, {"name": "low", "weight": 2.0}], ["revenue"])]
    # a bad definition shows the API's sentence and stores nothing
    dash.page.fill("#experiment-form [name=key]", "dup")
    dash.page.fill("#experiment-form [name=variants]", "a, a")
    dash.page.click("#experiment-form button[type=submit]")
    dash.page.wait_for_selector("#experiment-form + .alert:not([hidden])")
    assert dash.text("#experiment-form + .alert") == "variant names must be distinct"
    dash.shot("experiments")
