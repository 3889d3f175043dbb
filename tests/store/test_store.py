"""The write side: session rollups, identity, backend sessionizing and group commit, on real SQLite."""

from __future__ import annotations

import concurrent.futures
import json
import sqlite3
import time
from typing import Any
from unittest import mock

import httpx
from sqlite_utils import Database

from collector import wire
from collector.ingest.pipeline import Facts, to_row
from collector.query.journey import DEFAULT_STAGES, reading_of
from collector.query.params import DAY_MS
from collector.query.paths import WIDTH
from collector.query.scope import Filters, Scope
from collector.query.vitals import report as vitals_report
from collector.store import SQLiteStore, WriteBatch
from collector.store.model import Context
from collector.store.sqlite import connect, touches
from collector.store.sqlite.migrations import migrations
from collector.store.sqlite.reads import paths as sqlite_paths
from collector.store.sqlite.transaction import apply_group
from tests.support.collector import KEY, SECRET, Client, Server

NOW = int(time.time() * 1000) - 3 * 3_600_000  # room for events "later" in the tests (the future is clamped)
MIN = 60_000


def ev(kind: str, eid: str, ts: int, **fields: Any) -> dict[str, Any]:
    base = {"id": eid, "type": kind, "ts": ts, "anon_id": "anon-a", "session_id": "s1"}
    return {**base, **fields}


def send(client: Client, *events: dict[str, Any], ua: str | None = None, key: str = KEY) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if ua:
        headers["user-agent"] = ua
    body = json.dumps({"key": key, "events": list(events)})
    answer = client.http.post("/v1/batch", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def session(client: Client, session_id: str = "s1") -> dict[str, Any]:
    (row,) = client.rows("SELECT * FROM sessions WHERE id = ?", session_id)
    return row


def test_session_rollup_is_exact_when_batches_arrive_out_of_order(client: Client) -> None:
    send(client,
         ev("pageview", "p2", NOW + 5 * MIN, url="https://shop.example/cart"),
         ev("cart", "c1", NOW + 4 * MIN, action="add", item={"sku": "a", "price": 10.0}),
         ev("click", "k1", NOW + 4 * MIN, sel="#add", rage=True))
    send(client,
         ev("pageview", "p1", NOW, url="https://shop.example/product/1?utm_source=news&utm_medium=email",
            referrer="https://mail.example/"),
         ev("purchase", "o1", NOW + 9 * MIN, order_id="o-1", value=25.5),
         ev("error", "e1", NOW + 2 * MIN, message="boom"),
         ev("click", "k2", NOW + 3 * MIN, sel="#buy", dead=True))
    row = session(client)
    assert {k: row[k] for k in (
        "first_ts", "last_ts", "duration_ms", "events", "pageviews", "entry_url", "exit_url", "cart_adds",
        "purchases", "revenue", "clicks", "rage_clicks", "dead_clicks", "errors", "channel", "utm_source",
        "utm_medium", "visitor_id")} == {
        "first_ts": NOW, "last_ts": NOW + 9 * MIN, "duration_ms": 9 * MIN, "events": 7, "pageviews": 2,
        "entry_url": "https://shop.example/product/1?utm_source=news&utm_medium=email",
        "exit_url": "https://shop.example/cart", "cart_adds": 1, "purchases": 1, "revenue": 25.5,
        "clicks": 2, "rage_clicks": 1, "dead_clicks": 1, "errors": 1, "channel": "email",
        "utm_source": "news", "utm_medium": "email", "visitor_id": "anon-a"}


def test_identify_links_earlier_and_later_sessions_of_two_anon_ids_to_one_person(client: Client) -> None:
    send(client, ev("pageview", "a1", NOW, url="https://shop.example/"))
    send(client, ev("pageview", "b1", NOW + MIN, anon_id="anon-b", session_id="s2", url="https://shop.example/"))
    # The site's backend links both anon ids at login (the secret key: traits and links it vouches for).
    send(client, ev("identify", "i1", NOW + 2 * MIN, user_id="user-42", traits={"plan": "pro"}), key=SECRET)
    send(client, ev("identify", "i2", NOW + 3 * MIN, anon_id="anon-b", session_id="s2", user_id="user-42",
                    traits={"country": "DE"}), key=SECRET)
    send(client, ev("pageview", "a2", NOW + 4 * MIN, session_id="s3", url="https://shop.example/again"))
    rows = client.rows("SELECT id, visitor_id, anon_id, user_id FROM sessions ORDER BY id")
    assert rows == [
        {"id": "s1", "visitor_id": "user-42", "anon_id": "anon-a", "user_id": "user-42"},
        {"id": "s2", "visitor_id": "user-42", "anon_id": "anon-b", "user_id": "user-42"},
        {"id": "s3", "visitor_id": "user-42", "anon_id": "anon-a", "user_id": None},
    ]
    assert client.rows("SELECT anon_id, user_id FROM identities ORDER BY anon_id") == [
        {"anon_id": "anon-a", "user_id": "user-42"}, {"anon_id": "anon-b", "user_id": "user-42"}]
    (person,) = client.rows("SELECT user_id, traits FROM persons")
    assert person["user_id"] == "user-42"
    assert json.loads(person["traits"]) == {"plan": "pro", "country": "DE"}


def test_backend_events_without_session_join_the_visitor_session_within_30_minutes(client: Client) -> None:
    send(client, ev("pageview", "web", NOW, user_id="u1", url="https://shop.example/"))
    backend = "trailmark-python/0.1.0"
    send(client,
         {"id": "b1", "type": "track", "ts": NOW + 20 * MIN, "user_id": "u1", "name": "invoice_sent"},
         {"id": "b2", "type": "track", "ts": NOW + 49 * MIN, "user_id": "u1", "name": "reminder"},
         {"id": "b3", "type": "track", "ts": NOW + 90 * MIN, "user_id": "u1", "name": "late"},
         ua=backend)
    rows = client.rows("SELECT id, session_id FROM events ORDER BY ts")
    assert [r["session_id"] == "s1" for r in rows] == [True, True, True, False]
    late = rows[3]["session_id"]
    assert session(client, late)["first_ts"] == NOW + 90 * MIN
    assert session(client)["last_ts"] == NOW + 49 * MIN


def test_a_session_first_seen_from_a_backend_takes_the_browser_device(client: Client) -> None:
    chrome = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
    send(client, ev("track", "t1", NOW, name="api_call"), ua="trailmark-python/0.1.0")
    assert session(client)["browser"] is None
    send(client, ev("pageview", "p1", NOW + MIN, url="https://shop.example/"), ua=chrome)
    row = session(client)
    assert (row["browser"], row["os"], row["device"], row["is_bot"]) == ("Chrome", "Windows", "desktop", 0)


def test_concurrent_requests_share_commits_and_each_is_stored(collector_server: Server) -> None:
    requests = 64

    def post(i: int) -> int:
        events = [{"id": f"r{i}-e{j}", "type": "track", "ts": NOW, "anon_id": f"a{i}", "session_id": f"s{i}",
                   "name": "load"} for j in range(50)]
        answer = httpx.post(f"{collector_server.url}/v1/batch", json={"key": "wk_test", "events": events},
                            timeout=30)
        assert answer.json() == {"accepted": 50, "rejected": []}
        return answer.status_code

    writer = collector_server.store.writer
    before = writer.stats.commits
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert list(pool.map(post, range(requests))) == [200] * requests
    commits = writer.stats.commits - before
    assert collector_server.rows("SELECT count(*) AS n FROM events") == [{"n": requests * 50}]
    assert collector_server.rows("SELECT count(DISTINCT session_id) AS n FROM events") == [{"n": requests}]
    assert 1 <= commits < requests  # group commit: several requests shared a transaction


def test_replay_chunk_before_and_after_the_session_row_marks_it(client: Client) -> None:
    chunk = {"key": "wk_test", "session_id": "s1", "anon_id": "anon-a", "seq": 0,
             "events": [{"type": 4, "timestamp": NOW, "data": {"href": "https://shop.example/"}}]}
    assert client.http.post("/v1/replay", json=chunk).status_code == 200
    send(client, ev("pageview", "p1", NOW, url="https://shop.example/"))
    assert session(client)["has_replay"] == 1
    assert client.http.post("/v1/replay", json={**chunk, "seq": 1}).status_code == 200
    stored = client.rows("SELECT sum(length(data)) AS n FROM replay_chunks")[0]["n"]
    assert session(client)["replay_bytes"] == stored


def test_cookieless_salts_live_in_the_store_file(tmp_path: Any) -> None:
    from starlette.testclient import TestClient

    from collector.app import create_app
    from tests.support.collector import make_settings, make_store, read_rows

    store_db, elsewhere = tmp_path / "store.db", tmp_path / "settings.db"
    app = create_app(make_settings(elsewhere), make_store(store_db))
    cookieless = {"id": "c1", "type": "pageview", "ts": NOW, "url": "https://shop.example/"}
    with TestClient(app) as http:
        answer = http.post("/v1/batch", json={"key": "wk_test", "events": [cookieless]})
    assert answer.json() == {"accepted": 1, "rejected": []}
    assert len(read_rows(store_db, "SELECT day FROM salts")) == 1
    assert not elsewhere.exists()


def _batch(events: list[dict[str, Any]], *, bot: bool = False) -> WriteBatch:
    facts = Facts(site_id="test", received_at=NOW + 10 * MIN, sent_at=None, context=Context(is_bot=bot))
    rows = [to_row(wire.event_decoder.decode(json.dumps(e)), facts) for e in events]
    return WriteBatch(site_id="test", received_at=facts.received_at, context=facts.context, events=rows)


ROLLUPS = ("heatmap_elements", "heatmap_cells", "heatmap_points", "heatmap_scroll", "page_days",
           "session_days", "source_days", "session_span", "sessions")


def _tables(path: Any) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in ROLLUPS}
    finally:
        conn.close()


def _click_batches() -> list[WriteBatch]:
    """Requests with clicks: a retried one, one with text and a dead click, a rage click, clicks of
    a session that turns out to be a bot, and ids and selectors holding NUL."""
    def click(eid: str, session_id: str, ts: int, sel: str, **more: Any) -> dict[str, Any]:
        return ev("click", eid, ts, session_id=session_id, url="https://shop.example/p/1",
                  sel=sel, vw=1280, x=100, y=200, rx=0.5, ry=0.25, tag="button", **more)

    return [
        _batch([ev("pageview", "v1", NOW, url="https://shop.example/p/1"), click("c1", "s1", NOW + 1, "#buy")]),
        _batch([click("c2", "s1", NOW + 2, "#buy", text="Buy", dead=True), click("c1", "s1", NOW + 1, "#buy")]),
        _batch([ev("pageview", "v2", NOW, session_id="s2", url="https://shop.example/p/1"),
                click("c3", "s2", NOW + 3, "#buy", rage=True)]),
        _batch([click("c4", "s2", NOW + 4, "nav a")], bot=True),  # s2 turns out to be a bot
        _batch([click("c\x00a", "s3", NOW + 5, "#nul\x00sel"), click("c\x00b", "s3", NOW + 6, "#buy")]),
    ]


def test_a_group_of_many_batches_stores_what_the_batches_store_one_by_one(tmp_path: Any) -> None:
    """Clicks are folded into the heatmaps once per commit group: one group of many requests must
    leave every rollup exactly as those requests committed alone would."""
    batches = _click_batches()
    grouped, alone = SQLiteStore(tmp_path / "grouped.db"), SQLiteStore(tmp_path / "alone.db")
    for store in (grouped, alone):
        store.add_site("test", "Test", key="wk_test")
    conn = connect(grouped.path)
    results = apply_group(conn, batches)
    conn.close()
    conn = connect(alone.path)
    assert [apply_group(conn, [b]) for b in batches] == [[r] for r in results]
    conn.close()
    assert [(r.stored, r.duplicates) for r in results] == [(2, 0), (1, 1), (2, 0), (1, 0), (2, 0)]
    assert _tables(grouped.path) == _tables(alone.path)
    elements = _tables(grouped.path)["heatmap_elements"]
    assert [(e[4], e[5], e[6], e[7], e[9]) for e in elements] == [  # rage, sel, n, dead, text
        (0, "#buy", 3, 1, "Buy"), (0, "#nul\x00sel", 1, 0, None), (0, "nav a", 0, 0, None), (1, "#buy", 0, 0, None),
    ]  # the bot session s2's clicks are taken back


def test_a_group_numbered_at_random_past_the_largest_rowid_folds_its_clicks(tmp_path: Any) -> None:
    """Past the largest rowid SQLite numbers new rows at random: a group is then found by its ids,
    and every rollup is as in a store that numbers its rows in order."""
    batches = _click_batches()
    ordered, full = SQLiteStore(tmp_path / "ordered.db"), SQLiteStore(tmp_path / "full.db")
    for store in (ordered, full):
        store.add_site("test", "Test", key="wk_test")
    conn = connect(full.path)
    with conn:
        conn.execute("INSERT INTO events (rowid, site_id, id, session_id, type, ts, client_ts, received_at)"
                     " VALUES (9223372036854775807, 'other', 'last', 'o-1', 'track', 0, 0, 0)")
    results = [r for group in (batches[:1], batches[1:2], batches[2:]) for r in apply_group(conn, group)]
    assert [(r.stored, r.duplicates) for r in results] == [(2, 0), (1, 1), (2, 0), (1, 0), (2, 0)]
    rowids = [rowid for (rowid,) in conn.execute("SELECT rowid FROM events WHERE site_id = 'test' ORDER BY rowid")]
    conn.close()
    assert len(rowids) == 8 and rowids[-1] < 9223372036854775807
    assert rowids != list(range(rowids[0], rowids[0] + 8))  # not numbered in order: found by id
    conn = connect(ordered.path)
    apply_group(conn, batches)
    conn.close()
    assert _tables(full.path) == _tables(ordered.path)
    assert sum(e[6] for e in _tables(full.path)["heatmap_elements"]) == 4  # s1's and s3's; the bot's taken back


def test_sessions_reordered_by_start_keep_every_row_rollup_and_trigger(tmp_path: Any) -> None:
    """A store made before sessions were kept in start order takes the change on open: the same
    rows, the same triggers and indexes as a store made new, and later writes (a late earlier
    event that moves a session's start, a session that turns out to be a bot) roll up the same."""
    first = [
        _batch([ev("pageview", "v1", NOW, url="https://shop.example/p/1"),
                ev("click", "c1", NOW + 1, url="https://shop.example/p/1", sel="#buy", vw=1280, x=1, y=2)]),
        _batch([ev("pageview", "v2", NOW + 5, session_id="s2", url="https://shop.example/")]),
    ]
    later = [
        _batch([ev("pageview", "v0", NOW - 2 * MIN, url="https://shop.example/")]),  # s1 began earlier
        _batch([ev("click", "c2", NOW + 6, session_id="s2", url="https://shop.example/", sel="a", vw=390)],
               bot=True),
    ]
    old = tmp_path / "old.db"
    conn = connect(old)
    migrations.apply(Database(conn), stop_before="m026_sessions_by_start")
    assert "PRIMARY KEY (site_id, id)" in _schema(conn)["sessions"]
    _as_before_kept_touches(conn, first)
    cursor = conn.execute("SELECT * FROM sessions ORDER BY id")
    before, columns = cursor.fetchall(), ", ".join(d[0] for d in cursor.description)
    conn.close()
    new = SQLiteStore(tmp_path / "new.db").path
    conn = connect(new)
    apply_group(conn, first)
    conn.close()

    SQLiteStore(old)  # opening it migrates
    conn = connect(old)
    assert conn.execute(f"SELECT {columns} FROM sessions ORDER BY id").fetchall() == before  # later columns aside
    assert _schema(conn) == _schema(connect(new))
    assert "PRIMARY KEY (site_id, first_ts, id)" in _schema(conn)["sessions"]
    for path in (old, new):
        conn = connect(path)
        apply_group(conn, later)
        conn.close()
    assert _tables(old) == _tables(new)
    starts = sqlite3.connect(old).execute("SELECT id, first_ts, is_bot FROM sessions ORDER BY first_ts").fetchall()
    assert starts == [("s1", NOW - 2 * MIN, 0), ("s2", NOW + 5, 1)]


def _schema(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'sessions' AND sql IS NOT NULL"))


def test_text_with_nul_is_stored_exactly(client: Client) -> None:
    """Rows holding NUL are bound one by one: SQLite's JSON functions would cut them short."""
    answer = send(client, ev("track", "id\x00a", NOW, name="a\x00b", url="https://shop.example/?q=\x00"),
                  ev("track", "id\x00b", NOW + 1, name="plain"))
    assert answer == {"accepted": 2, "rejected": []}
    assert client.rows("SELECT id, name, url FROM events ORDER BY ts") == [
        {"id": "id\x00a", "name": "a\x00b", "url": "https://shop.example/?q=\x00"},
        {"id": "id\x00b", "name": "plain", "url": None},
    ]


def _as_before_kept_touches(conn: sqlite3.Connection, batches: list[Any]) -> None:
    """Store the batches as a version before the sessions' touches were kept on write did: a store
    migrated only that far has no table for them (opening it packs them from the events)."""
    with mock.patch.object(touches, "keep_stored", lambda *_: None):
        apply_group(conn, batches)


def _older_and_new(tmp_path: Any, batches: list[Any], stop_before: str) -> tuple[Any, SQLiteStore]:
    """The same batches in a store migrated up to `stop_before` (its path: opening it migrates the
    rest) and in a new store."""
    old = tmp_path / "old.db"
    conn = connect(old)
    migrations.apply(Database(conn), stop_before=stop_before)
    _as_before_kept_touches(conn, batches)
    conn.close()
    new = SQLiteStore(tmp_path / "new.db")
    conn = connect(new.path)
    apply_group(conn, batches)
    conn.close()
    return old, new


def test_a_store_made_before_the_vitals_index_takes_it_and_reports_the_same(tmp_path: Any) -> None:
    """Opening an older store builds the vitals' covering index over the vitals it already holds;
    the report read through it is the one a new store gives, and only vitals enter it."""
    batches = [
        _batch([ev("pageview", "p1", NOW, url="https://shop.example/p/1"),
                ev("vital", "l1", NOW + 1, url="https://shop.example/p/1", name="LCP", value=2500),
                ev("vital", "l2", NOW + 2, url="https://shop.example/p/1", name="LCP", value=4000.5),
                ev("vital", "c1", NOW + 3, url="https://shop.example/p/1", name="CLS", value=0.1)]),
        _batch([ev("vital", "l3", NOW + 5, session_id="s2", url="https://shop.example/", name="LCP", value=900)]),
    ]
    old, new = _older_and_new(tmp_path, batches, "m027_vital_values")
    migrated = SQLiteStore(old)  # opening it migrates
    conn = connect(old)
    indexed = conn.execute(
        "SELECT count(*) FROM events INDEXED BY events_vital WHERE site_id = 'test' AND type = 'vital' AND ts >= 0"
    ).fetchone()
    assert indexed == (4,)
    scope = Scope("test", NOW - NOW % DAY_MS, NOW - NOW % DAY_MS + DAY_MS)
    assert migrated.vitals(scope) == new.vitals(scope) == vitals_report([
        ("LCP", "/p/1", "", 2500.0), ("LCP", "/p/1", "", 4000.5), ("CLS", "/p/1", "", 0.1), ("LCP", "/", "", 900.0),
    ])


def test_a_store_made_before_the_journey_indexes_takes_them_and_reads_the_same_touches(tmp_path: Any) -> None:
    """Opening an older store widens the session index (name, touchpoint) and indexes its rage and
    dead clicks, and only those; the journey map reads the same touches off them as a new store."""
    batches = [
        _batch([ev("pageview", "p1", NOW, url="https://shop.example/p/1"),
                ev("click", "k1", NOW + 1, url="https://shop.example/p/1", sel="#a", rage=True),
                ev("click", "k2", NOW + 2, url="https://shop.example/p/1", sel="#b", dead=True),
                ev("click", "k3", NOW + 3, url="https://shop.example/p/1", sel="#c", rage=False, dead=False),
                ev("click", "k4", NOW + 4, url="https://shop.example/p/1", sel="#d", rage=True, dead=True),
                {**ev("survey", "n1", NOW + 5, url="https://shop.example/p/1"),
                 "kind": "csat", "score": 6, "scale": 7}]),
        _batch([ev("click", "k5", NOW + 6, session_id="s2", url="https://shop.example/", sel="#e")]),
    ]
    old, new = _older_and_new(tmp_path, batches, "m028_journey_touches")
    migrated = SQLiteStore(old)  # opening it migrates
    for path in (old, new.path):
        conn = connect(path)
        columns = [name for _, _, name in conn.execute("PRAGMA index_info(events_session_type)")]
        assert columns == ["site_id", "session_id", "type", "ts", "path", "rowid", "name", "touchpoint"]
        friction = conn.execute(
            "SELECT id FROM events INDEXED BY events_friction WHERE site_id = 'test' AND ts >= 0"
            " AND type = 'click' AND (data ->> '$.rage' OR data ->> '$.dead') ORDER BY id"
        ).fetchall()
        assert friction == [("k1",), ("k2",), ("k4",)]
        conn.close()
    scope = Scope("test", NOW - DAY_MS, NOW + DAY_MS)
    touches = migrated.journey_touches(scope)
    assert touches == new.journey_touches(scope)
    assert [(t.session, t.type, t.name, t.score, t.scale, t.rage, t.dead) for t in touches] == [
        ("s1", "pageview", None, None, None, 0, 0),
        ("s1", "click", "#a", None, None, 1, 0),
        ("s1", "click", "#b", None, None, 0, 1),
        ("s1", "click", "#c", None, None, 0, 0),
        ("s1", "click", "#d", None, None, 1, 1),
        ("s1", "survey", "csat", 6, 7, 0, 0),
        ("s2", "click", "#e", None, None, 0, 0),
    ]
    # a lean read leaves the columns it does not look at empty, on the events with data too
    lean = migrated.journey_touches(scope, reading_of(DEFAULT_STAGES))
    assert lean == [t._replace(route=None, url=None, channel=None, device=None) for t in touches]


def test_a_store_made_before_the_source_rollup_takes_it_over_the_sessions_it_holds(tmp_path: Any) -> None:
    """Opening an older store counts its sessions' referrers, entry pages and regions into
    source_days as the triggers of a new store do, a bot's apart."""
    batches = [
        _batch([ev("pageview", "p1", NOW, url="https://shop.example/p/1", referrer="https://news.example/a"),
                ev("pageview", "p2", NOW + 1, url="https://shop.example/p/2")]),
        _batch([ev("pageview", "p3", NOW + 2, session_id="s2", url="https://shop.example/")]),
        _batch([ev("pageview", "p4", NOW + 3, session_id="s3", url="https://shop.example/p/1")], bot=True),
    ]
    old, new = _older_and_new(tmp_path, batches, "m029_source_days")
    SQLiteStore(old)  # opening it migrates
    day = NOW // DAY_MS
    assert _tables(old)["source_days"] == _tables(new.path)["source_days"] == sorted([
        ("test", day, 0, "entry", "https://shop.example/", "", 1),
        ("test", day, 0, "entry", "https://shop.example/p/1", "", 1),
        ("test", day, 0, "referrer", "", "", 1),
        ("test", day, 0, "referrer", "https://news.example/a", "", 1),
        ("test", day, 0, "region", "", "", 2),
        ("test", day, 1, "entry", "https://shop.example/p/1", "", 1),
        ("test", day, 1, "referrer", "", "", 1),
        ("test", day, 1, "region", "", "", 1),
    ], key=repr)


def _paths(path: Any) -> dict[str, str | None]:
    return dict(sqlite3.connect(path).execute("SELECT id, paths FROM sessions").fetchall())


def _pages(store: SQLiteStore, start: int, end: int) -> dict[str, int]:
    """Pageviews by path of a scope no rollup answers (a filter every session passes)."""
    scope = Scope("test", start, end, filters=Filters(min_duration_ms=(0.0,)))
    return {row["name"]: row["pageviews"] for row in store.overview(scope)["pages"]}


def test_a_store_made_before_session_paths_takes_them_from_the_pageviews_it_holds(tmp_path: Any) -> None:
    """Opening an older store writes each session's pageview paths on its row as a new store's
    triggers do; a session without pageviews holds none, and the overview reads the same."""
    batches = [
        _batch([ev("pageview", "p1", NOW, url="https://shop.example/p/1"),
                ev("click", "c1", NOW + 1, url="https://shop.example/p/1", sel="#buy"),
                ev("pageview", "p2", NOW + 2, url="https://shop.example/")]),
        _batch([ev("pageview", "p3", NOW + 3, session_id="s2", url="https://shop.example/p/1")]),
        _batch([ev("click", "c2", NOW + 4, session_id="s3", url="https://shop.example/", sel="a")]),
    ]
    old, new = _older_and_new(tmp_path, batches, "m030_session_paths")
    migrated = SQLiteStore(old)  # opening it migrates
    assert _paths(old) == _paths(new.path) == {"s1": "\x1f/p/1\x1f/", "s2": "\x1f/p/1", "s3": ""}
    day = NOW // DAY_MS * DAY_MS
    assert _pages(migrated, day, day + DAY_MS) == _pages(new, day, day + DAY_MS) == {"/p/1": 2, "/": 1}


def test_session_paths_follow_late_pageviews_and_are_forgotten_where_they_cannot_be_kept(tmp_path: Any) -> None:
    """A late pageview (earlier than the session's start, or later) is added to its session's
    paths; a path holding the separator, a session longer than the row keeps, and a pageview
    purged or erased leave the paths unknown (NULL), and the overview then reads those sessions'
    pageviews from the events: its pages stay those of the events in every case."""
    store = SQLiteStore(tmp_path / "t.db")
    day = NOW // DAY_MS * DAY_MS
    store.write_sync(_batch([ev("pageview", "p1", NOW, url="https://shop.example/a")]))
    store.write_sync(_batch([ev("pageview", "p0", NOW - MIN, url="https://shop.example/b"),
                             ev("pageview", "p2", NOW + MIN, url="https://shop.example/a")]))
    store.write_sync(_batch([ev("pageview", "x1", NOW, session_id="sx", url="https://shop.example/x%1Fy"),
                             ev("pageview", "x2", NOW + 1, session_id="sx", url="https://shop.example/\x1f")]))
    long_path = "/" + "l" * 100
    store.write_sync(_batch([ev("pageview", f"l{i}", NOW + i, session_id="sl", url=f"https://shop.example{long_path}")
                             for i in range(30)]))
    held = _paths(store.path)
    assert held["s1"] == "\x1f/b\x1f/a\x1f/a"  # in the session's order of views
    assert held["sx"] is None  # a path holding the separator
    assert held["sl"] is None  # 30 x 102 characters: over the row's share
    assert _pages(store, day, day + DAY_MS) == {"/a": 2, "/b": 1, "/x%1Fy": 1, "/\x1f": 1, long_path: 30}

    # s2 runs from before a purge's cutoff to after it: its early pageview goes, its row stays
    store.write_sync(_batch([ev("pageview", "q1", day + 10, session_id="s2", url="https://shop.example/old"),
                             ev("pageview", "q2", day + 20 * MIN, session_id="s2", url="https://shop.example/new")]))
    assert _paths(store.path)["s2"] is not None
    store.purge(day + 10 * MIN)
    assert _paths(store.path)["s2"] is None
    assert _pages(store, day + 10 * MIN, day + DAY_MS)["/new"] == 1
    assert "/old" not in _pages(store, day, day + DAY_MS)


def test_paths_read_from_the_sessions_rows_are_those_read_from_the_events(tmp_path: Any) -> None:
    """Paths on a path pattern walk each session's pages as its row keeps them (time, then path,
    then arrival, as the events' index orders them); where the row does not know them (a path
    holding the separator, a long session, a purged pageview) they come from the events. Either
    way the answer is the one read from the events alone, the way URL and route patterns are."""
    store = SQLiteStore(tmp_path / "t.db")
    day = NOW // DAY_MS * DAY_MS
    shop = "https://shop.example"
    # late views: one before the session's first, two at one instant sent in reverse path order
    store.write_sync(_batch([ev("pageview", "a2", NOW + 2 * MIN, url=f"{shop}/cart"),
                             ev("pageview", "a1", NOW + MIN, url=f"{shop}/p/2")]))
    store.write_sync(_batch([ev("pageview", "a0", NOW - MIN, url=f"{shop}/"),
                             ev("pageview", "a4", NOW + 3 * MIN, url=f"{shop}/p/9"),
                             ev("pageview", "a3", NOW + 3 * MIN, url=f"{shop}/p/1"),
                             ev("pageview", "a5", NOW + 4 * MIN, url=f"{shop}/")]))
    store.write_sync(_batch([ev("pageview", f"b{i}", NOW + i, session_id="s2", url=f"{shop}{path}")
                             for i, path in enumerate(("/", "/p/1", "/cart", "/p/1", "/"))]))
    store.write_sync(_batch([ev("pageview", "x1", NOW, session_id="sx", url=f"{shop}/"),
                             ev("pageview", "x2", NOW + 1, session_id="sx", url=f"{shop}/\x1f"),
                             ev("pageview", "x3", NOW + 2, session_id="sx", url=f"{shop}/cart")]))
    long = [ev("pageview", f"l{i}", NOW + i, session_id="sl", url=f"{shop}/{'l' * 100}{i % 3}") for i in range(30)]
    store.write_sync(_batch([*long, ev("pageview", "l30", NOW + 30, session_id="sl", url=f"{shop}/cart")]))
    store.write_sync(_batch([ev("pageview", "q1", day + 10, session_id="sq", url=f"{shop}/old"),
                             ev("pageview", "q2", day + 20 * MIN, session_id="sq", url=f"{shop}/"),
                             ev("pageview", "q3", day + 21 * MIN, session_id="sq", url=f"{shop}/cart")]))
    store.purge(day + 10 * MIN)
    held = _paths(store.path)
    assert held["s1"] == "\x1f/\x1f/p/2\x1f/cart\x1f/p/1\x1f/p/9\x1f/"
    assert held["sx"] is None and held["sl"] is None and held["sq"] is None
    scope = Scope("test", day, day + DAY_MS)
    with store.read() as conn:
        for from_url in ("/", "/cart", "/p/*", "/p/1", "/nowhere"):
            for depth in (1, 3, 6):
                answer = store.paths(scope, from_url, depth)
                assert answer == sqlite_paths._from_events(conn, scope, from_url, depth, WIDTH), (from_url, depth)
    assert store.paths(scope, "/cart", 2)["sessions"] == 5
    assert {(link["source"], link["target"]) for link in store.paths(scope, "/p/1", 1)["next_links"]} == {
        ("/p/1", "/p/9"), ("/p/1", "/cart")}
    # the filter bar's suggestions read the same rows, and the events of the sessions they do not know
    assert store.suggest(scope, "page", "CaRT", 10) == [("/cart", 5)]
    assert store.suggest(scope, "page", "P/", 10) == [("/p/1", 2), ("/p/2", 1), ("/p/9", 1)]
    assert store.suggest(scope, "page", "\x1f", 10) == [("/\x1f", 1)]


def test_a_session_value_holding_the_separator_is_counted_by_the_plain_statements(tmp_path: Any) -> None:
    """The one read joins each column's values with the separator; a value that holds it (only a
    hostile client sends one) cannot be split back, so the scope is read a statement per figure."""
    store = SQLiteStore(tmp_path / "t.db")
    day = NOW // DAY_MS * DAY_MS
    store.write_sync(_batch([ev("pageview", "p1", NOW, url="https://shop.example/a?utm_campaign=x%1Fy",
                                referrer="https://news.example/")]))
    store.write_sync(_batch([ev("pageview", "p2", NOW, session_id="s2", url="https://shop.example/a",
                                referrer="https://news.example/\x1f")]))
    campaigns = sqlite3.connect(store.path).execute("SELECT utm_campaign FROM sessions ORDER BY id").fetchall()
    scope = Scope("test", day, day + DAY_MS, filters=Filters(min_duration_ms=(0.0,)))
    answer = store.overview(scope)
    assert answer["referrers"] == [{"name": "news.example", "sessions": 2, "previous": 0}]
    assert answer["pages"] == [{"name": "/a", "pageviews": 2, "previous": 0}]
    assert [row["sessions"] for row in answer["campaigns"]] == [1, 1]
    assert {row["name"] for row in answer["campaigns"]} == {c or "(none)" for (c,) in campaigns}


def test_a_store_made_before_late_pageviews_split_scroll_views_counts_its_views_again(tmp_path: Any) -> None:
    """An older store counted two reports of one URL as one view although a pageview stored after
    them lies between; opening it counts the views again, as a new store counts them on insert."""
    url = "https://shop.example/p/1"
    batches = [
        _batch([ev("pageview", "p1", NOW, url=url), ev("scroll", "r1", NOW + 2, url=url, depth=30, vh=700),
                ev("scroll", "r2", NOW + 4, url=url, depth=80, vh=800)]),
        _batch([ev("pageview", "p2", NOW + 3, url=url)]),  # late: between the two reports
    ]
    old, new = _older_and_new(tmp_path, batches, "m031_scroll_views_after_late_pageviews")
    day = NOW // DAY_MS
    one_view = [("test", "/p/:id", "", day, 80, 1, 800, 1)]
    counted = "SELECT * FROM heatmap_scroll WHERE n != 0 ORDER BY depth"
    assert sqlite3.connect(old).execute(counted).fetchall() == one_view
    SQLiteStore(old)  # opening it migrates
    two_views = [("test", "/p/:id", "", day, 30, 1, 700, 1), ("test", "/p/:id", "", day, 80, 1, 800, 1)]
    assert sqlite3.connect(old).execute(counted).fetchall() == two_views
    assert sqlite3.connect(new.path).execute(counted).fetchall() == two_views


def test_a_store_made_before_the_session_span_takes_its_longest_session(tmp_path: Any) -> None:
    """Opening an older store keeps the longest session it holds, as a new store's triggers keep it
    while a session grows (a later view arriving in another batch)."""
    batches = [
        _batch([ev("pageview", "p1", NOW, url="https://shop.example/"),
                ev("pageview", "p2", NOW + 5 * MIN, url="https://shop.example/a")]),
        _batch([ev("pageview", "p3", NOW + 1, session_id="s2", url="https://shop.example/")]),
        _batch([ev("pageview", "p4", NOW + 8 * MIN, url="https://shop.example/b")]),  # s1 grows
    ]
    old, new = _older_and_new(tmp_path, batches, "m032_session_span")
    SQLiteStore(old)  # opening it migrates
    assert _tables(old)["session_span"] == _tables(new.path)["session_span"] == [("test", 8 * MIN)]
