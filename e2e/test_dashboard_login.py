"""Dashboard login in real Chromium: wrong token, the httpOnly cookie, the API with it, foreign origins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from collector.auth import COOKIE
from e2e.dashboard_data import browser_fixture, server_fixture  # noqa: F401  (fixtures `browser`, `server`)

pytestmark = pytest.mark.e2e


def test_wrong_token_shows_an_error_and_sets_no_cookie(server: Any, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/overview")
    assert page.url == server.url + "/login?next=%2Foverview"
    page.fill("#token", "not-the-token")
    page.click("#token-form button[type=submit]")
    assert page.text_content("#login-error") == "That token is not right."
    assert page.url.startswith(server.url + "/login")
    assert [c for c in context.cookies() if c["name"] == COOKIE] == []
    assert page.request.get(server.url + "/api/sites").status == 401
    context.close()


def test_login_sets_an_httponly_strict_cookie_that_opens_the_api(server: Any, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/login?next=%2Fsessions")
    page.fill("#token", server.admin_token)
    page.click("#token-form button[type=submit]")
    page.wait_for_url(server.url + "/sessions")
    [cookie] = [c for c in context.cookies() if c["name"] == COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http on loopback; https sets Secure
    # Page scripts cannot read it, yet same-origin fetches carry it.
    assert page.evaluate("document.cookie") == ""
    sites = page.evaluate("fetch('/api/sites').then(r => r.json())")
    assert sites["sites"][0]["id"] == "test"
    context.close()


def test_a_post_with_the_cookie_from_a_foreign_origin_is_refused(server: Any, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#token", server.admin_token)
    page.click("#token-form button[type=submit]")
    page.wait_for_url(server.url + "/overview")
    body = {"name": "Mobile", "filters": {"device": "mobile"}}
    foreign = page.request.post(server.url + "/api/segments", data=body,
                                headers={"Origin": "https://evil.example"})
    assert foreign.status == 401
    own = page.request.post(server.url + "/api/segments", data=body,
                            headers={"Origin": server.url})
    assert own.status == 201
    assert server.rows("SELECT name FROM segments") == [{"name": "Mobile"}]
    # Logging out from another origin is refused too; from our own page it clears the cookie.
    assert page.request.post(server.url + "/logout", headers={"Origin": "https://evil.example"}).status == 403
    assert [c["name"] for c in context.cookies()] == [COOKIE]
    page.click(".logout button")
    page.wait_for_url(server.url + "/login")
    assert [c for c in context.cookies() if c["name"] == COOKIE] == []
    context.close()


def test_failed_logins_are_limited_per_address_and_never_lock_out_the_token(server: Any) -> None:
    origin = {"Origin": server.url}
    with httpx.Client(base_url=server.url, headers=origin) as http:
        for _ in range(10):
            assert http.post("/login", data={"token": "guess"}).status_code == 401
        blocked = http.post("/login", data={"token": "guess"})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert COOKIE not in blocked.cookies
        assert "Too many failed attempts" in blocked.text
        # Ten wrong tries by anyone at this address do not lock the analyst out.
        allowed = http.post("/login", data={"token": server.admin_token}, follow_redirects=False)
        assert allowed.status_code == 303 and COOKIE in allowed.cookies
