"""Members, API keys, share links and reports in real Chromium at 1280 px: an owner who joined by
an invite link makes each one, and a share link opens for a stranger with no account."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from collector.ui.login import make_invite
from e2e.dashboard_data import browser_fixture, seed, server_fixture  # noqa: F401  (fixtures `browser`, `server`)

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("TRAILMARK_SHOTS", "/tmp/trailmark-shots"))
VIEWPORT = {"width": 1280, "height": 900}


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _owner(server: Any, browser: Browser) -> Page:
    token = make_invite(server.store, "owner@example.com", {"*": "owner"})
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server.url}/invite/{token}")
    assert page.text_content("#invite-email") == "owner@example.com"
    _shot(page, "invite")
    page.fill("#password", "a long passphrase")
    page.click("#password-form button[type=submit]")
    page.wait_for_url(server.url + "/overview")
    return page


def test_an_owner_invites_makes_a_key_and_schedules_a_report(server: Any, browser: Browser) -> None:
    page = _owner(server, browser)
    page.goto(server.url + "/members?site=test")
    page.fill("#invite-form input[name=email]", "ana@example.com")
    page.select_option("#invite-form select[name=role]", "analyst")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("#secret")
    assert page.text_content("#secret .secret-value").startswith(server.url + "/invite/")
    rows = [" ".join(r.split()) for r in page.locator("#members-table tbody tr").all_inner_texts()]
    assert rows == ["ana@example.com analyst invited Remove", "owner@example.com owner active Remove"]
    _shot(page, "members")

    page.goto(server.url + "/keys?site=test")
    page.fill("#key-form input[name=name]", "nightly export")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#secret")
    key = page.text_content("#secret .secret-value") or ""
    assert key.startswith("tmk_")
    assert page.request.get(server.url + "/api/overview?site=test",
                            headers={"Authorization": f"Bearer {key}"}).status == 200
    assert "nightly export" in page.inner_text("#keys-table")
    _shot(page, "keys")

    page.goto(server.url + "/reports?site=test")
    page.fill("#report-form input[name=recipients]", "team@example.com")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#reports-table >> text=weekly report")
    page.fill("#alert-form input[name=change]", "0.3")
    page.fill("#alert-form input[name=recipients]", "ops@example.com")
    page.click("#alert-form button[type=submit]")
    page.wait_for_selector("#reports-table >> text=alert: visitors moves 30% from usual")
    _shot(page, "reports")


def test_a_share_link_opens_for_a_stranger_until_revoked(server: Any, browser: Browser) -> None:
    seed(server.url, server.key)
    page = _owner(server, browser)
    page.goto(server.url + "/shares?site=test")
    page.select_option("#share-form select[name=view]", "overview")
    page.click("#share-form button[type=submit]")
    page.wait_for_selector("#secret")
    link = page.text_content("#secret .secret-value") or ""
    _shot(page, "shares")
    stranger = browser.new_context(viewport=VIEWPORT).new_page()
    stranger.goto(link)
    assert stranger.title() == "Test site · Overview · Trailmark"
    visitors = stranger.locator('[data-kpi="visitors"] .value').first.inner_text()
    assert int(visitors) > 0
    _shot(stranger, "share-view")
    page.click("#shares-table button:has-text('Revoke')")
    page.wait_for_selector("#shares-table >> text=revoked")
    assert stranger.goto(link).status == 410  # type: ignore[union-attr]
    assert "revoked" in stranger.inner_text("main")
