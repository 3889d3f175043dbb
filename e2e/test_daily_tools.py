"""The analyst's daily tools in real Chromium against a real collector, at 1280 and 390 px:
drill-down rows and readable chips, date presets, filter suggestions, goals, custom events, Web
Vitals, errors, the live view and the streamed export. Numbers shown are the API's."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from e2e.dashboard_data import DESKTOP, MOBILE, SITE, Journey, browser_fixture, page, seed, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard, f_int, f_pct
from tests.support.browser import wait_until

pytestmark = pytest.mark.e2e
WIDTHS = [1280, 390]
MINUTE = 60_000


def extras(now: int) -> list[Journey]:
    """Custom events, vitals and errors in the range, and two visitors on the site right now."""
    start = now - 3 * 3_600_000
    return [
        Journey("anon-e1", DESKTOP, start, [
            page("/", 0),
            ("track", 1_000, {"url": SITE + "/", "name": "signup", "props": {"plan": "pro"}}),
            *(("vital", 2_000 + i, {"url": SITE + "/", "name": "LCP", "value": v})
              for i, v in enumerate((1200, 2600, 4200))),
            ("vital", 3_000, {"url": SITE + "/", "name": "CLS", "value": 0.02}),
            ("error", 4_000, {"url": SITE + "/", "message": "TypeError: cart is null", "source": SITE + "/app.js"}),
        ]),
        Journey("anon-e2", MOBILE, start + 600_000, [
            page("/pricing", 0),
            ("track", 1_000, {"url": SITE + "/pricing", "name": "signup", "props": {"plan": "free"}}),
            ("vital", 2_000, {"url": SITE + "/pricing", "name": "INP", "value": 350}),
        ]),
        Journey("anon-live1", DESKTOP, now - 2 * MINUTE, [page("/", 0), page("/pricing", 30_000)]),
        Journey("anon-live2", MOBILE, now - MINUTE, [page("/product/1", 0)]),
    ]


def send(server: Any, journeys: list[Journey], now: int) -> None:
    with httpx.Client(base_url=server.url) as http:
        for journey in journeys:
            events = journey.events()
            answer = http.post("/v1/batch", json={"key": server.key, "sent_at": now, "events": events},
                               headers={"User-Agent": journey.ua})
            assert answer.json() == {"accepted": len(events), "rejected": []}, answer.text


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def dash(request: pytest.FixtureRequest, server: Any, browser: Browser) -> Any:
    now = int(time.time() * 1000)
    seed(server.url, server.key, now)
    send(server, extras(now), now)
    board = Dashboard(server, browser, request.param)
    yield board
    board.close()


def first_cells(dash: Dashboard, panel: str) -> list[str]:
    return dash.texts(f"#{panel} tbody td:first-child")


def test_overview_breakdowns_drill_down(dash: Dashboard) -> None:
    data = dash.api("/api/overview", interval="auto")
    dash.open("/overview")
    for key in ("referrers", "entry_pages", "exit_pages", "regions"):
        assert len(first_cells(dash, f"breakdown-{key}")) == max(1, len(data[key])), key
    assert first_cells(dash, "breakdown-referrers")[:len(data["referrers"])] == [r["name"] for r in data["referrers"]]
    dash.shot("daily-overview")
    # a referrer row filters the whole dashboard
    dash.page.click("#breakdown-referrers a.drill:text-is('google.com')")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert "referrer=google.com" in dash.page.url
    assert dash.text("[data-filter=referrer]").startswith("Referrer: google.com")
    filtered = dash.api("/api/overview", referrer="google.com")
    assert dash.text("[data-kpi=sessions] .value") == f_int(filtered["metrics"]["sessions"]["value"])
    # a channel row reads as words on its chip, and narrows the referrers too
    channel = filtered["channels"][0]["name"]
    dash.page.click("#breakdown-channels a.drill >> nth=0")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert f"channel={channel}" in dash.page.url
    assert dash.text("[data-filter=channel]").startswith("Channel: Organic search")
    dash.shot("daily-overview-drilled")


def test_presets_and_hourly_chart(dash: Dashboard) -> None:
    dash.open("/overview")
    today = dt.datetime.now(dt.UTC).date()
    assert dash.page.input_value("#f-preset") == "custom"  # the fixture's three days are no preset
    dash.page.select_option("#f-preset", "yesterday")
    dash.page.wait_for_url(f"**from={(today - dt.timedelta(days=1)).isoformat()}**")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert dash.page.input_value("#f-preset") == "yesterday"
    assert dash.page.get_attribute("#chart", "data-interval") == "hour"
    dash.page.select_option("#f-preset", "30d")
    dash.page.wait_for_url(f"**from={(today - dt.timedelta(days=29)).isoformat()}**")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert dash.page.get_attribute("#chart", "data-interval") == "day"
    # the previous period is a series of the chart
    assert "Visitors, previous period" in dash.text("#chart")


def test_filter_suggestions(dash: Dashboard) -> None:
    dash.open("/overview")
    dash.page.select_option("#f-add-field", "page")
    dash.page.fill("#f-add-value", "prod")
    expected = [v["value"] for v in dash.api("/api/suggest", field="page", q="prod")["values"]]
    assert expected == ["/product/1", "/product/2"]
    wait_until("page suggestions", lambda: dash.page.eval_on_selector_all(
        "#f-add-values option", "os => os.map(o => o.value)") == expected)
    dash.page.fill("#f-add-value", expected[0])  # as picking the suggestion does
    dash.page.click("#f-add-form button[type=submit]")
    dash.page.wait_for_url("**page=%2Fproduct%2F1**")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert dash.text("[data-filter=page]").startswith("Page visited: /product/1")


def test_goals_drive_the_conversion_rate(dash: Dashboard) -> None:
    dash.open("/goals")
    dash.page.fill("#goal-name", "Pro signup")
    dash.page.select_option("#goal-kind", "custom")
    dash.page.fill("#goal-value", "signup")
    dash.page.fill("#goal-prop-key", "plan")
    dash.page.fill("#goal-prop-value", "pro")
    dash.page.click("#goal-form button[type=submit]")
    dash.page.wait_for_selector("#goals-table a:text-is('Pro signup')")
    dash.shot("daily-goals")
    (goal,) = dash.api("/api/goals")["goals"]
    data = dash.api("/api/overview", goal=str(goal["id"]))
    dash.open("/overview")
    row = data["goals"][0]
    assert row["visitors"] == 1
    shown = dash.texts("#goals-table tbody td")[:3]
    assert shown == ["Pro signup", f_int(row["visitors"]), f_pct(row["conversion_rate"])]
    dash.page.select_option("#goal-select", str(goal["id"]))
    dash.page.wait_for_url(f"**goal={goal['id']}**")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert dash.text("[data-kpi=conversion_rate] .label") == "Conversion · Pro signup"
    assert dash.text("[data-kpi=conversion_rate] .value") == f_pct(data["metrics"]["conversion_rate"]["value"])


def test_events_vitals_errors_pages(dash: Dashboard) -> None:
    events = dash.api("/api/events", name="signup")
    dash.open("/events", name="signup")
    assert dash.texts("#events-table tbody td:first-child") == [e["name"] for e in events["events"]]
    assert [r.split("\n") for r in dash.texts("#properties-table tbody tr")] == [
        [f"{p['key']}{p['value']}{p['count']}{p['visitors']}"] for p in events["properties"]
    ]
    dash.shot("daily-events")
    vitals = dash.api("/api/vitals")
    assert vitals["metrics"]["LCP"]["p75"] == 4200  # nearest rank of 1200, 2600, 4200
    dash.open("/vitals")
    assert dash.text("[data-kpi=LCP] .value") == "4200 ms"
    assert dash.text("[data-kpi=INP] .value") == "350 ms"
    assert dash.text("[data-kpi=CLS] .value") == "0.02"
    assert dash.texts("#vitals-pages tbody td:first-child") == [p["page"] for p in vitals["pages"]]
    dash.shot("daily-vitals")
    errors = dash.api("/api/errors")["errors"]
    dash.open("/errors")
    assert dash.texts("#errors-table tbody td:first-child") == [e["message"] for e in errors]
    # the session with a replay leads to its player
    assert dash.page.locator("#errors-table a[href*='/replay']").count() == sum(
        x["replay"] for e in errors for x in e["examples"])
    dash.shot("daily-errors")


def test_live_updates_without_reloading(dash: Dashboard) -> None:
    data = dash.api("/api/live")
    assert (data["visitors_5m"], data["visitors_30m"]) == (2, 2)
    dash.open("/live")
    assert dash.text("#live-5") == "2"
    assert dash.texts("#live-pages-table tbody td:first-child") == [p["path"] for p in data["pages"]]
    dash.shot("daily-live")
    now = int(time.time() * 1000)
    send(dash.server, [Journey("anon-live3", DESKTOP, now, [page("/pricing", 0)])], now)
    dash.page.evaluate("window.__marker = 1")  # gone if the page reloads
    wait_until("the live count to follow", lambda: dash.text("#live-5") == "3")
    assert dash.page.evaluate("window.__marker") == 1
    assert dash.texts("#live-events-table tbody td:nth-child(3)")[0] == "/pricing"


def test_sessions_export_with_progress(dash: Dashboard) -> None:
    total = dash.api("/api/sessions")["total"]
    dash.open("/sessions")
    with dash.page.expect_download() as download:
        dash.page.click("#export-sessions")
    text = Path(download.value.path()).read_bytes().decode()
    assert text.count("\r\n") == total + 1
    wait_until("the export note", lambda: dash.text("#export-note") == f"Downloaded {total} sessions")
    assert dash.page.get_attribute("#export-progress", "value") == str(total)
    dash.shot("daily-sessions-export")
    # a breakdown table's CSV link carries the page's scope
    dash.open("/overview", channel="organic_search")
    href = dash.page.get_attribute("#breakdown-pages .csv-link", "href") or ""
    answer = dash.http.get(href)
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text.splitlines()[0] == "name,pageviews,previous"
    assert "channel=organic_search" in href


def test_heatmap_legend_and_hotspot_sessions(dash: Dashboard) -> None:
    dash.open("/heatmaps", hm_page="/product/1")
    dash.page.wait_for_selector("#hm-legend .hm-legend-bar.heat")
    assert dash.texts("#hm-legend span")[::2] == ["fewer clicks", "most clicks"]
    dash.shot("daily-heatmap")
    expected = dash.api("/api/sessions", clicked="button.add", page="/product/1")["sessions"]
    assert len(expected) == 1
    dash.page.click("#hm-elements tr[data-sel='button.add'] a.hm-sessions")
    dash.page.wait_for_url("**/sessions?**clicked=button.add**")
    dash.page.wait_for_selector("body[data-ready='1']")
    assert dash.text("[data-filter=clicked]").startswith("Clicked element: button.add")
    assert dash.page.locator("#sessions-table tbody tr").count() == 1
    href = dash.page.get_attribute("#sessions-table tbody tr a.mono", "href") or ""
    assert href.startswith(f"/sessions/{expected[0]['id']}")
