"""SQL injection strings in every filter parameter of the analyst API: 400 or no rows, never a 500, tables intact."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from collector.api.openapi import walk
from collector.query.scope import FILTERS
from tests.support.collector import Client

INJECTIONS = [
    "' OR '1'='1", "' OR 1=1 --", "1; DROP TABLE events; --", "\" OR \"\"=\"", "') OR ('a'='a",
    "x' UNION SELECT name, sql FROM sqlite_master --", "%", "_", "*", "\\", "\x00", "1e999",
    "99999999999999999999999", "-1", "²", "NaN", "[]", "{}", "' AND randomblob(1000000000) --",
]
PARAMS = ("site", "from", "to", "limit", "cursor", "url", "kind", "device", "from_url", "depth",
          "weeks", "segment", "survey_id", "bots", *FILTERS)


def _seed(client: Client) -> str:
    now = int(time.time() * 1000)
    session = str(uuid.uuid4())
    events = [
        {"type": "pageview", "id": str(uuid.uuid4()), "ts": now - 5000, "anon_id": "a1",
         "session_id": session, "url": "https://shop.example/product/1"},
        {"type": "click", "id": str(uuid.uuid4()), "ts": now - 4000, "anon_id": "a1",
         "session_id": session, "url": "https://shop.example/product/1", "sel": "#buy", "x": 1, "y": 2},
        {"type": "survey", "id": str(uuid.uuid4()), "ts": now - 3000, "anon_id": "a1",
         "session_id": session, "kind": "nps", "score": 9},
    ]
    answer = client.http.post("/v1/batch", json={"key": client.key, "events": events})
    assert answer.json() == {"accepted": 3, "rejected": []}
    return session


def _fingerprint(client: Client) -> dict[str, Any]:
    return {
        "schema": client.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name"),
        "events": client.rows("SELECT count(*) AS n FROM events")[0]["n"],
        "sessions": client.rows("SELECT count(*) AS n FROM sessions")[0]["n"],
        "sites": client.rows("SELECT id, write_key FROM sites"),
    }


def _api_get_paths(client: Client, session: str) -> list[str]:
    paths = []
    for path, route in walk(client.http.app.routes):  # type: ignore[attr-defined]
        if path.startswith("/api/") and "GET" in (route.methods or ()):
            paths.append(path.replace("{id}", session))
    assert len(paths) >= 30, paths  # every GET of the API, Mounts followed
    return paths


def test_injection_strings_in_every_filter_never_break_the_api(client: Client) -> None:
    session = _seed(client)
    before = _fingerprint(client)
    paths = _api_get_paths(client, session)
    assert {"/api/sessions", "/api/overview", "/api/rejected"} <= set(paths)
    answers: dict[int, int] = {}
    for path in paths:
        for name in PARAMS:
            for value in INJECTIONS:
                answer = client.http.get(path, params={name: value}, headers=client.admin)
                answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
                assert answer.status_code in (200, 400, 404), (path, name, value, answer.text[:300])
                # exports answer CSV; their refusals are JSON like every other
                csv = path.startswith("/api/export/") and answer.status_code == 200
                kind = "text/csv" if csv else "application/json"
                assert answer.headers["content-type"].startswith(kind), (path, name)
                if answer.status_code != 200:
                    assert "error" in answer.json()
    assert _fingerprint(client) == before
    assert answers.get(400, 0) > 0 and answers.get(200, 0) > 0


@pytest.mark.parametrize("name", [n for n in FILTERS if n not in ("min_duration",)])
def test_a_matching_filter_injection_returns_no_sessions(client: Client, name: str) -> None:
    _seed(client)
    for value in INJECTIONS[:6]:
        answer = client.http.get("/api/sessions", params={"site": "test", name: value}, headers=client.admin)
        assert answer.status_code in (200, 400), answer.text
        if answer.status_code == 200:
            assert answer.json()["sessions"] == [], (name, value)


def test_funnel_steps_with_injections_are_answered_as_client_errors_or_empty(client: Client) -> None:
    _seed(client)
    before = _fingerprint(client)
    for value in INJECTIONS:
        body = {"site": "test", "steps": [{"type": "pageview", "url": value}, {"type": value, "name": value}],
                "window_s": 3600}
        answer = client.http.post("/api/funnel", json=body, headers=client.admin)
        assert answer.status_code in (200, 400), (value, answer.text[:300])
    for body in ("' OR 1=1", '{"site": 1}', '{"steps": "x"}', "[]", '{"site": "test", "steps": []}'):
        headers = {**client.admin, "content-type": "application/json"}
        answer = client.http.post("/api/funnel", content=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text[:300])
    assert _fingerprint(client) == before
