"""The ClickHouse store beyond the shared API tests: its URLs, its cluster schema, the seam's failure
path, two collectors on one store, and overload. chdb is the ClickHouse these tests run."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from collector.query.outcome import Score
from collector.store import StoreUnusable, open_store
from collector.store.assets import AssetCopy, AssetRef, copy_id
from collector.store.clickhouse import ClickHouseStore
from collector.store.clickhouse.client import Target, lit, parse_url
from collector.store.clickhouse.schema import TABLES, Layout, table_ddl
from collector.store.clickhouse.transaction import NODE_BITS, Versions, dead_letter_ids
from collector.store.model import Acquisition, DeadLetter, EventRow, WriteBatch
from tests.support import ROOT
from tests.support.collector import ADMIN_TOKEN, KEY, Chdb, ThreadedServer, free_port, make_settings

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_store_urls_name_the_engine(chdb: Chdb) -> None:
    assert parse_url("clickhouse://ana:s%40cret@ch.internal:9000/analytics?cluster=main") == Target(
        "server", database="analytics", host="ch.internal", port=9000, username="ana", password="s@cret",
        secure=False, cluster="main",
    )
    assert parse_url("clickhouses://ch.example") == Target("server", host="ch.example", port=8443, secure=True)
    assert parse_url("chdb:///var/lib/trailmark") == Target("chdb", path="/var/lib/trailmark")
    assert parse_url("chdb://rel/dir?database=x") == Target("chdb", path=str(Path("rel/dir").resolve()), database="x")
    with pytest.raises(ValueError, match="needs a directory"):
        parse_url("chdb://")
    with pytest.raises(ValueError, match="unknown store 'postgres'"):
        open_store("postgres://h/db")
    store = open_store(chdb.url())
    try:
        assert isinstance(store, ClickHouseStore) and store.engine == "clickhouse"
    finally:
        store.close()


def test_another_chdb_directory_in_the_same_process_is_refused(chdb: Chdb, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="one directory at a time"):
        ClickHouseStore(f"chdb://{tmp_path}/other")


def test_an_unreachable_server_is_refused_in_a_sentence_before_serving() -> None:
    url = f"clickhouse://default:secret@127.0.0.1:{free_port()}/trailmark"
    with pytest.raises(StoreUnusable) as refused:
        open_store(url, serving=True)
    message = str(refused.value)
    assert message.startswith("cannot open the store 127.0.0.1:")
    assert "secret" not in message


def test_a_cluster_gets_replicated_tables_on_cluster_with_distributed_tables_in_front() -> None:
    layout = Layout("trailmark", "main")
    ddl = {table[0]: table_ddl(layout, *table) for table in TABLES}
    local, front = ddl["sessions"]
    assert local.startswith("CREATE TABLE IF NOT EXISTS trailmark.sessions_local ON CLUSTER main (")
    zk = "'/clickhouse/tables/{shard}/trailmark"
    assert f"ENGINE = ReplicatedReplacingMergeTree({zk}/sessions', '{{replica}}', version)" \
        " ORDER BY (site_id, id) SETTINGS fsync_after_insert = 1" in local
    assert front == ("CREATE TABLE IF NOT EXISTS trailmark.sessions ON CLUSTER main AS trailmark.sessions_local"
                     " ENGINE = Distributed(main, trailmark, sessions_local, cityHash64(site_id, id))")
    assert f"ENGINE = ReplicatedMergeTree({zk}/events', '{{replica}}')" in ddl["events"][0]
    assert f"ReplicatedReplacingMergeTree({zk}/segments', '{{replica}}', version, deleted)" in ddl["segments"][0]
    assert all(len(statements) == 2 for statements in ddl.values())
    plain = table_ddl(Layout("trailmark"), *TABLES[0])
    assert plain == [
        f"CREATE TABLE IF NOT EXISTS trailmark.events ({TABLES[0][1]}) ENGINE = MergeTree"
        " ORDER BY (site_id, day, type, session_id, ts, seq)"
        " SETTINGS fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 0"
    ]


def _events(n: int, session: str) -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    return [{"type": "track", "id": str(uuid.uuid4()), "ts": now - 1000 + i, "anon_id": "a-" + session,
             "session_id": session, "name": "step"} for i in range(n)]


def test_two_collectors_on_one_store_see_each_others_writes(chdb: Chdb, tmp_path: Path) -> None:
    url = chdb.url()
    first, second = ClickHouseStore(url), ClickHouseStore(url)
    first.add_site("test", "Test site", key=KEY)
    settings = make_settings(tmp_path / "unused.db")
    with TestClient(create_app(settings, first)) as a, TestClient(create_app(settings, second)) as b:
        # A site added through one is known to the other at once (its key was never cached there).
        first.add_site("shop", "Shop", key="wk_shop")
        assert [s["id"] for s in b.get("/api/sites", headers=ADMIN).json()["sites"]] == ["test", "shop"]
        # A segment saved through one is listed and applied by the other.
        made = a.post("/api/segments?site=test", json={"name": "DE", "filters": {"country": "DE"}}, headers=ADMIN)
        assert made.status_code == 201, made.text
        listed = b.get("/api/segments?site=test", headers=ADMIN).json()["segments"]
        assert [(s["id"], s["name"], s["filters"]) for s in listed] == [(made.json()["id"], "DE", {"country": "DE"})]
        # A batch retried through the other collector is stored once.
        events = _events(5, "s-two")
        for http in (a, b, a):
            answer = http.post("/v1/batch", json={"key": KEY, "events": events})
            assert answer.json() == {"accepted": 5, "rejected": []}
        for http in (a, b):
            session = http.get("/api/sessions/s-two?site=test", headers=ADMIN).json()
            assert [e["id"] for e in session["events"]] == [e["id"] for e in events]
            assert session["events"] == a.get("/api/sessions/s-two?site=test", headers=ADMIN).json()["events"]
    first.close()
    second.close()


def test_two_writers_on_one_store_give_rejected_events_their_own_ids_newest_first(chdb: Chdb) -> None:
    """Two writers in one process; two processes that read one clock reading are the test below."""
    url = chdb.url()
    stores = [ClickHouseStore(url), ClickHouseStore(url)]
    stores[0].add_site("test", "Test site", key=KEY)
    sent = 30

    def reject(n: int) -> None:
        for k in range(sent):
            letter = DeadLetter(source="batch", reason="bad", raw=f"{n}-{k}")
            stores[n].write_sync(WriteBatch(site_id="test", received_at=1_000 + k, dead=[letter, letter]))

    threads = [threading.Thread(target=reject, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = stores[0].rejected(site_id="test", limit=10_000)
    for store in stores:
        store.close()
    assert len(rows) == 2 * 2 * sent
    assert len({row["id"] for row in rows}) == len(rows)
    # Newest first, as on SQLite: each collector's own rejected events in the order it stored them.
    for n in range(2):
        mine = [row["raw"] for row in rows if row["raw"].startswith(f"{n}-")]
        assert mine == [f"{n}-{k}" for k in reversed(range(sent)) for _ in range(2)]


def test_rejected_event_ids_rise_and_differ_between_collectors_at_one_instant() -> None:
    first, second = dead_letter_ids(3), dead_letter_ids(2)
    assert first == sorted(first) and len(set(first)) == 3 and min(second) > max(first)
    # Two collectors whose clocks give the same reading still differ by their nodes.
    clocks = [Versions(), Versions()]
    later = time.time_ns() + 10**12
    for clock in clocks:
        clock.advance(later)
    ids = [dead_letter_ids(4, node, clock) for node, clock in zip((1, 2), clocks, strict=True)]
    assert [i >> NODE_BITS for i in ids[0]] == [i >> NODE_BITS for i in ids[1]]
    assert not set(ids[0]) & set(ids[1])
    assert all(i < 1 << 63 for i in ids[0] + ids[1])


def test_a_full_writer_queue_answers_503_and_stores_nothing_of_it(chdb: Chdb, tmp_path: Path) -> None:
    batch = 40
    url = chdb.url()
    store = ClickHouseStore(url, max_pending=batch + 10)
    store.add_site("test", "Test site", key=KEY)
    acked: list[list[str]] = []
    refused: list[list[str]] = []
    lock = threading.Lock()
    port = free_port()

    def client(base: str, n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for k in range(6):
                events = _events(batch, f"s-{n}-{k}")
                answer = http.post("/v1/batch", json={"key": KEY, "events": events})
                with lock:
                    assert answer.status_code in (200, 503), answer.text
                    if answer.status_code == 503:
                        assert answer.headers["retry-after"] == "1"
                    (acked if answer.status_code == 200 else refused).append([e["id"] for e in events])

    with ThreadedServer(create_app(make_settings(tmp_path / "unused.db", max_pending=batch + 10), store), port):
        threads = [threading.Thread(target=client, args=(f"http://127.0.0.1:{port}", n)) for n in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    stored = dict(store.db.rows(f"SELECT id, count() FROM {store.db.t('events')} GROUP BY id"))
    store.close()
    assert refused and acked
    assert all(stored.get(i) == 1 for ids in acked for i in ids)
    assert not any(i in stored for ids in refused for i in ids)
    assert len(stored) == batch * len(acked)


def test_the_cluster_compose_file_runs_two_collectors_on_one_clickhouse() -> None:
    """deploy/clickhouse/compose.yaml cannot be started here: check what it names and sets."""
    import yaml

    root = ROOT
    folder = root / "deploy" / "clickhouse"
    compose = yaml.safe_load((folder / "compose.yaml").read_text())
    services = compose["services"]
    one, two = services["collector-1"], services["collector-2"]
    assert one == two  # the same service twice: collectors hold no state of their own
    assert (folder / one["build"]["context"]).resolve() == root
    assert one["build"]["args"] == {"EXTRAS": "[clickhouse]"}
    dockerfile = (root / one["build"]["dockerfile"]).read_text()
    assert 'ARG EXTRAS=""' in dockerfile and 'pip install --no-cache-dir ".${EXTRAS}"' in dockerfile
    assert "clickhouse = [" in (root / "pyproject.toml").read_text()
    url = one["environment"]["TRAILMARK_STORE"]
    target = parse_url(url.replace("${CLICKHOUSE_PASSWORD:?set CLICKHOUSE_PASSWORD}", "pw"))
    assert target == Target("server", database="trailmark", host="clickhouse", port=8123, username="trailmark",
                            password="pw")
    clickhouse = services["clickhouse"]
    assert clickhouse["environment"]["CLICKHOUSE_USER"] == "trailmark"
    assert clickhouse["environment"]["CLICKHOUSE_DB"] == "trailmark"
    assert "ports" not in clickhouse and "ports" not in one
    (subnet,) = [c["subnet"] for c in compose["networks"]["trailmark"]["ipam"]["config"]]
    assert one["environment"]["TRAILMARK_TRUSTED_PROXIES"] == subnet
    caddyfile = (folder / "Caddyfile").read_text()
    assert "reverse_proxy collector-1:8000 collector-2:8000" in caddyfile and "lb_policy ip_hash" in caddyfile
    assert [v.split(":")[:2] for v in services["caddy"]["volumes"] if v.startswith("./")] == [
        ["./Caddyfile", "/etc/caddy/Caddyfile"]
    ]


def test_a_chdb_directory_held_by_one_process_is_refused_to_another_in_a_sentence(chdb: Chdb) -> None:
    import subprocess
    import sys

    trailmark = str(Path(sys.executable).parent / "trailmark")
    done = subprocess.run([trailmark, "sites", "list", "--store", chdb.url()], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert f"the chdb store {chdb.path} is open in another process" in done.stderr


def test_erasure_writes_no_erased_id_into_clickhouse_mutation_files(chdb: Chdb) -> None:
    """ClickHouse keeps each mutation's text on disk: an erasure must not name the person in it."""
    store = ClickHouseStore(chdb.url())
    store.add_site("test", "Test site", key=KEY)
    now = int(time.time() * 1000)
    batch = WriteBatch(site_id="test", received_at=now, events=[EventRow(
        id="e-erase", type="pageview", ts=now, client_ts=now, anon_id="anon-erase-mut-4c1d", user_id=None,
        session_id="sess-erase-mut-4c1d", url="https://shop.example/", path="/", route=None, name=None,
        data=b"{}", acquisition=Acquisition(),
    )])
    store.write_sync(batch)
    # their likely-outcome score goes too, by a delete that names no id either
    store.save_outcome("test", {"trained_at": now}, [Score("anon-erase-mut-4c1d", 0.75, "likely")])
    assert [s["visitor_id"] for s in store.outcome_scores("test", "likely", 10)] == ["anon-erase-mut-4c1d"]
    # and the references of their session to copies of recorded assets, by a delete naming no id
    image = AssetCopy(id=copy_id("test", "image/png", b"png"), site_id="test", content_type="image/png", data=b"png")
    ref = AssetRef(session_id="sess-erase-mut-4c1d", url="https://shop.example/x.png", asset_id=image.id, ts=now)
    assert store.save_asset_copies("test", [image], [ref], now) == 3
    assert store.asset_copies("test", "sess-erase-mut-4c1d") == {ref.url: image.id}
    assert store.erase_person("test", "anon-erase-mut-4c1d") == {
        "events": 1, "sessions": 1, "replay_chunks": 0, "identities": 0, "persons": 0, "dead_letters": 0,
        "trigger_deliveries": 0, "trigger_checks": 0, "trigger_fired": 0}
    assert store.session("sess-erase-mut-4c1d", None) is None
    assert store.outcome_scores("test", "likely", 10) == [] and store.outcome_counts("test") == {}
    assert store.asset_copies("test", "sess-erase-mut-4c1d") == {} and store.asset_copy(image.id) is None
    mutations = list(chdb.path.rglob("mutation_*.txt"))
    assert mutations  # the deletes were mutations, kept as text
    for path in mutations:
        text = path.read_text(errors="replace")
        assert "anon-erase-mut-4c1d" not in text and "sess-erase-mut-4c1d" not in text, path
    assert not [t for (t,) in store.db.rows(f"SHOW TABLES FROM {store.layout.database}") if t.startswith("erasing_")]
    store.close()


def test_bytes_go_in_and_come_out_whole(chdb: Chdb) -> None:
    """Binary values (replay chunks, asset copies) enter statements as \\xHH literals: every byte
    value, quote and backslash included, reads back as it was written."""
    assert lit(b"") == "''" and lit(b"'\\\0") == "'\\x27\\x5c\\x00'"
    store = ClickHouseStore(chdb.url())
    data = bytes(range(256)) * 3 + b"'\\"
    image = AssetCopy(id=copy_id("test", "image/png", data), site_id="test", content_type="image/png", data=data)
    try:
        assert store.save_asset_copies("test", [image], [], 1) == len(data)
        assert store.asset_copy(image.id) == image
    finally:
        store.close()
