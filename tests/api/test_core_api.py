"""The first analyst slice, health, metrics and the CLI of the collector core."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from collector.access import UNAUTHORIZED
from collector.cli import main
from collector.store import SQLiteStore
from tests.support.collector import Client

NOW = int(time.time() * 1000) - 600_000
# Unknown user agents (TestClient's own) are bots, which analytics leave out by default.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def post(client: Client, *events: dict[str, Any]) -> None:
    body = json.dumps({"key": "wk_test", "events": list(events)})
    headers = {"content-type": "text/plain", "user-agent": BROWSER}
    assert client.http.post("/v1/batch", content=body, headers=headers).status_code == 200


def pageview(session_id: str, ts: int) -> dict[str, Any]:
    return {"id": f"{session_id}-pv", "type": "pageview", "ts": ts, "anon_id": f"a-{session_id}",
            "session_id": session_id, "url": "https://shop.example/"}


def test_api_needs_the_admin_token(client: Client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        answer = client.http.get("/api/sites", headers=headers)
        assert (answer.status_code, answer.json()) == (
            401, {"error": UNAUTHORIZED})
    assert client.http.get("/api/sites", headers=client.admin).json() == {"sites": [
        {"id": "test", "name": "Test site", "write_key": "wk_test",
         "origins": ["http://127.0.0.1:*", "http://localhost:*", "https://shop.example"],
         "settings": {"goal": "purchase", "currency": None, "shop": None, "timezone": "UTC", "replay_assets": True}}]}


def test_sessions_page_newest_first_with_a_cursor(client: Client) -> None:
    for i in range(5):
        post(client, pageview(f"s{i}", NOW + i * 1000))
    seen, cursor = [], None
    while True:
        params = {"site": "test", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.http.get("/api/sessions", params=params, headers=client.admin).json()
        seen.append([s["id"] for s in page["sessions"]])
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [["s4", "s3"], ["s2", "s1"], ["s0"]]
    bad = client.http.get("/api/sessions", params={"cursor": "%%%"}, headers=client.admin)
    assert (bad.status_code, bad.json()) == (
        400, {"error": "bad cursor: pass back `next` with the sort and order it came from"})


def test_one_session_with_its_events_in_order(client: Client) -> None:
    post(client, {"id": "late", "type": "track", "ts": NOW + 50, "anon_id": "a", "session_id": "s", "name": "b"},
         {"id": "early", "type": "track", "ts": NOW, "anon_id": "a", "session_id": "s", "name": "a",
          "props": {"k": 1}})
    found = client.http.get("/api/sessions/s", headers=client.admin).json()
    assert [(e["id"], e["name"]) for e in found["events"]] == [("early", "a"), ("late", "b")]
    assert found["events"][0]["props"] == {"k": 1}
    assert found["events"][0]["client_ts"] == NOW
    missing = client.http.get("/api/sessions/nope", headers=client.admin)
    assert (missing.status_code, missing.json()) == (404, {"error": "no such session"})


def test_rejected_events_are_listed_by_api_and_cli(client: Client) -> None:
    bad = {"id": "x", "type": "survey", "ts": NOW, "kind": "nps", "score": 42}
    post(client, bad)
    listed = client.http.get("/api/rejected", params={"site": "test"}, headers=client.admin).json()["rejected"]
    assert [(r["site_id"], r["source"], r["reason"]) for r in listed] == [
        ("test", "batch", "Expected `int` <= 10 - at `$.score`")]
    assert json.loads(listed[0]["raw"]) == bad
    result = CliRunner().invoke(main, ["rejected", "--db", str(client.db_path)])
    assert result.exit_code == 0
    (line,) = result.output.splitlines()
    assert json.loads(line)["reason"] == "Expected `int` <= 10 - at `$.score`"


def test_healthz_and_metrics(client: Client) -> None:
    post(client, pageview("m1", NOW), {"id": "bad", "type": "nope", "ts": NOW})
    post(client, pageview("m1", NOW))  # a duplicate
    assert client.http.get("/healthz").text == "ok"
    text = client.http.get("/metrics", headers=client.admin).text
    assert "trailmark_events_accepted_total 2\n" in text
    assert "trailmark_events_duplicate_total 1\n" in text
    assert 'trailmark_events_rejected_total{reason="invalid"} 1\n' in text
    assert "trailmark_write_queue_depth 0\n" in text
    assert "trailmark_commit_seconds_count 2\n" in text


def test_cli_sites_add_and_list(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    added = runner.invoke(main, ["sites", "add", "My Shop", "--origin", "https://shop.example", "--db", db])
    assert added.exit_code == 0
    key, secret = added.stdout.split()
    assert key.startswith("wk_") and len(key) == 27
    assert secret.startswith("sk_") and len(secret) == 35
    assert "shown once" in added.stderr
    fixed = runner.invoke(main, ["sites", "add", "Blog", "--key", "wk_blog", "--db", db])
    assert fixed.stdout.split()[0] == "wk_blog" and fixed.stdout.split()[1].startswith("sk_")
    again = runner.invoke(main, ["sites", "add", "My Shop", "--origin", "https://shop.example", "--db", db])
    assert again.stdout.split() == [key]  # an update: the secret stays, and is not shown again
    rotated = runner.invoke(main, ["sites", "secret", "my-shop", "--db", db]).stdout.strip()
    assert rotated.startswith("sk_") and rotated != secret
    store = SQLiteStore(Path(db))
    assert store.site_for_key(secret) is None
    found = store.site_for_key(rotated)
    assert found is not None and (found.id, found.verified) == ("my-shop", True)
    assert runner.invoke(main, ["sites", "secret", "nope", "--db", db]).exit_code == 2
    listed = runner.invoke(main, ["sites", "list", "--db", db]).output.splitlines()
    assert listed == [f"my-shop\tMy Shop\t{key}\thttps://shop.example", "blog\tBlog\twk_blog\tany origin"]


def test_a_site_changed_by_another_process_applies_without_a_restart(client: Client, monkeypatch: Any) -> None:
    from collector.store.sqlite import store as sqlite_store

    body = json.dumps({"key": "wk_test", "events": [pageview("o1", NOW)]})
    headers = {"content-type": "text/plain", "origin": "https://new-shop.example"}
    assert client.http.post("/v1/batch", content=body, headers=headers).status_code == 403
    # `trailmark sites add` from another process: the serving store only sees the database.
    CliRunner().invoke(main, ["sites", "add", "Test site", "--id", "test", "--key", "wk_test",
                              "--origin", "https://new-shop.example", "--db", str(client.db_path)])
    assert client.http.post("/v1/batch", content=body, headers=headers).status_code == 403  # cached
    monkeypatch.setattr(sqlite_store, "SITE_CACHE_SECONDS", 0.0)
    assert client.http.post("/v1/batch", content=body, headers=headers).status_code == 200


@pytest.mark.parametrize("path", ["/api/funnel", "/api/segments"])
@pytest.mark.parametrize(("body", "error"), [
    (b'{"site": "\xff"}', "malformed JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    (b"{not json", "malformed JSON: JSON is malformed: object keys must be strings (byte 1)"),
])
def test_bad_json_bodies_to_the_api_answer_400(client: Client, path: str, body: bytes, error: str) -> None:
    answer = client.http.post(path, content=body, headers={**client.admin, "content-type": "application/json"})
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_bundles_are_served_with_an_etag_and_revalidated(tmp_path: Path) -> None:
    import os

    from starlette.testclient import TestClient

    from collector.app import create_app
    from tests.support.collector import make_settings, make_store

    static = tmp_path / "static"
    static.mkdir()
    bundle = static / "trailmark.js"
    bundle.write_text("/* v1 */")
    db = tmp_path / "t.db"
    with TestClient(create_app(make_settings(db, static_dir=static), make_store(db))) as http:
        first = http.get("/trailmark.js")
        assert (first.status_code, first.text) == (200, "/* v1 */")
        assert first.headers["content-type"] == "text/javascript; charset=utf-8"
        assert first.headers["cache-control"] == "public, max-age=3600"
        etag = first.headers["etag"]
        again = http.get("/trailmark.js", headers={"if-none-match": etag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
        bundle.write_text("/* v2 */")
        os.utime(bundle, (1, 1))  # a rebuild: another mtime
        changed = http.get("/trailmark.js", headers={"if-none-match": etag})
        assert (changed.status_code, changed.text) == (200, "/* v2 */")
        assert changed.headers["etag"] != etag
        missing = http.get("/trailmark-replay.js")
        assert (missing.status_code, missing.text) == (404, "trailmark-replay.js is not built: run `make build`")
