"""The Reports page in real Chromium: an alert that posts to a webhook, its secret shown once,
Send now delivering a signed POST to a real receiver, the webhook listed on the Triggers page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

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


def _yesterday_visits(url: str, count: int) -> None:
    today = dt.datetime.now(dt.UTC).date()
    noon = int(dt.datetime(today.year, today.month, today.day, 12, tzinfo=dt.UTC).timestamp() * 1000) - 86_400_000
    events = [{"id": str(uuid.uuid4()), "type": "pageview", "ts": noon + n * 60_000, "session_id": f"s{n}",
               "anon_id": f"a{n}", "url": "https://shop.example/"} for n in range(count)]
    answer = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": events}, headers={"User-Agent": UA})
    assert answer.json() == {"accepted": count, "rejected": []}


def test_an_alert_posts_to_a_webhook_from_the_reports_page(server: Server, browser: Browser) -> None:
    _yesterday_visits(server.url, 3)
    dash = Dashboard(server, browser, 1280)
    try:
        with Receiver() as receiver:
            page = dash.page
            page.goto(f"{server.url}/reports?site=test")
            page.wait_for_selector("body[data-ready='1']")
            assert "no e-mail is sent until the operator sets TRAILMARK_SMTP_URL (webhooks still are)" in dash.text(
                "#page-body .alert")
            page.select_option("#alert-form select[name=metric]", "visitors")
            page.fill("#alert-form input[name=above]", "2")
            page.fill("#alert-form input[name=webhook]", receiver.url)
            page.click("#alert-form button[type=submit]")
            page.wait_for_selector("#secret")
            secret = dash.text("#secret .secret-value")
            assert secret.startswith("whsec_")
            assert dash.texts("#reports-table tbody tr td") == [
                "alert: visitors above 2", f"webhook {receiver.url} on", "never", "Send nowDelete"]
            dash.shot("reports-webhook-created")

            page.click("#reports-table button:has-text('Send now')")
            page.wait_for_selector("#report-note")
            assert dash.text("#report-note") == "Sent: Trailmark alert · Test site: visitors above 2 (webhook queued)"
            assert page.query_selector("#secret") is None  # the secret is not shown again
            (got,) = wait_for(lambda: receiver.answered(), "the alert's webhook")
            assert signing.verify(secret, got.headers["trailmark-signature"], got.body)
            assert (got.json["type"], got.json["alert"]["value"], got.json["summary"]) == (
                "alert.fired", 3.0, "visitors on Test site was 3 yesterday: above 2.")
            dash.shot("reports-webhook-sent")

            page.goto(f"{server.url}/triggers?site=test")
            page.wait_for_selector("#triggers-table tbody tr td:nth-child(2)")
            assert dash.texts("#triggers-table tbody td:nth-child(1)") == ["Alert: visitors above 2"]
            assert dash.texts("#triggers-table tbody td:nth-child(2)") == ["its alert fires (Reports page)"]
            page.click("#triggers-table button:has-text('Deliveries')")
            page.wait_for_selector("#deliveries-table tbody tr td:nth-child(2)")
            cells = dash.texts("#deliveries-table tbody tr:first-child td")
            assert (cells[1], cells[2], cells[3], cells[6]) == ("delivered", "1", "HTTP 200", got.delivery[:8])
            assert page.query_selector("#triggers-table button:has-text('Delete')") is None
            dash.shot("triggers-alert-webhook")
            assert dash.errors == []
    finally:
        dash.close()
