"""Accounts, invites, password sign-in and its limits, API keys, share links: through real HTTP,
on every store (accounts live in the store, so collectors sharing a ClickHouse share them)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from collector.access import UNAUTHORIZED
from collector.api.teams import share_token
from collector.app import create_app
from collector.auth import COOKIE, key_hash, session_cookie
from collector.cli import main
from collector.store import Store
from collector.ui.login import DEVICE_COOKIE, MAX_FAILURES
from tests.support.collector import ADMIN_TOKEN, every_store, make_settings, open_engine

pytestmark = every_store

BASE = "http://127.0.0.1:8000"
ORIGIN = {"Origin": BASE}
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PASSWORD = "correct horse battery"


@dataclass
class Team:
    http: TestClient
    db_path: Path
    store: Store

    @property
    def url(self) -> str:
        """The store's URL, for the command line."""
        return getattr(self.store, "url", f"sqlite:///{self.db_path}")

    def invite(self, email: str, role: str, site: str = "test") -> str:
        made = self.http.post("/api/members", params={"site": site}, headers=OWNER, json={"email": email, "role": role})
        assert made.status_code == 200, made.text
        return str(made.json()["invite_url"]).removeprefix(BASE)

    def join(self, email: str, role: str, site: str = "test") -> TestClient:
        """A browser of its own that accepted an invite (and so holds a session and a device cookie)."""
        link = self.invite(email, role, site)
        browser = TestClient(self.http.app, base_url=BASE)
        form = browser.get(link)
        assert form.status_code == 200 and email in form.text
        chosen = browser.post("/invite", data={"invite": link.rsplit("/", 1)[1], "password": PASSWORD},
                              headers=ORIGIN, follow_redirects=False)
        assert chosen.status_code == 303, chosen.text
        return browser


@pytest.fixture
def team(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Team]:
    db_path = tmp_path / "trailmark.db"
    store = open_engine(engine, tmp_path, request)
    store.add_site("other", "Other site", key="wk_other")
    with TestClient(create_app(make_settings(db_path), store), base_url=BASE) as http:
        yield Team(http, db_path, store)


def _login(http: TestClient, email: str, password: str, **cookies: str) -> int:
    for name, value in cookies.items():
        http.cookies.set(name, value)
    answer = http.post("/login", data={"email": email, "password": password}, headers=ORIGIN, follow_redirects=False)
    return answer.status_code


def test_an_invited_person_chooses_a_password_once_and_gets_their_role_only(team: Team) -> None:
    link = team.invite("Ana@Example.com", "analyst")
    token = link.rsplit("/", 1)[1]
    short = team.http.post("/invite", data={"invite": token, "password": "short"}, headers=ORIGIN)
    assert short.status_code == 400 and "at least 10 characters" in short.text
    cross_site = team.http.post("/invite", data={"invite": token, "password": PASSWORD},
                                headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    browser = TestClient(team.http.app, base_url=BASE)
    chosen = browser.post("/invite", data={"invite": token, "password": PASSWORD}, headers=ORIGIN,
                          follow_redirects=False)
    assert chosen.status_code == 303 and browser.cookies.get(COOKIE)
    assert team.http.get(link).status_code == 404  # single use
    assert team.http.post("/invite", data={"invite": token, "password": PASSWORD}, headers=ORIGIN).status_code == 404
    assert browser.get("/api/sessions", params={"site": "test"}).status_code == 200
    assert browser.get("/api/sessions", params={"site": "other"}).status_code == 403
    assert browser.delete("/api/persons/p1", params={"site": "test"}, headers=ORIGIN).status_code == 403
    assert browser.get("/api/me").json() == {"kind": "account", "name": "ana@example.com", "roles": {"test": "analyst"}}
    # Signing in again: email any case, the right password; a wrong one is a 401 with the email kept.
    fresh = TestClient(team.http.app, base_url=BASE)
    assert _login(fresh, "ANA@example.com", PASSWORD) == 303
    wrong = fresh.post("/login", data={"email": "ana@example.com", "password": "nope"}, headers=ORIGIN)
    assert wrong.status_code == 401 and 'value="ana@example.com"' in wrong.text


def test_members_are_listed_per_site_and_a_removed_member_loses_access_at_once(team: Team) -> None:
    browser = team.join("vi@example.com", "viewer")
    assert browser.get("/api/overview", params={"site": "test"}).status_code == 200
    assert browser.get("/api/sessions", params={"site": "test"}).status_code == 403  # no session ids for viewers
    listed = team.http.get("/api/members", params={"site": "test"}, headers=OWNER).json()["members"]
    assert [(m["email"], m["role"], m["active"]) for m in listed] == [("vi@example.com", "viewer", True)]
    assert team.http.get("/api/members", params={"site": "other"}, headers=OWNER).json() == {"members": []}
    member_id = listed[0]["id"]
    assert browser.get("/api/members", params={"site": "test"}).status_code == 403
    removed = team.http.delete(f"/api/members/{member_id}", params={"site": "test"}, headers=OWNER)
    assert removed.json() == {"removed": member_id, "site": "test"}
    assert browser.get("/api/overview", params={"site": "test"}).status_code == 403
    assert team.http.delete(f"/api/members/{member_id}", params={"site": "test"}, headers=OWNER).status_code == 404
    bad = team.http.post("/api/members", params={"site": "test"}, headers=OWNER, json={"email": "x", "role": "viewer"})
    assert bad.status_code == 400
    bad = team.http.post("/api/members", params={"site": "test"}, headers=OWNER, json={"email": "a@b.c", "role": "god"})
    assert bad.status_code == 400


def test_account_sessions_expire_and_logout_ends_them(team: Team) -> None:
    browser = team.join("ow@example.com", "owner")
    cookie = browser.cookies[COOKIE]
    account_id = int(cookie.split(".")[2][1:])
    expired = session_cookie(ADMIN_TOKEN, now=time.time() - 8 * 86400, account_id=account_id)
    assert team.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={expired}"}).status_code == 401
    # The account id is under the MAC: a cookie cannot be moved to another account.
    forged = cookie.replace(f".a{account_id}.", f".a{account_id + 1}.")
    assert team.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={forged}"}).status_code == 401
    assert team.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={cookie}"}).status_code == 200
    assert browser.post("/logout", headers=ORIGIN, follow_redirects=False).status_code == 303
    assert team.http.get("/api/sites", headers={"Cookie": f"{COOKIE}={cookie}"}).status_code == 401


def test_password_guessing_is_throttled_but_the_rightful_browser_still_gets_in(team: Team) -> None:
    rightful = team.join("own@example.com", "owner")
    device = rightful.cookies[DEVICE_COOKIE]
    attacker = TestClient(team.http.app, base_url=BASE)
    for _ in range(MAX_FAILURES):
        assert _login(attacker, "own@example.com", "guess") == 401
    # Past the limit nothing is checked for the attacker: even the right password waits.
    blocked = attacker.post("/login", data={"email": "own@example.com", "password": PASSWORD}, headers=ORIGIN)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert COOKIE not in attacker.cookies
    # From another address too (the limit is per account as well as per address).
    elsewhere = TestClient(team.http.app, base_url=BASE, headers={"X-Forwarded-For": "203.0.113.9"})
    assert _login(elsewhere, "own@example.com", PASSWORD) == 429
    # The owner's own browser (it signed in before) gets in with the right password, and only with it.
    returning = TestClient(team.http.app, base_url=BASE)
    assert _login(returning, "own@example.com", "guess", **{DEVICE_COOKIE: device}) == 401
    assert _login(returning, "own@example.com", PASSWORD, **{DEVICE_COOKIE: device}) == 303
    # A device cookie is for one account: it opens no other account's throttle.
    other = team.join("ana@example.com", "analyst")
    for _ in range(MAX_FAILURES):
        assert _login(attacker, "ana@example.com", "guess") in (401, 429)
    thief = TestClient(team.http.app, base_url=BASE)
    assert _login(thief, "ana@example.com", PASSWORD, **{DEVICE_COOKIE: device}) == 429
    assert _login(other, "ana@example.com", PASSWORD) == 303
    # The admin token is never locked out at the same address.
    answer = attacker.post("/login", data={"token": ADMIN_TOKEN}, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303


def test_unknown_emails_answer_like_wrong_passwords(team: Team) -> None:
    browser = TestClient(team.http.app, base_url=BASE)
    answer = browser.post("/login", data={"email": "nobody@example.com", "password": PASSWORD}, headers=ORIGIN)
    assert answer.status_code == 401 and "That email and password do not match." in answer.text
    link = team.invite("pending@example.com", "viewer")  # invited, no password yet
    assert link
    answer = browser.post("/login", data={"email": "pending@example.com", "password": ""}, headers=ORIGIN)
    assert answer.status_code == 401


def test_api_keys_carry_their_role_and_stop_working_when_revoked(team: Team) -> None:
    made = team.http.post("/api/keys", params={"site": "test"}, headers=OWNER,
                          json={"name": "ci", "role": "analyst", "site": "test"})
    assert made.status_code == 200
    key, key_id = made.json()["key"], made.json()["id"]
    assert key.startswith("tmk_") and len(key) > 40
    bearer = {"Authorization": f"Bearer {key}"}
    assert team.http.get("/api/sessions", params={"site": "test"}, headers=bearer).status_code == 200
    assert team.http.get("/api/sessions", params={"site": "other"}, headers=bearer).status_code == 403
    assert team.http.get("/api/person/export", params={"site": "test", "id": "p"}, headers=bearer).status_code == 403
    listed = team.http.get("/api/keys", headers=OWNER).json()["keys"]
    assert [(k["id"], k["name"], k["role"], k["site"], k["revoked"]) for k in listed] == [
        (key_id, "ci", "analyst", "test", False)]
    assert key not in team.http.get("/api/keys", headers=OWNER).text
    assert _stored_key_hashes(team) == [key_hash(key)]  # the key itself is nowhere in the store
    # An owner of one site cannot make a key for every site.
    owner = team.join("own@example.com", "owner")
    every = owner.post("/api/keys", params={"site": "test"}, headers=ORIGIN,
                       json={"name": "all", "role": "owner", "site": "*"})
    assert every.status_code == 403
    assert team.http.delete(f"/api/keys/{key_id}", headers=OWNER).json() == {"revoked": key_id}
    answer = team.http.get("/api/sessions", params={"site": "test"}, headers=bearer)
    assert answer.status_code == 401 and answer.json() == {"error": UNAUTHORIZED}


def _stored_key_hashes(team: Team) -> list[str]:
    if team.store.engine == "sqlite":
        from tests.support.collector import read_rows

        return [str(r["key_hash"]) for r in read_rows(team.db_path, "SELECT key_hash FROM api_keys")]
    db = team.store.db  # type: ignore[attr-defined]
    return [row[0] for row in db.rows(f"SELECT key_hash FROM {db.t('api_keys')}")]


def _move_expiry(team: Team, share: dict[str, object], expires_at: int) -> None:
    """What an edit of the stored row would do: the expiry moved behind the signed token's back."""
    if team.store.engine == "sqlite":
        import sqlite3

        with sqlite3.connect(team.db_path) as conn:
            conn.execute("UPDATE share_links SET expires_at = ? WHERE id = ?", (expires_at, share["id"]))
        return
    from collector.store.clickhouse import teams
    from collector.store.clickhouse.client import lit

    db = team.store.db  # type: ignore[attr-defined]
    ((params, people, created_at),) = db.rows(
        f"SELECT params, people, created_at FROM {db.t('share_links')} FINAL WHERE id = {lit(share['id'])}")
    teams._put(db, "share_links", teams.SHARE,
               (share["id"], share["site"], share["view"], params, people, created_at, expires_at, None))


def test_keys_from_the_command_line(team: Team) -> None:
    runner = CliRunner()
    db = team.url
    made = runner.invoke(main, ["keys", "add", "--name", "export", "--role", "viewer", "--site", "test", "--store", db])
    assert made.exit_code == 0, made.output
    key = made.output.split(": ", 1)[1].split()[0]
    bearer = {"Authorization": f"Bearer {key}"}
    assert team.http.get("/api/overview", params={"site": "test"}, headers=bearer).status_code == 200
    assert team.http.get("/api/persons", params={"site": "test"}, headers=bearer).status_code == 403
    listed = runner.invoke(main, ["keys", "list", "--store", db])
    assert listed.output == "1\texport\tviewer\ttest\tactive\n"
    assert runner.invoke(main, ["keys", "revoke", "1", "--store", db]).output == "key 1 revoked\n"
    assert team.http.get("/api/overview", params={"site": "test"}, headers=bearer).status_code == 401
    again = runner.invoke(main, ["keys", "revoke", "1", "--store", db])
    assert again.exit_code == 1 and "no active key 1" in again.output
    missing = runner.invoke(main, ["keys", "add", "--name", "x", "--site", "nope", "--store", db])
    assert missing.exit_code == 1 and "no site 'nope'" in missing.output
    invited = runner.invoke(main, ["members", "invite", "cli@example.com", "--role", "analyst", "--site", "test",
                                   "--base-url", BASE, "--store", db])
    link = invited.output.splitlines()[0].removeprefix(BASE)
    assert team.http.get(link).status_code == 200
    assert runner.invoke(main, ["members", "list", "--store", db]).output == \
        "1\tcli@example.com\tinvited\tanalyst on test\n"


def test_a_share_link_opens_its_one_view_until_revoked_or_expired(team: Team) -> None:
    made = team.http.post("/api/shares", params={"site": "test"}, headers=OWNER,
                          json={"view": "overview", "days": 7, "params": {"last_days": "30", "site": "other"}})
    assert made.status_code == 200, made.text
    share = made.json()
    url = share["url"].removeprefix(BASE)
    token = url.rsplit("/", 1)[1]
    anonymous = TestClient(team.http.app, base_url=BASE)
    data = anonymous.get(f"/api/shared/{token}")
    assert data.status_code == 200
    assert data.json()["site"] == {"id": "test", "name": "Test site"} and data.json()["view"] == "overview"
    assert set(data.json()["data"]["metrics"]) >= {"visitors", "sessions", "pageviews"}
    page = anonymous.get(url)
    assert page.status_code == 200 and "Test site · Overview" in page.text and 'data-kpi="visitors"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    # Nothing in the visitor's URL widens it: not another site, not another view.
    assert anonymous.get(f"/api/shared/{token}", params={"site": "other", "view": "people"}).json() == data.json()
    # The token is no key: no other route opens with it.
    for path in ("/api/overview", "/api/sessions", "/api/persons", "/api/sessions/x/replay"):
        answer = anonymous.get(path, params={"site": "test"}, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, path
    assert anonymous.get("/overview", headers={"Authorization": f"Bearer {token}"},
                         follow_redirects=False).status_code == 303
    # Tampered: another id, another signature, a truncated token.
    share_id, mac = token.split(".")
    other_id = share_id[:-1] + ("B" if share_id[-1] == "A" else "A")
    for bad in (f"{other_id}.{mac}", f"{share_id}.{'0' * 32}", share_id, f"{token}x"):
        assert anonymous.get(f"/api/shared/{bad}").status_code == 404, bad
        assert anonymous.get(f"/share/{bad}").status_code == 404
    listed = team.http.get("/api/shares", params={"site": "test"}, headers=OWNER).json()["shares"]
    assert [s["url"] for s in listed] == [share["url"]]
    assert team.http.get("/api/shares", params={"site": "other"}, headers=OWNER).json() == {"shares": []}
    # Revoking on another site does nothing; on its own, the link is gone for good.
    assert team.http.delete(f"/api/shares/{share_id}", params={"site": "other"}, headers=OWNER).status_code == 404
    assert team.http.delete(f"/api/shares/{share_id}", params={"site": "test"}, headers=OWNER).status_code == 200
    gone = anonymous.get(f"/api/shared/{token}")
    assert (gone.status_code, gone.json()) == (410, {"error": "this share link was revoked"})
    assert anonymous.get(url).status_code == 410


def test_an_expired_share_link_is_refused(team: Team) -> None:
    made = team.http.post("/api/shares", params={"site": "test"}, headers=OWNER, json={"view": "retention", "days": 1})
    share = made.json()
    past = int(time.time()) - 1
    _move_expiry(team, share, past)
    # The old token signed the old expiry: moving it in the store voids it; the owner's new one is expired.
    assert team.http.get(share["url"].removeprefix(BASE)).status_code == 404
    token = share_token(ADMIN_TOKEN, {**share, "expires_at": past})
    answer = team.http.get(f"/api/shared/{token}")
    assert (answer.status_code, answer.json()) == (410, {"error": "this share link has expired"})


def test_share_links_never_open_replays_and_people_only_when_allowed(team: Team) -> None:
    def create(body: dict[str, object]) -> tuple[int, str]:
        answer = team.http.post("/api/shares", params={"site": "test"}, headers=OWNER, json=body)
        return answer.status_code, answer.json().get("error", "")

    assert create({"view": "replay"})[0] == 400
    assert create({"view": "people"}) == (400, 'a people view shows people: send "people": true to allow it')
    assert create({"view": "sessions"})[0] == 400
    assert create({"view": "overview", "days": 0})[0] == 400
    assert create({"view": "funnel", "params": {"steps": "[1]"}})[0] == 400
    analyst = team.join("an@example.com", "analyst")
    assert analyst.post("/api/shares", params={"site": "test"}, headers=ORIGIN,
                        json={"view": "overview"}).status_code == 403
    made = team.http.post("/api/shares", params={"site": "test"}, headers=OWNER,
                          json={"view": "people", "people": True}).json()
    shown = team.http.get(made["url"].removeprefix(BASE).replace("/share/", "/api/shared/"))
    assert shown.status_code == 200 and "people" in shown.json()["data"]
    steps = '[{"type":"pageview","url":"/"},{"type":"pageview","url":"/checkout"}]'
    funnel = team.http.post("/api/shares", params={"site": "test"}, headers=OWNER,
                            json={"view": "funnel", "params": {"steps": steps}})
    assert funnel.status_code == 200, funnel.text
    assert team.http.get(funnel.json()["url"].removeprefix(BASE)).status_code == 200
