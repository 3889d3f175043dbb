"""The overview of a site that is not a shop, and the settings page that makes it one, in real Chromium."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from e2e.dashboard_data import browser_fixture, seed, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard

pytestmark = pytest.mark.e2e

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
ALWAYS = ["visitors", "sessions", "pageviews", "bounce_rate", "avg_duration_s", "conversion_rate"]
SHOP_ONLY = ["cart_abandonment_rate", "revenue", "aov"]


def _blog(server: Any) -> None:
    """A second site with pageviews and a signup, no cart and no order."""
    server.store.add_site("blog", "Blog", key="wk_blog")
    now = int(time.time() * 1000)
    events = [
        {"type": "pageview", "id": f"p{n}", "ts": now - 60_000 + n, "anon_id": f"reader-{n}",
         "session_id": f"b{n}", "url": f"https://blog.example/post/{n}"}
        for n in range(4)
    ] + [{"type": "track", "id": "t1", "ts": now - 50_000, "anon_id": "reader-1", "session_id": "b1",
          "name": "signup", "url": "https://blog.example/post/1"}]
    answer = httpx.post(f"{server.url}/v1/batch", json={"key": "wk_blog", "events": events},
                        headers={"User-Agent": UA})
    assert answer.json() == {"accepted": 5, "rejected": []}


def test_a_blog_has_no_shop_cards_until_its_settings_say_so(server: Any, browser: Browser) -> None:
    seed(server.url, server.key)
    _blog(server)
    dash = Dashboard(server, browser, 1280)
    try:
        page = dash.open("/overview", site="blog")
        assert [c.get_attribute("data-kpi") for c in page.locator("#kpis [data-kpi]").all()] == ALWAYS
        assert dash.text("[data-kpi=visitors] .value") == "4"
        assert dash.text("[data-kpi=conversion_rate] .value") == "0.0%"  # goal: purchase
        dash.shot("overview-not-a-shop")

        # The shop next door keeps its cart and revenue cards (it has carts and orders).
        page = dash.open("/overview")
        assert [c.get_attribute("data-kpi") for c in page.locator("#kpis [data-kpi]").all()] == ALWAYS + SHOP_ONLY

        page = dash.open("/settings", site="blog")
        assert page.input_value("#s-goal") == "purchase"
        assert page.input_value("#s-currency") == ""
        assert page.input_value("#s-shop") == "auto"
        assert page.input_value("#s-replay-assets") == "on"
        assert page.input_value("#s-timezone") == "UTC"
        assert dash.text("#f-zone") == "UTC"
        dash.shot("settings")
        page.fill("#s-goal", "signup")
        page.fill("#s-currency", "eur")
        page.select_option("#s-shop", "yes")
        page.select_option("#s-replay-assets", "off")
        page.fill("#s-timezone", "America/Gotham")
        page.click("#settings-form button[type=submit]")
        page.wait_for_selector("#s-status.alert")
        assert dash.text("#s-status") == (
            "Not saved: invalid request: unknown time zone 'America/Gotham': use an IANA name such as Europe/Paris")
        page.fill("#s-timezone", "America/New_York")
        page.click("#settings-form button[type=submit]")
        page.wait_for_selector("#s-status.note")
        assert dash.text("#s-status") == "Saved: goal signup, currency EUR, shop yes, time zone America/New_York."
        (blog,) = [s for s in dash.http.get("/api/sites").json()["sites"] if s["id"] == "blog"]
        assert blog["settings"] == {"goal": "signup", "currency": "EUR", "shop": True, "timezone": "America/New_York",
                                    "replay_assets": False}
        dash.shot("settings-saved")

        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        assert (page.input_value("#s-goal"), page.input_value("#s-currency"), page.input_value("#s-shop"),
                page.input_value("#s-timezone"), page.input_value("#s-replay-assets")) == (
            "signup", "EUR", "yes", "America/New_York", "off")

        page = dash.open("/overview", site="blog")
        assert [c.get_attribute("data-kpi") for c in page.locator("#kpis [data-kpi]").all()] == ALWAYS + SHOP_ONLY
        assert dash.text("[data-kpi=conversion_rate] .value") == "25.0%"  # one of four readers signed up
        assert dash.text("[data-kpi=revenue] .value") == "EUR\u00a00.00"  # Intl.NumberFormat, currency by code
        # the date picker and the chart say whose days these are
        assert dash.text("#f-zone") == "America/New_York"
        assert dash.text("#chart-zone") in ("Daily, America/New_York", "Hourly, America/New_York")
        dash.shot("overview-shop-by-setting")

        page = dash.open("/settings", site="blog")
        page.fill("#s-currency", "e1r")
        page.click("#settings-form button[type=submit]")
        # The browser's own pattern check stops a wrong code before it is sent.
        assert page.evaluate("document.querySelector('#s-currency').validity.valid") is False
        assert [s for s in dash.http.get("/api/sites").json()["sites"] if s["id"] == "blog"][0]["settings"] == {
            "goal": "signup", "currency": "EUR", "shop": True, "timezone": "America/New_York", "replay_assets": False}
    finally:
        dash.close()
