"""Dashboard logins under attack: malformed cookies, logout that revokes, the proxy's scheme, /metrics."""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from collector.access import UNAUTHORIZED
from collector.app import create_app
from collector.auth import COOKIE, session_cookie
from collector.config import Settings
from tests.support.collector import (
    ADMIN_TOKEN,
    Client,
    Server,
    ThreadedServer,
    free_port,
    make_settings,
    make_store,
    read_rows,
)

BASE = "http://127.0.0.1:8000"
ORIGIN = {"Origin": BASE}
GOOD = session_cookie(ADMIN_TOKEN)
MALFORMED = [
    b"\xb2.ab",  # a unicode digit ("superscript two" in latin-1): isdigit() says yes, int() says no
    b"9" * 5000 + b".ab",  # int() refuses more than 4,300 digits
    b"1" * 5000 + b"." + GOOD.split(".", 1)[1].encode(),
    b"\xff\xfe\x80garbage",  # not UTF-8
    b"..", b".", b"-1.x.y", b"\x00", b"%ZZ", GOOD.encode() + b"x", b"0" + GOOD.encode(),
    GOOD.replace(".", "..", 1).encode(),
]


@pytest.mark.parametrize("value", MALFORMED, ids=range(len(MALFORMED)))
def test_a_malformed_cookie_is_no_cookie_on_every_route(client: Client, value: bytes) -> None:
    cookie = {"Cookie": COOKIE.encode() + b"=" + value}
    answer = client.http.get("/api/sites", headers=cookie)
    assert (answer.status_code, answer.json()) == (
        401, {"error": UNAUTHORIZED})
    answer = client.http.get("/overview", headers=cookie, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login?next=%2Foverview")
    assert client.http.get("/login", headers=cookie).status_code == 200
    assert client.http.get("/healthz", headers=cookie).text == "ok"
    assert client.http.post("/v1/batch", headers=cookie, json={"key": client.key, "events": [
        {"type": "track", "id": "e1", "ts": int(time.time() * 1000), "anon_id": "a", "name": "x"},
    ]}).json() == {"accepted": 1, "rejected": []}
    answer = client.http.post("/logout", headers={**cookie, **ORIGIN}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    # The bearer token still works beside a malformed cookie.
    assert client.http.get("/api/sites", headers={**cookie, **client.admin}).status_code == 200


def _login(http: TestClient) -> str:
    answer = http.post("/login", data={"token": ADMIN_TOKEN}, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303
    value = answer.cookies[COOKIE]
    http.cookies.clear()
    return str(value)


def test_logout_revokes_the_session_server_side(client: Client) -> None:
    stolen = _login(client.http)
    other = _login(client.http)  # the same analyst, logged in on another machine
    assert stolen != other
    jar = {"Cookie": f"{COOKIE}={stolen}"}
    assert client.http.get("/api/sites", headers=jar).status_code == 200
    answer = client.http.post("/logout", headers={**jar, **ORIGIN}, follow_redirects=False)
    assert answer.status_code == 303 and f'{COOKIE}=""' in answer.headers["set-cookie"]
    # A copy of the cookie kept by a thief (the browser deleted its own) is now refused everywhere.
    assert client.http.get("/api/sites", headers=jar).status_code == 401
    assert client.http.get("/overview", headers=jar, follow_redirects=False).status_code == 303
    login_form = client.http.get("/login", headers=jar, follow_redirects=False)
    assert login_form.status_code == 200  # not redirected into the dashboard
    assert client.rows("SELECT id FROM revoked_logins") == [{"id": stolen.split(".")[1]}]
    # Only that login ends: the other one goes on.
    assert client.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={other}"}).status_code == 200
    # A logout sent from another site revokes nothing.
    refused = client.http.post("/logout", headers={"Cookie": f"{COOKIE}={other}", "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert client.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={other}"}).status_code == 200


def test_revocations_survive_a_restart_and_expired_ones_are_dropped(tmp_path: Path) -> None:
    db_path = tmp_path / "trailmark.db"
    store = make_store(db_path)
    with TestClient(create_app(make_settings(db_path), store), base_url=BASE) as http:
        value = _login(http)
        with sqlite3.connect(db_path) as conn:  # a logout whose cookie has expired since
            conn.execute("INSERT INTO revoked_logins VALUES ('expired-long-ago-xxxxxx', 1)")
        http.post("/logout", headers={"Cookie": f"{COOKIE}={value}", **ORIGIN})
    with TestClient(create_app(make_settings(db_path), make_store(db_path)), base_url=BASE) as http:
        assert http.get("/api/sites", headers={"Cookie": f"{COOKIE}={value}"}).status_code == 401
    assert read_rows(db_path, "SELECT id FROM revoked_logins") == [{"id": value.split(".")[1]}]


@pytest.fixture
def behind_proxy(tmp_path: Path) -> Iterator[str]:
    """A real uvicorn on loopback that trusts 127.0.0.1 as its reverse proxy."""
    db_path = tmp_path / "trailmark.db"
    port = free_port()
    app = create_app(make_settings(db_path, trusted_proxies=("127.0.0.1",)), make_store(db_path))
    with ThreadedServer(app, port):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(("proto", "secure"), [
    ("https", True), ("HTTPS", True), ("http", False), (None, False),
    ("https, http", False),  # the nearest proxy saw plain http; the rest is the client's word
    ("http, https", True),
])
def test_a_trusted_proxys_forwarded_proto_makes_the_cookie_secure(
    behind_proxy: str, proto: str | None, secure: bool,
) -> None:
    headers = {"Origin": behind_proxy}  # the form checks Origin's host against Host, whatever the scheme
    if proto is not None:
        headers["X-Forwarded-Proto"] = proto
    answer = httpx.post(f"{behind_proxy}/login", data={"token": ADMIN_TOKEN}, headers=headers)
    assert answer.status_code == 303
    assert ("; secure" in answer.headers["set-cookie"].lower()) is secure


def test_forwarded_proto_from_an_untrusted_peer_is_ignored(collector_server: Server) -> None:
    answer = httpx.post(f"{collector_server.url}/login", data={"token": ADMIN_TOKEN},
                        headers={"Origin": collector_server.url, "X-Forwarded-Proto": "https"})
    assert answer.status_code == 303
    assert "secure" not in answer.headers["set-cookie"].lower()


def _metrics_app(tmp_path: Path, **overrides: object) -> TestClient:
    db_path = tmp_path / "trailmark.db"
    return TestClient(create_app(make_settings(db_path, **overrides), make_store(db_path)), base_url=BASE)


@pytest.mark.parametrize(("overrides", "headers", "status"), [
    ({}, {}, 401),
    ({}, {"Authorization": "Bearer wrong"}, 401),
    ({}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}, 200),
    ({}, {"Cookie": f"{COOKIE}={GOOD}"}, 401),  # a dashboard cookie is for people, not scrapers
    ({"metrics_token": "scrape-token-0123456789"}, {"Authorization": "Bearer scrape-token-0123456789"}, 200),
    ({"metrics_token": "scrape-token-0123456789"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}, 200),
    ({"metrics_token": "scrape-token-0123456789"}, {"Authorization": "Bearer scrape-token"}, 401),
    ({"metrics_public": True}, {}, 200),
])
def test_metrics_need_a_token_unless_opened(
    tmp_path: Path, overrides: dict[str, object], headers: dict[str, str], status: int,
) -> None:
    with _metrics_app(tmp_path, **overrides) as http:
        answer = http.get("/metrics", headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert answer.json() == {
            "error": "metrics token required (Authorization: Bearer <admin or metrics token>)"}
        assert answer.headers["www-authenticate"] == "Bearer"
    else:
        assert "trailmark_events_accepted_total 0\n" in answer.text


def test_settings_read_the_metrics_options_and_refuse_a_short_admin_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRAILMARK_METRICS_TOKEN", "scrape-token-0123456789")
    monkeypatch.setenv("TRAILMARK_METRICS_PUBLIC", "true")
    monkeypatch.setenv("TRAILMARK_ADMIN_TOKEN", "a" * 20)
    settings = Settings.from_env()
    assert (settings.metrics_token, settings.metrics_public, settings.admin_token) == (
        "scrape-token-0123456789", True, "a" * 20)
    monkeypatch.setenv("TRAILMARK_ADMIN_TOKEN", "hunter2")
    with pytest.raises(AssertionError, match="TRAILMARK_ADMIN_TOKEN must be at least 20 characters"):
        Settings.from_env()
    assert dataclasses.fields(Settings)  # the defaults stay: metrics closed, no metrics token
    assert (Settings().metrics_token, Settings().metrics_public) == (None, False)


def test_serve_refuses_a_short_admin_token_in_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from collector.cli import main

    result = CliRunner().invoke(
        main, ["serve", "--db", str(tmp_path / "t.db")], env={"TRAILMARK_ADMIN_TOKEN": "hunter2"}
    )
    assert (result.exit_code, result.output) == (
        1, "Error: TRAILMARK_ADMIN_TOKEN must be at least 20 characters: use `openssl rand -base64 24`\n")
    assert not (tmp_path / "t.db").exists()  # refused before anything is made
