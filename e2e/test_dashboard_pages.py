"""Every dashboard page in real Chromium against a real collector: the numbers shown are the API's.

Each test seeds known journeys through /v1/batch, signs in through the login form, opens a page at
1280 and 768 px, compares what the page shows with the JSON API's answer for the same question,
and keeps a full-page screenshot in artifacts/screenshots/.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page

from e2e.dashboard_data import HOSTILE_COMMENT, browser_fixture, dates, seed, server_fixture  # noqa: F401

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
WIDTHS = [1280, 768]


# The page's formatting (collector/ui/static/js/app.js `fmt`), so that numbers compare as text.
def fixed(value: float, digits: int) -> str:
    """Number.prototype.toFixed: the exact binary value rounded half up."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def js_round(value: float) -> int:
    return math.floor(value + 0.5)


def f_int(value: float) -> str:
    return f"{js_round(value):,}"


def f_pct(value: float) -> str:
    return f"{fixed(value * 100, 1)}%"


def f_money(value: float) -> str:
    return fixed(value, 2)


# fmt.channel in app.js: the channel names of collector/enrich/acquisition.py in words.
CHANNELS = {"direct": "Direct", "organic_search": "Organic search", "paid_search": "Paid search",
            "organic_social": "Organic social", "paid_social": "Paid social", "email": "Email",
            "referral": "Referral", "internal": "Internal"}


def f_duration(seconds: float) -> str:
    s = js_round(seconds)
    if s < 60:
        return f"{s}s"
    m = s // 60
    if m < 60:
        return f"{m}m {s % 60:02d}s"
    return f"{m // 60}h {m % 60:02d}m"


class Dashboard:
    """A signed-in browser page plus the same questions asked of the API with the admin token."""

    def __init__(self, server: Any, browser: Browser, width: int) -> None:
        self.server = server
        self.width = width
        self.start, self.end = dates()
        self.scope = {"site": "test", "from": self.start, "to": self.end}
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(server.url + "/login")
        self.page.fill("#token", server.admin_token)
        self.page.click("#token-form button[type=submit]")
        self.page.wait_for_url(server.url + "/overview")
        self.http = httpx.Client(base_url=server.url, headers=server.admin)

    def open(self, path: str, **extra: str) -> Page:
        query = urlencode({**self.scope, **extra})
        self.page.goto(f"{self.server.url}{path}?{query}")
        self.page.wait_for_selector("body[data-ready='1']")
        alert = "#content .alert:not([hidden])"
        assert self.page.query_selector(alert) is None, self.page.text_content(alert)
        return self.page

    def api(self, path: str, **extra: str) -> Any:
        answer = self.http.get(path, params={**self.scope, **extra})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def text(self, selector: str) -> str:
        return (self.page.text_content(selector) or "").strip()

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_text_contents()]

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}-{self.width}.png"), full_page=True)
        # A page that fits 768 px has nothing wider than the window (tables scroll inside their panels).
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width
        assert self.errors == []

    def close(self) -> None:
        self.http.close()
        self.context.close()


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def dash(request: pytest.FixtureRequest, server: Any, browser: Browser) -> Any:
    seed(server.url, server.key)
    board = Dashboard(server, browser, request.param)
    yield board
    board.close()


def test_overview(dash: Dashboard) -> None:
    data = dash.api("/api/overview")
    dash.open("/overview")
    metrics = data["metrics"]
    assert metrics["sessions"]["value"] == 7 and metrics["sessions"]["previous"] == 3
    formats = {
        "visitors": f_int, "sessions": f_int, "pageviews": f_int, "bounce_rate": f_pct,
        "avg_duration_s": f_duration, "conversion_rate": f_pct, "cart_abandonment_rate": f_pct,
        "revenue": f_money, "aov": f_money,
    }
    for key, fmt in formats.items():
        assert dash.text(f"[data-kpi={key}] .value") == fmt(metrics[key]["value"]), key
        change = metrics[key]["change"]
        expected = "no previous data" if change is None else f"{fixed(abs(change * 100), 1)}% vs previous"
        assert dash.text(f"[data-kpi={key}] .delta").endswith(expected), key
    for key in ("pages", "channels", "devices", "browsers", "campaigns", "countries"):
        shown = dash.texts(f"#breakdown-{key} tbody td:first-child")
        counts = dash.texts(f"#breakdown-{key} tbody td:last-child")
        value = "pageviews" if key == "pages" else "sessions"
        names = CHANNELS if key == "channels" else {}
        assert shown == [names.get(row["name"], row["name"]) for row in data[key]], key
        assert counts == [f_int(row[value]) for row in data[key]], key
    assert dash.page.locator("#chart canvas").count() == 1
    assert dash.text(".nav-links a.active") == "Overview"
    dash.shot("overview")
    # Every page in the nav answers (heatmaps: the viewer, or its placeholder until one is installed).
    for link in dash.page.locator("[data-nav]").all():
        answer = dash.page.request.get(dash.server.url + (link.get_attribute("href") or ""))
        assert answer.status == 200 and "text/html" in answer.headers["content-type"], link.get_attribute("href")


def test_sessions_list_filters_and_session_page(dash: Dashboard) -> None:
    data = dash.api("/api/sessions", limit="50")
    page = dash.open("/sessions")
    hrefs = [a.get_attribute("href") or "" for a in page.locator("#sessions-table tbody td:first-child a").all()]
    assert [h.split("?")[0] for h in hrefs] == [f"/sessions/{s['id']}" for s in data["sessions"]]
    assert len(hrefs) == 7
    dash.shot("sessions")

    # Filters go through the form into the URL and the API: sessions that bought something.
    page.click("#filters summary")
    page.select_option("#filter-form [name=converted]", "1")
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**converted=1**")
    page.wait_for_selector("body[data-ready='1']")
    converted = dash.api("/api/sessions", converted="1")
    shown = [a.get_attribute("href") or "" for a in page.locator("#sessions-table tbody td:first-child a").all()]
    assert [h.split("?")[0] for h in shown] == [f"/sessions/{s['id']}" for s in converted["sessions"]]
    assert len(shown) == 2
    assert dash.text("[data-filter=converted]").startswith("Converted: yes")  # chips read as words

    # The session with the hostile survey comment: its timeline lists every event, as text.
    target = next(s for s in data["sessions"] if s["anon_id"] == "anon-a3")
    one = dash.http.get(f"/api/sessions/{target['id']}").json()
    dash.open(f"/sessions/{target['id']}")
    assert dash.texts("#timeline li .badge") == [e["type"] for e in one["events"]]
    assert HOSTILE_COMMENT in dash.text("#timeline li[data-type=survey] .what")
    assert page.evaluate("window.__xss") is None
    assert dash.text("[data-fact=Pageviews] dd") == f_int(one["pageviews"])
    assert dash.text("[data-fact=Duration] dd") == f_duration(one["duration_ms"] / 1000)
    assert dash.text("#replay") == "No replay was recorded for this session."
    assert page.get_attribute("#replay-link", "hidden") is not None
    dash.shot("session")

    # A recorded session frames the replay player page into its #replay mount point.
    recorded = next(s for s in data["sessions"] if s["anon_id"] == "anon-a5")
    assert recorded["has_replay"] == 1
    dash.open(f"/sessions/{recorded['id']}")
    player = f"/sessions/{recorded['id']}/replay"
    assert page.get_attribute("#replay iframe", "src") == player
    assert page.get_attribute("#replay-link", "href") == player
    assert page.frame_locator("#replay iframe").locator("#replay").get_attribute("data-session") == recorded["id"]
    dash.shot("session-replay")


def test_funnel(dash: Dashboard) -> None:
    steps = [{"type": "pageview"}, {"type": "cart", "name": "add"}, {"type": "purchase"}]
    body = {"steps": steps, "window_s": 86400, "from": dash.start, "to": dash.end, "filters": {}, "site": "test"}
    answer = dash.http.post("/api/funnel", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    page = dash.open("/funnels")
    assert [s["visitors"] for s in data["steps"]] == [6, 4, 2]
    for step in data["steps"]:
        assert dash.text(f"[data-step='{step['step']}'] [data-field=visitors]") == f"{f_int(step['visitors'])} visitors"
        assert dash.text(f"[data-step='{step['step']}'] [data-field=conversion]").startswith(
            f"{f_pct(step['conversion'])} of previous")
    assert dash.text("[data-kpi=overall] .value") == f_pct(data["overall_conversion"])
    for step in data["steps"]:
        if step["dropped"]:
            links = page.locator(f"[data-dropped-step='{step['step']}'] a.mono").all()
            assert [a.get_attribute("href").split("?")[0] for a in links] == [
                f"/sessions/{d['id']}" for d in step["dropped_sessions"]]
    dash.shot("funnels")

    # The builder: a two-step funnel from the form, carried in the URL, answered like the API.
    page.click("#steps li:nth-child(3) button")
    page.click("#funnel-form button[type=submit]")
    page.wait_for_url("**steps=**")
    page.wait_for_selector("body[data-ready='1']")
    two = dash.http.post("/api/funnel", json={**body, "steps": steps[:2]}).json()
    assert dash.text("[data-kpi=overall] .value") == f_pct(two["overall_conversion"])
    assert page.locator("#steps li").count() == 2


def test_paths(dash: Dashboard) -> None:
    data = dash.api("/api/paths", from_url="/", depth="3")
    page = dash.open("/paths", from_url="/")
    assert dash.text("#paths-sessions") == f"{f_int(data['sessions'])} sessions"
    for side in ("next", "previous"):
        for level in data[side]:
            rows = f"#paths-{side} table[data-step='{level['step']}'] tbody tr"
            if level["pages"]:
                assert dash.texts(f"{rows} td:first-child") == [p["path"] for p in level["pages"]]
                assert dash.texts(f"{rows} td:last-child") == [f_int(p["sessions"]) for p in level["pages"]]
    # The flow diagram has the page in the middle and every first next page as a node.
    assert page.locator("#flow g.node.center").count() == 1
    drawn = {g.get_attribute("data-path") for g in page.locator("#flow g.node[data-col='1']").all()}
    assert drawn == {p["path"] for p in data["next"][0]["pages"]}
    dash.shot("paths")


def test_retention(dash: Dashboard) -> None:
    data = dash.api("/api/retention", weeks="8")
    dash.open("/retention")
    for cohort in data["cohorts"]:
        row = f"#cohorts tr[data-cohort='{cohort['week']}']"
        assert dash.text(f"{row} td.num") == f_int(cohort["visitors"])
        shown = dash.texts(f"{row} td.cell")
        assert shown == ["100%"] + [f_pct(r) if r is not None else "" for r in cohort["rates"][1:]]
    assert sum(c["visitors"] for c in data["cohorts"]) == 6  # anon-a1..a6; user_42 merges anon-a1
    dash.shot("retention")


def test_commerce(dash: Dashboard) -> None:
    data = dash.api("/api/commerce")
    dash.open("/commerce")
    assert data["revenue"] == 179.0 and data["orders"] == 2
    assert dash.text("[data-kpi=revenue] .value") == f_money(data["revenue"])
    assert dash.text("[data-kpi=orders] .value") == f_int(data["orders"])
    assert dash.text("[data-kpi=aov] .value") == f_money(data["aov"])
    assert dash.text("[data-kpi=cart_abandonment_rate] .value") == f_pct(data["cart_abandonment_rate"])
    assert dash.texts("#products tbody td:last-child") == [f_money(p["revenue"]) for p in data["products"]]
    links = dash.page.locator("#abandoned tbody td:first-child a").all()
    assert [a.get_attribute("href").split("?")[0] for a in links] == [f"/sessions/{s['id']}" for s in data["abandoned"]]
    dash.shot("commerce")


def test_surveys(dash: Dashboard) -> None:
    data = dash.api("/api/surveys")
    page = dash.open("/surveys")
    for kind in ("nps", "csat", "ces"):
        assert dash.text(f"#survey-{kind} [data-field=score]") == fixed(data[kind]["score"], 1)
        n = data[kind]["responses"]
        assert dash.text(f"#survey-{kind} [data-field=responses]") == f"{n} response{'' if n == 1 else 's'}"
    assert data["nps"]["responses"] == 3 and data["nps"]["score"] == 0
    comments = page.locator("#comments li").all()
    assert [c.get_attribute("data-session") for c in comments] == [c["session_id"] for c in data["comments"]]
    assert dash.texts("#comments blockquote") == [c["comment"] for c in data["comments"]]
    assert HOSTILE_COMMENT in dash.texts("#comments blockquote")
    assert page.locator("#comments blockquote img").count() == 0
    assert page.evaluate("window.__xss") is None
    dash.shot("surveys")


def test_people_and_person(dash: Dashboard) -> None:
    page = dash.open("/people")
    dash.shot("people")
    page.fill("#person-id", "user_42")
    page.click("#person-form button[type=submit]")
    page.wait_for_url("**/people/user_42**")
    page.wait_for_selector("body[data-ready='1']")
    person = dash.api(f"/api/persons/{quote('user_42')}")
    assert person["anon_ids"] == ["anon-a1"]
    assert dash.text(".page-title") == "Person user_42"
    assert dash.text("[data-kpi=sessions] .value") == f_int(len(person["sessions"]))
    assert dash.text("[data-kpi=purchases] .value") == f_int(len(person["purchases"]))
    assert dash.text("[data-kpi=revenue] .value") == f_money(person["revenue"])
    assert dash.texts("#person-sessions tbody td:first-child a") and len(dash.texts("#person-sessions tbody tr")) == 2
    assert json.dumps(person["traits"], sort_keys=True) == json.dumps({"plan": "pro", "email_domain": "example.com"},
                                                                      sort_keys=True)
    assert dash.texts("#traits tbody td:first-child") == list(person["traits"])
    dash.shot("person")


def test_segments_save_and_apply_everywhere(dash: Dashboard) -> None:
    page = dash.open("/segments")
    page.fill("#segment-form [name=name]", "Checkout <b>buyers</b>")
    page.fill("#segment-form [name=page]", "/checkout")
    page.select_option("#segment-form [name=converted]", "1")
    page.click("#segment-form button[type=submit]")
    page.wait_for_selector("#segments-table tbody a")
    [segment] = dash.api("/api/segments")["segments"]
    assert segment["filters"] == {"page": "/checkout", "converted": "1"}
    assert dash.text("#segments-table tbody td:first-child") == "Checkout <b>buyers</b>"
    dash.shot("segments")

    # Applied from the toolbar on the overview: the cards answer with the segment's numbers.
    dash.open("/overview")
    with page.expect_navigation():
        page.select_option("#f-segment", str(segment["id"]))
    page.wait_for_selector("body[data-ready='1']")
    assert f"segment={segment['id']}" in page.url
    data = dash.api("/api/overview", segment=str(segment["id"]))
    assert data["metrics"]["sessions"]["value"] == 2
    assert dash.text("[data-kpi=sessions] .value") == f_int(data["metrics"]["sessions"]["value"])
    assert dash.text("[data-kpi=revenue] .value") == f_money(data["metrics"]["revenue"]["value"])
    # ... and the nav carries it to every other page.
    assert all(f"segment={segment['id']}" in (a.get_attribute("href") or "") for a in page.locator("[data-nav]").all())
