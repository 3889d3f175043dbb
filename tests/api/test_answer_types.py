"""Every /api route declares its answer type, and real answers from a seeded store, on every engine,
are values of that type (msgspec.convert, strict): /openapi.json's response schemas are true."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiosmtpd.controller import Controller
from starlette.routing import Route
from starlette.testclient import TestClient

from collector.api.openapi import walk
from collector.app import create_app
from collector.replies import Csv
from collector.triggers.service import Policy
from tests.support import analytics_journeys as journeys
from tests.support.analytics_journeys import CHROME, MIN, D, event, send
from tests.support.collector import SECRET, Client, every_store, free_port, make_settings, open_engine
from tests.support.receiver import wait_for

pytestmark = every_store


def seed(client: Client) -> None:
    """The analytics journeys, plus what the other answers need: custom events, vitals, errors,
    exposures, a dead letter, a recording with a full snapshot, a visitor who is here now."""

    journeys.build(client)
    t = D + 16 * 60 * MIN
    send(client, [
        event("pageview", t, "s7", "a7", "/product/3", vw=1280, vh=800, route="/product/:id"),
        event("click", t + 1000, "s7", "a7", "/product/3", x=40, y=60, sel="a.buy", tag="a", text="Buy",
              rx=0.5, ry=0.25, dw=1280, dh=2000, vw=1280, vh=800),
        event("scroll", t + 2000, "s7", "a7", "/product/3", depth=70, dh=2000, vw=1280, vh=800),
        event("track", t + 3000, "s7", "a7", "/product/3", name="signup", props={"plan": "pro", "seats": 3}),
        event("vital", t + 4000, "s7", "a7", "/product/3", name="LCP", value=1800.0, vw=1280),
        event("vital", t + 4100, "s7", "a7", "/product/3", name="CLS", value=0.05, vw=1280),
        event("error", t + 5000, "s7", "a7", "/product/3", message="TypeError: x is undefined",
              source="https://shop.example/app.js", line=10, col=5, stack="at f (app.js:10:5)"),
        event("exposure", t + 6000, "s7", "a7", "/product/3", experiment="cta", variant="green"),
        event("exposure", t + 6000, "s3", "a3", "/product/2", experiment="cta", variant="control"),
        event("page_leave", t + 9000, "s7", "a7", "/product/3", engaged_ms=8000, depth=70),
    ])
    recording = client.http.post("/v1/replay", json={
        "key": "wk_test", "session_id": "s7", "anon_id": "a7", "seq": 0,
        "events": [
            {"type": 4, "timestamp": t, "data": {"href": "https://shop.example/product/3", "width": 1280,
                                                  "height": 800}},
            {"type": 2, "timestamp": t + 10, "data": {"node": {"type": 0, "childNodes": [], "id": 1},
                                                        "initialOffset": {"left": 0, "top": 0}}},
        ],
    })
    assert recording.status_code == 200, recording.text
    bad = client.http.post("/v1/batch", json={"key": "wk_test", "events": [{"type": "nope", "id": "x", "ts": t}]},
                           headers={"User-Agent": CHROME})
    assert bad.status_code == 200, bad.text
    now = int(time.time() * 1000)
    send(client, [event("pageview", now - 60_000, "live1", "a8", "/")])
    send(client, [event("track", now - 50_000, "live1", "a8", "/", user_id="u9", name="ping")], key=SECRET)


def calls(client: Client) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One call per /api operation, in an order that creates what later calls read and delete."""
    r = f"site=test&from={journeys.PREVIOUS_DATE}&to={journeys.NEXT_DATE}"
    return [
        ("GET", "/api/sites", None),
        ("GET", "/api/ui/choices", None),
        ("PATCH", "/api/sites/test", {"currency": "EUR"}),
        ("POST", "/api/sites/test", {"shop": True}),
        ("GET", f"/api/sessions?{r}", None),
        ("GET", "/api/sessions/s1?site=test", None),
        ("GET", "/api/sessions/s7/replay?site=test", None),
        ("GET", "/api/sessions/s7/replay?site=test&from_seq=0", None),
        ("GET", f"/api/overview?{r}", None),
        ("POST", "/api/funnel", {"site": "test", "from": journeys.PREVIOUS_DATE, "to": journeys.NEXT_DATE,
                                 "steps": [{"type": "pageview", "url": "/"}, {"type": "purchase"}]}),
        ("GET", f"/api/paths?{r}&from_url=/", None),
        ("GET", f"/api/retention?{r}", None),
        ("GET", f"/api/commerce?{r}", None),
        ("GET", f"/api/surveys?{r}", None),
        ("GET", f"/api/events?{r}", None),
        ("GET", f"/api/events?{r}&name=signup", None),
        ("GET", f"/api/vitals?{r}", None),
        ("GET", f"/api/errors?{r}", None),
        ("GET", "/api/live?site=test", None),
        ("GET", f"/api/export/sessions?{r}", None),
        ("GET", f"/api/suggest?{r}&field=page", None),
        ("POST", "/api/goals", {"site": "test", "name": "Signed up", "kind": "custom", "value": "signup",
                                "property": {"key": "plan", "value": "pro"}}),
        ("GET", "/api/goals?site=test", None),
        ("GET", f"/api/heatmap?{r}&url=/product/*", None),
        ("GET", f"/api/heatmap?{r}&url=/product/*&kind=scroll", None),
        ("GET", f"/api/heatmap/pages?{r}", None),
        ("GET", f"/api/heatmap/snapshot?{r}&url=/product/3&device=desktop", None),
        ("GET", f"/api/heatmap/moment?{r}&url=/product/3&sel=a.buy", None),
        ("GET", f"/api/persons?{r}", None),
        ("GET", "/api/persons/u1?site=test", None),
        ("GET", "/api/persons/u1/export?site=test", None),
        ("GET", "/api/person?site=test&id=a1", None),
        ("GET", "/api/person/export?site=test&id=a1", None),
        ("POST", "/api/segments", {"site": "test", "name": "Germans", "filters": {"country": "DE"}}),
        ("GET", "/api/segments?site=test", None),
        ("GET", "/api/rejected?site=test", None),
        ("POST", "/api/experiments", {"site": "test", "key": "cta", "variants": ["control", "green"],
                                      "name": "CTA colour", "goal": "purchase"}),
        ("GET", "/api/experiments?site=test", None),
        ("GET", f"/api/experiments/cta?{r}", None),
        ("GET", f"/api/journey-map?{r}", None),
        ("GET", "/api/journey-map/stages?site=test", None),
        ("PUT", "/api/journey-map/stages?site=test",
         {"stages": [{"key": "visit", "label": "Visit", "match": [{"type": "pageview"}]},
                     {"key": "buy", "label": "Buy", "match": [{"type": "purchase"}]}]}),
        ("DELETE", "/api/journey-map/stages?site=test", None),
        ("GET", "/api/predictions?site=test", None),
        ("POST", "/api/predictions/train?site=test", None),
        ("POST", "/api/triggers", {"site": "test", "name": "Unhappy", "url": "http://127.0.0.1:9/hook",
                                   "kind": "event", "event": {"type": "survey"}}),
        ("GET", "/api/triggers?site=test", None),
        ("GET", "/api/triggers/1?site=test", None),
        ("PATCH", "/api/triggers/1?site=test", {"enabled": False}),
        ("GET", "/api/triggers/1/deliveries?site=test", None),
        ("DELETE", "/api/triggers/1?site=test", None),
        ("DELETE", "/api/experiments/cta?site=test", None),
        ("DELETE", "/api/segments/1?site=test", None),
        ("DELETE", "/api/goals/1?site=test", None),
        ("GET", "/api/me", None),
        ("POST", "/api/members?site=test", {"email": "ana@example.com", "role": "viewer"}),
        ("GET", "/api/members?site=test", None),
        ("DELETE", "/api/members/1?site=test", None),
        ("POST", "/api/keys?site=test", {"name": "CI", "role": "analyst"}),
        ("GET", "/api/keys", None),
        ("DELETE", "/api/keys/1?site=test", None),
        ("POST", "/api/shares?site=test", {"view": "overview"}),
        ("GET", "/api/shares?site=test", None),
        ("SHARED", "/api/shared/{token}", None),
        ("DELETE", "/api/shares/{id}?site=test", None),
        ("POST", "/api/reports?site=test", {"kind": "report", "recipients": ["ana@example.com"]}),
        ("GET", "/api/reports?site=test", None),
        ("POST", "/api/reports/1/send?site=test", None),
        ("DELETE", "/api/reports/1?site=test", None),
        ("DELETE", "/api/persons/u1?site=test", None),
        ("DELETE", "/api/person?site=test&id=a1", None),
    ]


class Accept:
    """An SMTP server's handler that takes every mail (the report sent on demand)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        return "250 OK"


@pytest.fixture
def client(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Client]:
    """The collector in process with a real SMTP server; its trigger may call a (closed) port on loopback."""
    db_path = tmp_path / "trailmark.db"
    store = open_engine(engine, tmp_path, request)
    port = free_port()
    smtp = Controller(Accept(), hostname="127.0.0.1", port=port)
    smtp.start()
    settings = make_settings(db_path, webhooks=Policy(allow_private=True, max_attempts=1),
                             smtp_url=f"smtp://127.0.0.1:{port}?from=reports@example.com")
    try:
        with TestClient(create_app(settings, store), base_url="http://127.0.0.1:8000") as http:
            yield Client(http, db_path, store, engine)
    finally:
        smtp.stop()


def declared(app: Any, method: str, url: str) -> tuple[str, Any]:
    """The /api route that answers `method url`, and the answer type it declares."""
    path = url.split("?")[0]
    for template, route in api_routes(app):
        if route.path_regex.match(path[len("/api"):]) and method in (route.methods or ()):
            return f"{method} {template}", route.endpoint.answer
    raise AssertionError(f"no route for {method} {url}")


def test_every_answer_is_its_declared_type(client: Client) -> None:
    rule = client.http.post("/api/triggers", headers=client.admin, json={
        "site": "test", "name": "Every survey", "url": "http://127.0.0.1:9/hook", "kind": "event",
        "event": {"type": "survey"}})
    assert rule.status_code == 201, rule.text
    seed(client)
    # the survey answers fired the rule: its delivery to a closed port is tried and logged
    wait_for(lambda: [d for d in client.store.trigger_deliveries("test", 1, 10) if d["attempts"]],
             "an attempted delivery")
    asked, wrong = set(), []
    for method, url, body in calls(client):
        if "/api/shares/" in url or method == "SHARED":  # the share link made above: its id, its token
            made = client.http.get("/api/shares?site=test", headers=client.admin).json()["shares"][0]
            url = url.replace("{id}", made["id"])
            if method == "SHARED":
                method, url = "GET", "/api/shared/" + made["url"].rsplit("/", 1)[1]
        answer = client.http.request(method, url, headers=client.admin,
                                     content=None if body is None else json.dumps(body))
        operation, kind = declared(client.http.app, method, url)
        asked.add(operation)
        if answer.status_code not in (200, 201):
            wrong.append(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
            continue
        if kind is Csv:
            assert answer.headers["content-type"].startswith("text/csv")
            continue
        try:
            msgspec.json.decode(answer.content, type=kind, strict=True)
        except msgspec.ValidationError as e:
            wrong.append(f"{method} {url}: {e}")
    assert wrong == []
    assert asked == {op for op, _ in operations(client.http.app)}, "every /api operation is asked once at least"


def api_routes(app: Any) -> list[tuple[str, Route]]:
    return [(path, route) for path, route in walk(app.routes) if path.startswith("/api/")]


def operations(app: Any) -> list[tuple[str, Route]]:
    return [(f"{m} {path}", route) for path, route in api_routes(app)
            for m in sorted((route.methods or {"GET"}) - {"HEAD"})]
