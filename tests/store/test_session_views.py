"""The pageviews each ClickHouse session row keeps for the paths (collector/store/clickhouse/views.py):
the session's pageviews in the walk's order after late and split writes; packed on opening a store
made before them; packed again where a purge or an erasure took some of a session's events, so that
paths give SQLite's answer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from collector.store.clickhouse import ClickHouseStore, views
from collector.store.clickhouse.views import KEPT
from tests.support.analytics_journeys import DATE, MIN, D, event, send
from tests.support.collector import Client, every_store, make_settings, open_engine
from tests.support.journey_traffic import generate


def _kept(store: ClickHouseStore) -> dict[str, list[tuple[Any, ...]]]:
    db = store.db
    return {session: [tuple(v) for v in views] for session, views in db.rows(
        f"SELECT id, views FROM {db.t('sessions')} FINAL WHERE site_id = 'test'"
    )}


def _from_events(store: ClickHouseStore) -> dict[str, list[tuple[Any, ...]]]:
    """Each session's pageviews read from its events, sorted here as the SQLite engine walks them:
    time, no path before a path, the path, arrival."""
    db = store.db
    found: dict[str, list[tuple[Any, ...]]] = {s: [] for (s,) in db.rows(
        f"SELECT id FROM {db.t('sessions')} FINAL WHERE site_id = 'test'")}
    for session, ts, seq, path, route in db.rows(
        f"SELECT session_id, ts, seq, path, route FROM {db.t('events')} WHERE site_id = 'test' AND type = 'pageview'"
    ):
        found[session].append((ts, seq, path, route))
    return {s: sorted(views, key=lambda v: (v[0], v[2] is not None, v[2] or "", v[1])) for s, views in found.items()}


def _scrolls(store: ClickHouseStore, kept: bool) -> dict[str, list[tuple[Any, ...]]]:
    """Each session's scroll reports as its row keeps them (the writer's, made in Python), or as
    ClickHouse reads them from the events' own columns, by arrival."""
    db = store.db
    report = "x" if kept else f"({views._SCROLL_SQL})"
    source = (f"{db.t('sessions')} FINAL ARRAY JOIN scrolls AS x" if kept
              else f"{db.t('events')} WHERE type = 'scroll'")
    found: dict[str, list[tuple[Any, ...]]] = {}
    for session, scroll in db.rows(
        f"SELECT {'id' if kept else 'session_id'}, {report} FROM {source} ORDER BY {'x.seq' if kept else 'seq'}"
    ):
        found.setdefault(session, []).append(tuple(scroll))
    return found


def _paths(client: Client, from_url: str, day: str = DATE) -> Any:
    answer = client.http.get(f"/api/paths?site=test&from={day}&to={DATE}&from_url={from_url}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _heatmaps(client: Client) -> list[Any]:
    answers = []
    for query in ("url=/product/:id&kind=scroll", "url=/product/*&kind=scroll&device=desktop", ""):
        path = "/api/heatmap" if query else "/api/heatmap/pages"
        answer = client.http.get(f"{path}?site=test&from={DATE}&to={DATE}&{query}", headers=client.admin)
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    assert answers[0]["views"] > 0 and answers[2]["pages"]
    return answers


@every_store
def test_each_row_keeps_its_sessions_pageviews_in_the_walks_order(client: Client) -> None:
    generate(client, 3)
    # Late and split: the later views first, two at one instant (one without a path), a route.
    send(client, [event("pageview", D + 9 * MIN, "v-1", "v", "/v-cart"), event("click", D + 9 * MIN, "v-1", "v", "/")])
    send(client, [event("pageview", D + 2 * MIN, "v-1", "v", "/product/7", route="/product/:id"),
                  event("pageview", D + 2 * MIN, "v-1", "v"), event("pageview", D + 2 * MIN, "v-1", "v", "/")])
    send(client, [event("pageview", D + 5 * MIN, "v-1", "v", "/")])
    # Scroll reports with and without a width, height and URL, whole and fractional depths.
    send(client, [event("scroll", D + 9 * MIN + 1, "v-1", "v", "/v-cart", depth=40, vw=500, vh=700),
                  event("scroll", D + 9 * MIN + 2, "v-1", "v", "/v-cart", depth=33.3),
                  event("scroll", D + 9 * MIN + 3, "v-1", "v", None, depth=100, vw=900),
                  event("scroll", D + 5 * MIN + 1, "v-1", "v", "/", depth=0, vw=1400, vh=0)])
    assert [(k["step"], k["source"], k["target"]) for k in _paths(client, "/v-cart")["previous_links"]] == [
        (1, "/v-cart", "/"), (2, "/", "/product/7"), (3, "/product/7", "/")]
    if not isinstance(client.store, ClickHouseStore):
        return
    kept = _kept(client.store)
    assert kept == _from_events(client.store)
    assert [(ts - D, path, route) for ts, _, path, route in kept["v-1"]] == [
        (2 * MIN, None, None), (2 * MIN, "/", "/"), (2 * MIN, "/product/7", "/product/:id"),
        (5 * MIN, "/", "/"), (9 * MIN, "/v-cart", "/v-cart"),
    ]
    assert sum(map(len, kept.values())) > 100  # the generated sessions' views are there too
    scrolls = _scrolls(client.store, kept=True)
    assert scrolls == _scrolls(client.store, kept=False)
    assert [(url, ts - D, device, depth, vh) for url, ts, _, _, _, device, depth, vh in scrolls["v-1"]] == [
        ("https://shop.example/v-cart", 9 * MIN + 1, "mobile", 40.0, 700),
        ("https://shop.example/v-cart", 9 * MIN + 2, "", 33.3, None),
        (None, 9 * MIN + 3, "tablet", 100.0, None),
        ("https://shop.example/", 5 * MIN + 1, "desktop", 0.0, 0),
    ]


@contextlib.contextmanager
def _serving(tmp_path: Path, store: ClickHouseStore) -> Iterator[Client]:
    db_path = tmp_path / "unused.db"
    with TestClient(create_app(make_settings(db_path), store), base_url="http://127.0.0.1:8000") as http:
        yield Client(http, db_path, store, "chdb")


def test_a_store_from_before_the_kept_views_gets_them_on_opening(
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    with _serving(tmp_path, store) as client:
        generate(client, 4)
        send(client, [event("pageview", D + MIN, "h-1", "h", "/product/3"),
                      event("scroll", D + MIN + 5, "h-1", "h", "/product/3", depth=70, vw=1300, vh=900)])
        before = {page: _paths(client, page) for page in ("/", "/cart", "/product/:id")}
        heatmaps = _heatmaps(client)
        expected = _from_events(store), _scrolls(store, kept=False)
        # As a store of the version before: no column, no mark that its rows were packed.
        store.conn.command(f"ALTER TABLE {store.db.t('sessions')} DROP COLUMN views, DROP COLUMN scrolls")
        store.conn.command(f"ALTER TABLE {store.db.t('meta')} DELETE WHERE key = '{KEPT}'"
                           " SETTINGS mutations_sync = 2")
    store.close()
    reopened = ClickHouseStore(store.url)
    with _serving(tmp_path, reopened) as client:
        assert (_kept(reopened), _scrolls(reopened, kept=True)) == expected
        assert {page: _paths(client, page) for page in before} == before
        assert _heatmaps(client) == heatmaps
    reopened.close()


@every_store
def test_a_purge_and_an_erasure_leave_the_paths_of_what_stays(client: Client) -> None:
    # A session across the purge's cutoff keeps its later views only.
    send(client, [event("pageview", D + MIN, "p-1", "p", "/"), event("pageview", D + 3 * MIN, "p-1", "p", "/cart"),
                  event("pageview", D + 4 * MIN, "p-1", "p", "/checkout")])
    # An event of another visitor inside a session (a forged one names its id) is erased alone.
    send(client, [event("pageview", D + 20 * MIN, "e-1", "e", "/cart"),
                  event("pageview", D + 22 * MIN, "e-1", "e", "/thanks")])
    send(client, [event("pageview", D + 21 * MIN, "e-1", "intruder", "/secret")])
    assert [link["target"] for link in _paths(client, "/cart")["next_links"] if link["step"] == 1] == [
        "/checkout", "/secret"]
    client.store.purge(D + 2 * MIN)
    client.store.erase_person("test", "intruder")
    answer = _paths(client, "/cart")
    assert answer["sessions"] == 2
    assert answer["next_links"] == [
        {"step": 1, "source": "/cart", "target": "/checkout", "sessions": 1},
        {"step": 1, "source": "/cart", "target": "/thanks", "sessions": 1},
        {"step": 2, "source": "/checkout", "target": "(exit)", "sessions": 1},
        {"step": 2, "source": "/thanks", "target": "(exit)", "sessions": 1},
    ]
    assert answer["previous_links"] == [{"step": 1, "source": "/cart", "target": "(entrance)", "sessions": 2}]
