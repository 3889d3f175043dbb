"""`trailmark store copy`: an installation moved from SQLite into ClickHouse answers every API question
alike, and a copy interrupted and run again stores nothing twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from collector.app import create_app
from collector.cli import main
from collector.store import copy as store_copy
from collector.store.assets import AssetCopy, AssetRef, AssetStore, copy_id
from collector.store.clickhouse import ClickHouseStore, event_ids
from collector.store.clickhouse.client import parse_url
from collector.store.clickhouse.schema import Layout
from collector.store.copy import copy
from tests.support.analytics_journeys import DATE, NEXT_DATE, PREVIOUS_DATE, build
from tests.support.collector import ADMIN_TOKEN, Chdb, Client, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HERO, FONT = "https://shop.example/hero.png", "https://shop.example/brand.woff2"
HERO_BYTES, FONT_BYTES = b"\x89PNG-hero\0\xff", b"wOF2-font\0\x80"
RANGE = f"site=test&from={PREVIOUS_DATE}&to={NEXT_DATE}"
GETS = [
    "/api/sites",
    f"/api/overview?{RANGE}",
    f"/api/overview?site=test&from={DATE}&to={DATE}&device=desktop",
    f"/api/sessions?{RANGE}&bots=1",
    f"/api/sessions?{RANGE}&page=/product/:id",
    "/api/sessions/s1?site=test",
    "/api/sessions/s4?site=test",
    f"/api/paths?{RANGE}&from_url=/",
    f"/api/retention?{RANGE}",
    f"/api/commerce?{RANGE}",
    f"/api/surveys?{RANGE}",
    "/api/persons/u1?site=test",
    "/api/persons/a1?site=test",
    "/api/persons/u1/export?site=test",
    "/api/sessions/s2/replay?site=test",
    f"/api/heatmap?{RANGE}&url=/product/:id&kind=click",
    f"/api/heatmap?{RANGE}&url=/product/*&kind=scroll",
    f"/api/heatmap/pages?{RANGE}",
    "/api/rejected?site=test",
    "/api/segments?site=test",
    "/api/goals?site=test",
    "/api/experiments?site=test",
    f"/api/experiments/cta?{RANGE}",
    f"/api/overview?{RANGE}&goal=1",
    f"/api/sessions?{RANGE}&converted=1&goal=1",
    f"/api/suggest?{RANGE}&field=page&q=pro",
    f"/api/events?{RANGE}",
    f"/api/vitals?{RANGE}",
    f"/api/errors?{RANGE}",
    f"/api/journey-map?{RANGE}",
    "/api/triggers?site=test",
    "/api/members?site=test",
    "/api/keys",
    "/api/shares?site=test",
    "/api/reports?site=test",
]
FUNNEL = {"site": "test", "from": PREVIOUS_DATE, "to": NEXT_DATE, "window_s": 3600,
          "steps": [{"type": "pageview", "url": "/"}, {"type": "cart"}, {"type": "purchase"}]}


def answers(http: TestClient) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in GETS:
        answer = http.get(path, headers=ADMIN)
        assert answer.status_code == 200, (path, answer.text)
        found[path] = answer.json()
    found["funnel"] = http.post("/api/funnel", json=FUNNEL, headers=ADMIN).json()
    for asset_id in (copy_id("test", "image/png", HERO_BYTES), copy_id("test", "font/woff2", FONT_BYTES)):
        copied = http.get(f"/replay-assets/{asset_id}", headers=ADMIN)
        found[asset_id] = (copied.status_code, copied.headers["content-type"], copied.content)
    return found


@pytest.fixture
def seeded(client: Client) -> Client:
    """The analytics journeys on SQLite, with a segment, a goal, an experiment, a rejected event, a
    replay, a trigger, a member, an API key (one revoked), a share link and a scheduled report."""
    build(client)
    assert client.http.post("/api/segments?site=test", json={"name": "DE", "filters": {"country": "DE"}},
                            headers=ADMIN).status_code == 201
    assert client.http.post("/api/goals", json={"site": "test", "name": "Product", "kind": "pageview",
                                                "value": "/product/*"}, headers=ADMIN).json()["id"] == 1
    assert client.http.post("/api/experiments", json={"site": "test", "key": "cta", "variants": ["a", "b"],
                                                      "goal": 1}, headers=ADMIN).status_code == 201
    assert client.http.post("/v1/batch", json={"key": client.key, "events": [{"type": "nope"}]}).status_code == 200
    assert client.http.post("/api/triggers", json={
        "site": "test", "name": "Detractor", "url": "https://93.184.216.34/nps", "kind": "event",
        "event": {"type": "survey", "score_max": 6}, "cooldown_s": 60}, headers=ADMIN).status_code == 201
    # s2's recording loads an image and a font, kept as copies (stored here directly: the copier and
    # its fetches are tests/assets/'s subject, so it is off for the site)
    assert client.http.patch("/api/sites/test", json={"replay_assets": False}, headers=ADMIN).status_code == 200
    node = {"type": 2, "id": 1, "tagName": "img", "attributes": {"src": HERO}, "childNodes": []}
    style = {"type": 2, "id": 2, "tagName": "style", "childNodes": [], "attributes": {
        "_cssText": f"@font-face {{ font-family: B; src: url({FONT}) }}"}}
    chunk = {"key": "wk_test", "session_id": "s2", "anon_id": "a2", "seq": 1,
             "events": [{"type": 3, "timestamp": 1, "data": {"source": 0, "adds": [{"node": node}, {"node": style}]}}]}
    assert client.http.post("/v1/replay", json=chunk).json() == {"accepted": 1, "stored": True}
    hero = AssetCopy(id=copy_id("test", "image/png", HERO_BYTES), site_id="test", content_type="image/png",
                     data=HERO_BYTES)
    font = AssetCopy(id=copy_id("test", "font/woff2", FONT_BYTES), site_id="test", content_type="font/woff2",
                     data=FONT_BYTES)
    refs = [AssetRef(session_id="s2", url=url, asset_id=kept.id, ts=5) for url, kept in ((HERO, hero), (FONT, font))]
    store = client.store
    assert isinstance(store, AssetStore)
    assert store.save_asset_copies("test", [hero, font], refs, 1_000) == len(HERO_BYTES) + len(FONT_BYTES)
    team = {"params": {"site": "test"}, "headers": {**ADMIN, "Origin": "http://127.0.0.1:8000"}}
    assert client.http.post("/api/members", json={"email": "ana@example.com", "role": "analyst"}, **team).is_success
    for name in ("ci", "old"):
        made = client.http.post("/api/keys", json={"name": name, "role": "viewer", "site": "test"}, **team)
        KEYS[name] = made.json()["key"]
    assert client.http.delete(f"/api/keys/{made.json()['id']}", **team).is_success
    assert client.http.post("/api/shares", json={"view": "overview", "days": 7}, **team).is_success
    assert client.http.post("/api/reports", json={"kind": "report", "recipients": ["boss@example.com"]},
                            **team).is_success
    return client


KEYS: dict[str, str] = {}


def _keys_work(http: TestClient) -> list[int]:
    return [http.get("/api/overview?site=test", headers={"Authorization": f"Bearer {KEYS[name]}"}).status_code
            for name in ("ci", "old")]


def test_a_copied_installation_answers_every_question_alike(seeded: Client, chdb: Chdb, tmp_path: Path) -> None:
    before = answers(seeded.http)
    assert before["/api/sessions/s1?site=test"]["events"] and before["/api/rejected?site=test"]["rejected"]
    hero, font = copy_id("test", "image/png", HERO_BYTES), copy_id("test", "font/woff2", FONT_BYTES)
    assert [(r["session_id"], r["url"], r["asset_id"]) for r in before["/api/persons/u1/export?site=test"]
            ["asset_refs"]] == [("s2", FONT, font), ("s2", HERO, hero)]
    assert before["/api/sessions/s2/replay?site=test"]["events"][1]["data"]["adds"][0]["node"]["attributes"] == {
        "src": f"/replay-assets/{hero}"}
    assert before[hero] == (200, "image/png", HERO_BYTES) and before[font] == (200, "font/woff2", FONT_BYTES)
    url = chdb.url()
    result = CliRunner().invoke(main, ["store", "copy", "--from", f"sqlite://{seeded.db_path}", "--to", url])
    assert result.exit_code == 0, result.output
    counts = dict(pair.split("=") for pair in result.stdout.split())
    assert int(counts["events"]) == len(seeded.rows("SELECT id FROM events"))
    assert int(counts["sessions"]) == len(seeded.rows("SELECT id FROM sessions")) and int(counts["replay_chunks"]) == 2
    assert (int(counts["replay_assets"]), int(counts["replay_asset_refs"])) == (2, 2)
    target = ClickHouseStore(url)
    app = create_app(make_settings(tmp_path / "unused.db"), target)
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        assert answers(http) == before
        assert before["/api/members?site=test"]["members"][0]["email"] == "ana@example.com"
        assert _keys_work(http) == [200, 401]
    # and on from that ClickHouse store into another, run twice: the second stores no copy again
    onward = chdb.url()
    assert copy(url, onward)["replay_assets"] == 2
    again = copy(url, onward)
    assert (again["replay_assets"], again["replay_asset_refs"], again["events"]) == (0, 0, 0)
    app = create_app(make_settings(tmp_path / "unused.db"), ClickHouseStore(onward))
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        assert answers(http) == before


def test_an_interrupted_copy_run_again_stores_nothing_twice(
    seeded: Client, chdb: Chdb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_copy, "BATCH", 4)  # many batches per table: the cut falls inside one
    conn = sqlite3.connect(seeded.db_path)
    with conn:  # half the events received an hour before the rest
        conn.execute("UPDATE events SET received_at = received_at - 3600000 WHERE rowid % 2 = 0")
    conn.close()
    before = answers(seeded.http)
    url = chdb.url()
    source = f"sqlite://{seeded.db_path}"

    class Cut(Exception):
        pass

    seen, total = [0], [0]

    def cut_part_way(n: int) -> None:
        seen[0] += n
        if seen[0] > total[0] - 10:  # the last table, events, is part way in
            raise Cut

    with pytest.raises(Cut):
        copy(source, url, cut_part_way, lambda n: total.__setitem__(0, n))
    first = copy(source, url)
    again = copy(source, url)
    # A third run finds every event, rejection, setting and salt there; versioned rows (sites,
    # sessions...) are written again and replace themselves.
    assert (again["events"], again["dead_letters"], again["meta"], again["salts"]) == (0, 0, 0, 0)
    assert (again["replay_assets"], again["replay_asset_refs"]) == (0, 0)
    assert 0 < first["events"] < len(seeded.rows("SELECT id FROM events"))
    # A batch retried into the new installation finds every copied event (event_ids.py), as the
    # copy left it (opening the store puts again only the ids of the last events received).
    every = [(r["site_id"], r["id"]) for r in seeded.rows("SELECT site_id, id FROM events")]
    layout = Layout(parse_url(url).database)
    assert sum(len(event_ids.found(chdb.keeper, layout, site, [i for s, i in every if s == site]))
               for site in {s for s, _ in every}) == len(every)
    target = ClickHouseStore(url)
    db = target.db
    (((events, ids),),) = (db.rows(f"SELECT count(), uniqExact(site_id, id) FROM {db.t('events')}"),)
    assert events == ids == len(every)
    app = create_app(make_settings(tmp_path / "unused.db"), target)
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        assert answers(http) == before
