"""Dashboard routes in process: login rules, redirects, security headers, static assets."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from collector.auth import COOKIE
from collector.ui.login import FailedLogins, safe_next
from collector.ui.shell import NAV

ORIGIN = {"Origin": "http://127.0.0.1:8000"}
PAGES = ["/overview", "/sessions", "/sessions/abc", "/funnels", "/paths", "/retention", "/commerce",
         "/surveys", "/people", "/people/user_42", "/segments", "/settings", "/triggers"]


def login(client: Any) -> None:
    answer = client.http.post("/login", data={"token": client.admin_token}, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/overview"


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_you_to_login_and_come_back(client: Any, path: str) -> None:
    answer = client.http.get(path + "?site=test", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    next_path = answer.headers["location"].split("next=", 1)[1]
    answer = client.http.post("/login", data={"token": client.admin_token, "next": unquote(next_path)},
                              headers=ORIGIN, follow_redirects=False)
    assert answer.headers["location"] == path + "?site=test"


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_a_strict_policy(client: Any, path: str) -> None:
    login(client)
    answer = client.http.get(path)
    assert answer.status_code == 200
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "object-src 'none'" in csp and "frame-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in answer.text and " style=" not in answer.text  # nothing inline


def test_login_page_and_home(client: Any) -> None:
    assert client.http.get("/", follow_redirects=False).headers["location"] == "/login"
    page = client.http.get("/login")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert 'name="token"' in page.text
    login(client)
    assert client.http.get("/", follow_redirects=False).headers["location"] == "/overview"
    assert client.http.get("/login", follow_redirects=False).headers["location"] == "/overview"


def test_login_needs_our_origin_and_the_right_token(client: Any) -> None:
    refused = client.http.post("/login", data={"token": client.admin_token}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and COOKIE not in refused.cookies
    assert client.http.post("/login", data={"token": client.admin_token}).status_code == 403  # no Origin at all
    wrong = client.http.post("/login", data={"token": "nope"}, headers=ORIGIN)
    assert wrong.status_code == 401 and COOKIE not in wrong.cookies
    empty = client.http.post("/login", data={}, headers=ORIGIN)
    assert empty.status_code == 401


def test_the_cookie_is_httponly_strict_and_secure_over_https(client: Any) -> None:
    answer = client.http.post("/login", data={"token": client.admin_token}, headers=ORIGIN, follow_redirects=False)
    header = answer.headers["set-cookie"].lower()
    assert header.startswith(f"{COOKIE}=") and "httponly" in header and "samesite=strict" in header
    assert "secure" not in header
    secure = client.http.post("https://127.0.0.1:8000/login", data={"token": client.admin_token},
                              headers={"Origin": "https://127.0.0.1:8000"}, follow_redirects=False)
    assert "; secure" in secure.headers["set-cookie"].lower()


def test_logout_clears_the_cookie(client: Any) -> None:
    login(client)
    assert client.http.get("/api/sites").status_code == 200
    answer = client.http.post("/logout", headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert client.http.get("/api/sites").status_code == 401


@pytest.mark.parametrize("target, expected", [
    (None, "/overview"), ("", "/overview"), ("/sessions?x=1", "/sessions?x=1"),
    ("https://evil.example/", "/overview"), ("//evil.example/x", "/overview"), ("/\\evil.example", "/overview"),
    ("javascript:alert(1)", "/overview"), ("sessions", "/overview"),
])
def test_next_stays_on_this_server(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_failed_logins_slide_out_of_the_window() -> None:
    limits = FailedLogins(limit=3, window_s=60)
    for t in (0, 1, 2):
        assert limits.retry_after("ip", now=t) is None
        limits.record("ip", now=t)
    assert limits.retry_after("ip", now=3) == 57
    assert limits.retry_after("other", now=3) is None
    assert limits.retry_after("ip", now=60.5) is None  # the first failure has expired
    limits.clear("ip")
    assert limits.retry_after("ip", now=3) is None


def test_static_assets_are_served_with_nosniff(client: Any) -> None:
    for path in ("/ui/static/app.css", "/ui/static/js/app.js", "/ui/static/vendor/uPlot.iife.min.js"):
        answer = client.http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert client.http.get("/ui/static/js/app.js").headers["content-type"].startswith("text/javascript")


def test_every_nav_page_has_its_script(client: Any) -> None:
    for _, key, _ in NAV:
        assert client.http.get(f"/ui/static/js/pages/{key}.js").status_code == 200, key
