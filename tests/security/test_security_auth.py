"""Authorization: admin token or login session for the API and dashboard, keys scoped to their site,
origin allow-lists, per-IP and per-site rate limits, login limits, security headers, no path traversal."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collector.access import PUBLIC, UNAUTHORIZED
from collector.api.openapi import walk
from collector.app import create_app
from collector.auth import COOKIE, session_cookie
from collector.store import SQLiteStore
from tests.support.collector import ADMIN_TOKEN, Client, make_settings, make_store

BASE = "http://127.0.0.1:8000"


def _event(**fields: Any) -> dict[str, Any]:
    return {"type": "pageview", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000), "anon_id": "a",
            "session_id": "s", "url": "https://shop.example/", **fields}


def _api_requests(client: Client) -> list[tuple[str, str]]:
    """Every /api route of the app with a concrete path."""
    out = []
    for path, route in walk(client.http.app.routes):  # type: ignore[attr-defined]
        if getattr(getattr(route, "endpoint", None), "min_role", None) == PUBLIC:
            continue  # a share link's own view: its token is its credential (tests/api/test_teams.py)
        if path.startswith("/api/"):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                out.append((method, path.replace("{id}", "x")))
    return out


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"}, {"Authorization": "Bearer "},
    {"Cookie": f"{COOKIE}={session_cookie('another-token')}"},
    {"Cookie": f"{COOKIE}={session_cookie(ADMIN_TOKEN, now=time.time() - 8 * 86400)}"},  # expired
    {"Cookie": f"{COOKIE}=9999999999.forged"},
], ids=["none", "wrong", "basic", "longer", "empty", "other-token-cookie", "expired-cookie", "forged-cookie"])
def test_every_api_route_refuses_without_the_token_or_a_valid_session(client: Client, headers: dict[str, str]) -> None:
    requests = _api_requests(client)
    assert len(requests) >= 10
    for method, path in requests:
        answer = client.http.request(method, path, headers=headers)
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json() == {"error": UNAUTHORIZED}


def test_the_token_and_a_login_session_both_open_the_api(client: Client) -> None:
    assert client.http.get("/api/sites", headers=client.admin).status_code == 200
    cookie = {"Cookie": f"{COOKIE}={session_cookie(ADMIN_TOKEN)}"}
    assert client.http.get("/api/sites", headers=cookie).status_code == 200
    # A cookie rides along on cross-site requests: erasing needs our own Origin too.
    assert client.http.delete("/api/persons/x", headers=cookie).status_code == 401
    assert client.http.delete("/api/persons/x", headers={**cookie, "Origin": "https://evil.example"}).status_code == 401
    assert client.http.delete("/api/persons/x", headers={**cookie, "Origin": BASE}).status_code == 200


def test_dashboard_pages_need_a_login_and_carry_security_headers(client: Client) -> None:
    for page in ("/overview", "/sessions", "/people", "/funnels"):
        answer = client.http.get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    cookie = {"Cookie": f"{COOKIE}={session_cookie(ADMIN_TOKEN)}"}
    for page in ("/login", "/overview", "/sessions", "/people"):
        answer = client.http.get(page, headers=cookie if page != "/login" else {})
        assert answer.status_code == 200, page
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"


def test_wrong_logins_are_throttled_per_address_but_the_right_token_still_gets_in(client: Client) -> None:
    origin = {"Origin": BASE}
    for _ in range(10):
        answer = client.http.post("/login", data={"token": "guess"}, headers=origin, follow_redirects=False)
        assert answer.status_code == 401
    answer = client.http.post("/login", data={"token": "guess"}, headers=origin, follow_redirects=False)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) > 0
    assert COOKIE not in answer.headers.get("set-cookie", "")
    # Anyone sharing the address (every visitor, behind a proxy) cannot lock the analyst out.
    answer = client.http.post("/login", data={"token": ADMIN_TOKEN}, headers=origin, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["set-cookie"].startswith(f"{COOKIE}=")


def test_login_refuses_cross_site_posts_and_sets_a_strict_cookie(client: Client) -> None:
    answer = client.http.post("/login", data={"token": ADMIN_TOKEN}, headers={"Origin": "https://evil.example"},
                              follow_redirects=False)
    assert answer.status_code == 403
    answer = client.http.post("/login", data={"token": ADMIN_TOKEN, "next": "//evil.example/"},
                              headers={"Origin": BASE}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/overview"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


@pytest.fixture
def two_sites(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    db_path = tmp_path / "trailmark.db"
    store = SQLiteStore(db_path)
    store.add_site("alpha", "Alpha", origins=("https://alpha.example",), key="wk_alpha")
    store.add_site("beta", "Beta", origins=("https://*.beta.example",), key="wk_beta")
    with TestClient(create_app(make_settings(db_path), store), base_url=BASE) as http:
        yield http, db_path


def test_a_write_key_only_writes_to_its_own_site(two_sites: tuple[TestClient, Path]) -> None:
    http, db_path = two_sites
    from tests.support.collector import read_rows

    shared_id = str(uuid.uuid4())
    beta = _event(id=shared_id, session_id="beta-session")
    assert http.post("/v1/batch", json={"key": "wk_beta", "events": [beta]}).json()["accepted"] == 1
    # The same event id and session id sent with alpha's key land in alpha, and touch nothing of beta.
    alpha = _event(id=shared_id, session_id="beta-session", url="https://alpha.example/x")
    assert http.post("/v1/batch", json={"key": "wk_alpha", "events": [alpha]}).json()["accepted"] == 1
    chunk = {"key": "wk_alpha", "session_id": "beta-session", "seq": 0, "events": [{"type": 2, "timestamp": 1}]}
    assert http.post("/v1/replay", json=chunk).json()["stored"] is True
    rows = read_rows(db_path, "SELECT site_id, id, url FROM events ORDER BY site_id")
    assert rows == [
        {"site_id": "alpha", "id": shared_id, "url": "https://alpha.example/x"},
        {"site_id": "beta", "id": shared_id, "url": "https://shop.example/"},
    ]
    assert read_rows(db_path, "SELECT site_id, has_replay FROM sessions ORDER BY site_id") == [
        {"site_id": "alpha", "has_replay": 1}, {"site_id": "beta", "has_replay": 0},
    ]
    assert read_rows(db_path, "SELECT site_id FROM replay_chunks") == [{"site_id": "alpha"}]


@pytest.mark.parametrize(("key", "origin", "status"), [
    ("wk_alpha", "https://alpha.example", 200),
    ("wk_alpha", "https://alpha.example.evil.com", 403),
    ("wk_alpha", "http://alpha.example", 403),
    ("wk_alpha", "https://beta.example", 403),
    ("wk_alpha", "null", 403),
    ("wk_beta", "https://shop.beta.example", 200),
    ("wk_beta", "https://beta.example.evil.com", 403),
    ("wk_beta", "https://evilbeta.example", 403),
    ("wk_nope", "https://alpha.example", 401),
])
def test_origins_outside_the_allow_list_are_refused(
    two_sites: tuple[TestClient, Path], key: str, origin: str, status: int
) -> None:
    http, db_path = two_sites
    from tests.support.collector import read_rows

    headers = {"Origin": origin}
    event = _event()
    answer = http.post("/v1/batch", json={"key": key, "events": [event]}, headers=headers)
    assert answer.status_code == status, answer.text
    chunk = {"key": key, "session_id": "s", "seq": 0, "events": [{"type": 2, "timestamp": 1}]}
    assert http.post("/v1/replay", json=chunk, headers=headers).status_code == status
    http.get("/v1/p.gif", params={"k": key, "u": "https://alpha.example/gif"}, headers=headers)
    stored = read_rows(db_path, "SELECT count(*) AS n FROM events")[0]["n"]
    assert stored == (2 if status == 200 else 0)
    if status == 403:
        assert answer.json() == {"error": "origin not allowed for this site"}


def test_per_ip_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    app = create_app(make_settings(db_path, rate_limit=2.0), make_store(db_path))
    with TestClient(app, base_url=BASE) as http:
        statuses = [http.post("/v1/batch", json={"key": "wk_test", "events": [_event()]}).status_code
                    for _ in range(8)]
        # A burst of twice the rate goes through, then the address waits.
        assert statuses[:4] == [200] * 4 and statuses[-1] == 429
        answer = http.post("/v1/batch", json={"key": "wk_test", "events": [_event()]})
        assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
        assert answer.json() == {"error": "too many requests from this address"}


def test_per_site_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    app = create_app(make_settings(db_path, site_rate_limit=1.0), make_store(db_path))
    with TestClient(app, base_url=BASE) as http:
        answers = [http.post("/v1/batch", json={"key": "wk_test", "events": [_event()]}) for _ in range(4)]
        assert [a.status_code for a in answers[:2]] == [200, 200]
        assert answers[-1].status_code == 429 and answers[-1].headers["retry-after"] == "1"
        assert answers[-1].json() == {"error": "too many requests for this site"}
        # Another site is not slowed down by this one.
        app.state.store.add_site("other", "Other", key="wk_other")
        assert http.post("/v1/batch", json={"key": "wk_other", "events": [_event()]}).status_code == 200


TRAVERSALS = [
    "/trailmark.js/../../pyproject.toml", "/trailmark.js%2f..%2f..%2fpyproject.toml",
    "/ui/static/../../app.py", "/ui/static/%2e%2e/%2e%2e/app.py", "/ui/static/..%2f..%2fapp.py",
    "/ui/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml", "/ui/static//etc/passwd",
    "/ui/static/..\\..\\app.py", "/demo/../../pyproject.toml", "/demo/%2e%2e/%2e%2e/pyproject.toml",
    "/demo/..%2f..%2f..%2fpyproject.toml", "/demo/assets/../../cli.py", "/demo/assets/%2e%2e/%2e%2e/cli.py",
    "/static/../collector/app.py", "/static/%2e%2e/pyproject.toml", "/ui/static/%00/../app.py",
    "/demo/assets/%252e%252e/%252e%252e/cli.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_files_do_not_traverse(client: Client, path: str) -> None:
    answer = client.http.get(path)
    assert answer.status_code in (400, 404, 405), (path, answer.status_code)
    for secret in (b"create_app", b"[project]", b"root:x:", b"def main("):
        assert secret not in answer.content, path
