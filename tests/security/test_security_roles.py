"""Every route of the app, with every role: the exact allow or deny (401 without a principal, 403
without the role on the site asked about). Routes come from `app.routes`, so a route another
module adds is walked too, and one that declares no role fails here."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient

from collector.access import OWN_CHECK, PUBLIC, UNAUTHORIZED
from collector.app import create_app
from collector.auth import COOKIE, RANK, key_hash, session_cookie
from collector.ui.login import hash_password
from tests.support.collector import ADMIN_TOKEN, make_settings, make_store

BASE = "http://127.0.0.1:8000"
ORIGIN = {"Origin": BASE}

# What the product promises for its own routes; a route not listed is held to its declaration.
EXPECTED = {
    ("GET", "/api/sites"): "viewer", ("PATCH", "/api/sites/{id}"): "owner", ("POST", "/api/sites/{id}"): "owner",
    ("GET", "/api/overview"): "viewer", ("GET", "/api/paths"): "viewer", ("GET", "/api/retention"): "viewer",
    ("GET", "/api/commerce"): "viewer", ("GET", "/api/surveys"): "viewer", ("GET", "/api/segments"): "viewer",
    ("GET", "/api/heatmap"): "viewer", ("GET", "/api/heatmap/pages"): "viewer",
    ("POST", "/api/funnel"): "analyst", ("POST", "/api/segments"): "analyst",
    ("DELETE", "/api/segments/{id}"): "analyst", ("GET", "/api/sessions"): "analyst",
    ("GET", "/api/sessions/{id}"): "analyst", ("GET", "/api/sessions/{id}/replay"): "analyst",
    ("GET", "/api/persons"): "analyst", ("GET", "/api/persons/{id}"): "analyst", ("GET", "/api/person"): "analyst",
    ("GET", "/api/rejected"): "analyst", ("GET", "/api/heatmap/snapshot"): "analyst",
    ("GET", "/api/heatmap/moment"): "analyst",
    ("DELETE", "/api/persons/{id}"): "owner", ("DELETE", "/api/person"): "owner",
    ("GET", "/api/persons/{id}/export"): "owner", ("GET", "/api/person/export"): "owner",
    ("GET", "/overview"): "viewer", ("GET", "/sessions"): "analyst", ("GET", "/sessions/{id}"): "analyst",
    ("GET", "/sessions/{id}/replay"): "analyst", ("GET", "/people"): "analyst", ("GET", "/people/{id}"): "analyst",
    ("GET", "/settings"): "owner", ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC,
    ("POST", "/v1/batch"): PUBLIC, ("GET", "/metrics"): OWN_CHECK, ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/me"): "viewer", ("GET", "/api/members"): "owner", ("POST", "/api/members"): "owner",
    ("DELETE", "/api/members/{id}"): "owner", ("GET", "/api/keys"): "owner", ("POST", "/api/keys"): "owner",
    ("DELETE", "/api/keys/{id}"): "owner", ("GET", "/api/shares"): "owner", ("POST", "/api/shares"): "owner",
    ("DELETE", "/api/shares/{id}"): "owner", ("GET", "/api/shared/{token}"): PUBLIC,
    ("GET", "/share/{token}"): PUBLIC, ("GET", "/invite/{token}"): PUBLIC, ("POST", "/invite"): PUBLIC,
    ("GET", "/members"): "owner", ("GET", "/keys"): "owner", ("GET", "/shares"): "owner",
    ("GET", "/reports"): "owner", ("GET", "/api/reports"): "owner", ("POST", "/api/reports"): "owner",
    ("DELETE", "/api/reports/{id}"): "owner", ("POST", "/api/reports/{id}/send"): "owner",
    ("GET", "/api/suggest"): "viewer", ("GET", "/api/goals"): "viewer", ("POST", "/api/goals"): "owner",
    ("DELETE", "/api/goals/{id}"): "owner", ("GET", "/api/events"): "viewer", ("GET", "/api/vitals"): "viewer",
    ("GET", "/api/errors"): "analyst", ("GET", "/api/live"): "analyst", ("GET", "/api/export/sessions"): "analyst",
    ("GET", "/api/experiments"): "viewer", ("POST", "/api/experiments"): "analyst",
    ("GET", "/api/experiments/{key}"): "viewer", ("DELETE", "/api/experiments/{key}"): "analyst",
    ("GET", "/experiments"): "viewer", ("GET", "/errors"): "analyst", ("GET", "/live"): "analyst",
    ("GET", "/goals"): "viewer", ("GET", "/api/journey-map"): "viewer", ("GET", "/api/journey-map/stages"): "viewer",
    ("PUT", "/api/journey-map/stages"): "analyst", ("DELETE", "/api/journey-map/stages"): "analyst",
    ("GET", "/api/predictions"): "analyst", ("POST", "/api/predictions/train"): "analyst",
    ("GET", "/api/triggers"): "owner", ("POST", "/api/triggers"): "owner", ("GET", "/api/triggers/{id}"): "owner",
    ("PATCH", "/api/triggers/{id}"): "owner", ("DELETE", "/api/triggers/{id}"): "owner",
    ("GET", "/api/triggers/{id}/deliveries"): "owner", ("GET", "/triggers"): "owner",
    ("GET", "/api/ui/choices"): "viewer", ("GET", "/heatmaps"): "viewer", ("GET", "/replay-assets/{id}"): "analyst",
}


@dataclass
class Walk:
    http: TestClient
    credentials: dict[str, Callable[[], dict[str, str]]]

    @property
    def who(self) -> dict[str, dict[str, str]]:
        """Fresh headers per principal: a walk through /logout revokes the login it carried."""
        return {name: {**ORIGIN, **make()} for name, make in self.credentials.items()}


def _cookie(account_id: int | None) -> Callable[[], dict[str, str]]:
    return lambda: {"Cookie": f"{COOKIE}={session_cookie(ADMIN_TOKEN, account_id=account_id)}", **ORIGIN}


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    db_path = tmp_path_factory.mktemp("roles") / "trailmark.db"
    store = make_store(db_path)
    store.add_site("other", "Other site", key="wk_other")
    who: dict[str, Callable[[], dict[str, str]]] = {"anonymous": lambda: dict(ORIGIN)}
    password = hash_password("a password for the walk")
    for role in ("viewer", "analyst", "owner"):
        account_id = store.create_account(f"{role}@example.com")
        store.set_password(account_id, password)
        store.set_role(account_id, "test", role)
        who[role] = _cookie(account_id)
    elsewhere = store.create_account("owner-elsewhere@example.com")
    store.set_password(elsewhere, password)
    store.set_role(elsewhere, "other", "owner")
    who["owner-elsewhere"] = _cookie(elsewhere)
    store.add_api_key("ci", key_hash("tmk_analyst_key_for_the_walk"), "analyst", "test")
    who["analyst-key"] = lambda: {"Authorization": "Bearer tmk_analyst_key_for_the_walk"}
    who["admin-token"] = lambda: {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(make_settings(db_path), store), base_url=BASE) as http:
        yield Walk(http, who)


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str, Any]]:
    """(method, path template, declared role or None) for every route, into mounts that declare nothing."""
    for route in routes:
        declared = getattr(route, "min_role", None)
        if isinstance(route, Mount) and declared is None:
            yield from _routes(route.routes, prefix + route.path)
            continue
        if declared is None:
            declared = getattr(getattr(route, "endpoint", None), "min_role", None)
        methods = sorted((getattr(route, "methods", None) or {"GET"}) - {"HEAD"})
        for method in methods:
            yield method, prefix + route.path, declared


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "test", path)


RANKS = {"anonymous": {}, "viewer": {"test": 1}, "analyst": {"test": 2}, "owner": {"test": 3},
         "owner-elsewhere": {"other": 3}, "analyst-key": {"test": 2}, "admin-token": {"test": 3, "other": 3}}


def test_every_route_declares_a_role(walk: Walk) -> None:
    undeclared = [(m, p) for m, p, role in _routes(walk.http.app.routes) if role is None]  # type: ignore[attr-defined]
    assert undeclared == [], f"declare a role with collector/access.py: {undeclared}"
    declared = {(m, p): role for m, p, role in _routes(walk.http.app.routes)}  # type: ignore[attr-defined]
    assert {k: declared.get(k) for k in EXPECTED} == EXPECTED


def test_every_route_with_every_role_is_allowed_or_refused_exactly(walk: Walk) -> None:
    walked = 0
    for method, template, role in _routes(walk.http.app.routes):  # type: ignore[attr-defined]
        if role in (OWN_CHECK, None) or template.startswith("/ui/static"):
            continue
        path = _concrete(template)
        is_api = path.startswith(("/api/", "/replay-assets/"))  # answers, not pages: no login redirect
        for name, headers in walk.who.items():
            answer = walk.http.request(method, path, params={"site": "test"}, headers=headers,
                                       follow_redirects=False)
            to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
            got = (method, template, name, answer.status_code)
            if role == PUBLIC:  # its own answer (a wrong password is a 401), never the access check's
                refused = answer.status_code == 403 or (
                    answer.status_code == 401 and answer.headers["content-type"].startswith("application/json")
                    and answer.json() == {"error": UNAUTHORIZED})
                assert not refused and not to_login, got
                continue
            rank = RANKS[name].get("test", 0)
            if name == "anonymous":
                assert (answer.status_code == 401) if is_api else to_login, got
            elif rank < RANK[role] and (is_api or not RANKS[name]):
                assert answer.status_code == 403, got
            elif rank >= RANK[role]:
                assert answer.status_code not in (401, 403) and not to_login, got
            walked += 1
    assert walked > 200


def test_a_site_parameter_names_the_site_whose_role_counts(walk: Walk) -> None:
    """The owner of `test` is nobody on `other`: every API route refuses there, path-named or not."""
    for method, template, role in _routes(walk.http.app.routes):  # type: ignore[attr-defined]
        if not template.startswith("/api/") or role in (PUBLIC, OWN_CHECK):
            continue
        path = template.replace("/api/sites/{id}", "/api/sites/other")
        answer = walk.http.request(method, _concrete(path), params={"site": "other"}, headers=walk.who["owner"])
        assert answer.status_code == 403, (method, template, answer.text)
    # Naming no site with two sites present acts on both: an owner of one is refused there too.
    assert walk.http.get("/api/sessions/x", headers=walk.who["owner"]).status_code == 403
    assert walk.http.get("/api/sessions/x", headers=walk.who["admin-token"]).status_code == 404
    # The site a JSON body names counts as well as the query's.
    answer = walk.http.post("/api/segments", params={"site": "test"}, headers=walk.who["analyst"],
                            json={"site": "other", "name": "n", "filters": {}})
    assert answer.status_code == 403
    # Listings show only the sites one has a role on.
    sites = walk.http.get("/api/sites", headers=walk.who["viewer"]).json()["sites"]
    assert [s["id"] for s in sites] == ["test"]


def test_a_route_written_before_roles_is_caught_and_still_closed(tmp_path: Path) -> None:
    """What the walk reports for a helper's route that still uses the old wrappers: no declared
    role (so the first test above fails), and meanwhile only an owner of every site gets in."""
    from starlette.routing import Route

    from collector.api.base import admin
    from collector.ui.pages import protected

    db_path = tmp_path / "trailmark.db"
    app = create_app(make_settings(db_path), make_store(db_path))
    # First: Mount("/api") would answer /api/old with its own 404.
    app.router.routes.insert(0, Route("/api/old", admin(lambda request: {"ok": True})))
    app.router.routes.append(Route("/old", protected(lambda request: None)))  # type: ignore[arg-type,return-value]
    undeclared = [(m, p) for m, p, role in _routes(app.routes) if role is None]
    assert undeclared == [("GET", "/api/old"), ("GET", "/old")]
    store = app.state.store
    viewer = store.create_account("v@example.com")
    store.set_password(viewer, hash_password("a password for the walk"))
    store.set_role(viewer, "test", "viewer")
    with TestClient(app, base_url=BASE) as http:
        assert http.get("/api/old").status_code == 401
        assert http.get("/api/old", headers=_cookie(viewer)()).status_code == 403
        assert http.get("/api/old", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json() == {"ok": True}


def test_a_recorded_asset_copy_opens_only_for_an_analyst_of_its_own_site(walk: Walk) -> None:
    """Its id names no site: the copy's own site decides, and elsewhere it does not exist (404)."""
    from collector.store.assets import AssetCopy, AssetRef, copy_id

    store = walk.http.app.state.store  # type: ignore[attr-defined]
    data = b"body { color: teal }"
    asset_id = copy_id("other", "text/css", data)
    store.save_asset_copies("other", [AssetCopy(id=asset_id, site_id="other", content_type="text/css", data=data)],
                            [AssetRef(session_id="s-other", url="https://other.example/a.css", asset_id=asset_id,
                                      ts=1)], 1)
    path = f"/replay-assets/{asset_id}"
    got = {name: walk.http.get(path, headers=headers).status_code for name, headers in walk.who.items()}
    assert got == {"anonymous": 401, "viewer": 403, "analyst": 404, "owner": 404, "owner-elsewhere": 200,
                   "analyst-key": 404, "admin-token": 200}
    assert walk.http.get(path, headers=walk.who["admin-token"]).content == data
