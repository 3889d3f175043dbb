"""A site in New York, in real Chromium at 1280 and 390 px: the date picker's presets are New York
days, and the picker and the chart say so; the hourly chart reads New York clock times."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser

from e2e.dashboard_data import browser_fixture, seed, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard

pytestmark = pytest.mark.e2e
NY = "America/New_York"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_dashboard_counts_the_sites_days(server: Any, browser: Browser, width: int) -> None:
    seed(server.url, server.key)
    dash = Dashboard(server, browser, width)
    try:
        assert dash.http.patch("/api/sites/test", json={"timezone": NY}).status_code == 200
        page = dash.open("/overview")
        assert dash.text("#f-zone") == NY
        assert dash.text("#chart-zone") == f"Daily, {NY}"
        page.select_option("#f-preset", "yesterday")
        yesterday = (dt.datetime.now(ZoneInfo(NY)).date() - dt.timedelta(days=1)).isoformat()
        page.wait_for_url(f"**from={yesterday}&to={yesterday}**")
        page.wait_for_selector("body[data-ready='1']")
        assert page.input_value("#f-preset") == "yesterday"
        assert dash.text("#chart-zone") == f"Hourly, {NY}"
        data = dash.api("/api/overview", **{"from": yesterday, "to": yesterday, "interval": "auto"})
        # the API's hours are New York's: the first one starts at its midnight
        assert data["series"][0]["hour"].startswith(f"{yesterday}T00:00-0")
        assert len(data["series"]) in (23, 24, 25)
        dash.shot("site-days-hourly")
    finally:
        dash.close()
