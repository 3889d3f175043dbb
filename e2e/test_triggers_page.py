"""The triggers page in real Chromium: create an abandoned-cart rule, see its secret once, watch
its delivery arrive at a real receiver and in the page's delivery log, disable it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from collector.app import create_app
from collector.triggers import signing
from collector.triggers.service import Policy
from e2e.dashboard_data import Server, browser_fixture  # noqa: F401
from e2e.test_dashboard_pages import Dashboard
from tests.support.collector import KEY, ThreadedServer, free_port, make_settings, make_store
from tests.support.receiver import Receiver, wait_for

pytestmark = pytest.mark.e2e

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    db_path = tmp_path / "trailmark.db"
    store = make_store(db_path)
    port = free_port()
    policy = Policy(allow_private=True, backoff_base_s=0.05, backoff_cap_s=1.0)
    with ThreadedServer(create_app(make_settings(db_path, webhooks=policy), store), port):
        yield Server(f"http://127.0.0.1:{port}", port, db_path, store)


def cart(session: str, anon: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "cart", "ts": int(time.time() * 1000) - 500, "session_id": session,
            "anon_id": anon, "url": "https://shop.example/product/1", "action": "add",
            "item": {"sku": "MUG", "name": "Mug", "price": 12.0, "qty": 1, "currency": "EUR"}}


def test_create_a_trigger_and_read_its_deliveries(server: Any, browser: Browser) -> None:
    dash = Dashboard(server, browser, 1280)
    try:
        with Receiver() as receiver:
            page = dash.open("/triggers")
            assert dash.text("#triggers-table tbody") == "No triggers yet."
            assert page.is_hidden("#absent-fields") and page.is_visible("#on-fields")
            page.fill("#t-name", "Abandoned cart")
            page.fill("#t-url", receiver.url)
            page.select_option("#t-kind", "absence")
            assert page.is_visible("#absent-fields") and page.is_visible("#t-delay")
            page.select_option("#on-type", "cart")
            page.fill("#on-name", "add")
            page.select_option("#absent-type", "purchase")
            page.fill("#t-delay", "0.05")  # three seconds
            page.fill("#t-cooldown", "60")
            page.click("#trigger-form button[type=submit]")
            page.wait_for_selector("#new-secret")
            secret = dash.text("#secret")
            assert secret.startswith("whsec_")
            assert page.is_hidden("#on-min")  # survey scores only for survey events
            page.select_option("#on-type", "survey")
            assert page.is_visible("#on-min") and page.is_visible("#on-max")
            dash.shot("triggers-created")
            (rule,) = dash.http.get("/api/triggers", params={"site": "test"}).json()["triggers"]
            assert (rule["kind"], rule["event"], rule["absent"], rule["delay_s"], rule["cooldown_s"]) == (
                "absence", {"type": "cart", "name": "add"}, {"type": "purchase"}, 3, 3600)
            assert dash.texts("#triggers-table tbody td:nth-child(2)") == [
                "cart “add”, then no purchase within 3s"]

            answer = httpx.post(f"{server.url}/v1/batch", json={"key": KEY, "events": [cart("s1", "a1")]},
                                headers={"User-Agent": UA})
            assert answer.json() == {"accepted": 1, "rejected": []}
            (got,) = wait_for(lambda: receiver.answered(), "the webhook")
            assert signing.verify(secret, got.headers["trailmark-signature"], got.body)

            page = dash.open("/triggers")
            assert page.query_selector("#new-secret") is None  # the secret is not shown again
            page.click("#triggers-table button:has-text('Deliveries')")
            page.wait_for_selector("#deliveries-table tbody tr td:nth-child(2)")
            cells = dash.texts("#deliveries-table tbody tr:first-child td")
            assert (cells[1], cells[2], cells[3]) == ("delivered", "1", "HTTP 200")
            assert cells[6] == got.delivery[:8]
            dash.shot("triggers")

            page.click("#triggers-table button:has-text('Disable')")
            page.wait_for_selector("#triggers-table button:has-text('Enable')")
            assert dash.texts("#triggers-table tbody td:nth-child(5)") == ["off"]
    finally:
        dash.close()
