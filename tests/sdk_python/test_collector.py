"""Delivery to the real collector on a real uvicorn, checked in its SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trailmark

from collector.app import create_app
from tests.support.collector import ThreadedServer, free_port, make_settings, make_store, read_rows

from .conftest import SDK_PATH
from .stub import Reply, serve_stub


def stored_ids(server) -> list[str]:
    return [row["id"] for row in server.rows("SELECT id FROM events ORDER BY id")]


def test_10000_events_are_stored_exactly_once(collector_server, make_client, errors) -> None:
    client = make_client(collector_server.url)
    ids = [client.track(f"u{i % 97}", "load", {"i": i}) for i in range(10_000)]
    assert client.flush() is True
    assert (client.dropped, client.delivered, errors) == (0, 10_000, [])
    [counts] = collector_server.rows("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM events")
    assert counts == {"n": 10_000, "d": 10_000}
    assert stored_ids(collector_server) == sorted(ids)


def test_threads_sharing_a_client_lose_nothing(collector_server, make_client, errors) -> None:
    import threading

    client = make_client(collector_server.url)
    ids: list[list[str]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def work(n: int) -> None:
        start.wait()
        ids[n] = [client.track(f"t{n}", "e", {"i": i}) for i in range(1_000)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.flush() is True
    assert (client.dropped, client.delivered, errors) == (0, 8_000, [])
    assert stored_ids(collector_server) == sorted(i for chunk in ids for i in chunk)


def test_every_method_is_accepted_by_the_collector(collector_server, make_client, errors) -> None:
    client = make_client(collector_server.url)
    item = {"sku": "mug", "name": "Mug", "price": 12.5, "qty": 2, "currency": "EUR"}
    client.identify("u1", {"plan": "pro"}, anon_id="a1")
    client.page("u1", "https://shop.example/p/1", title="Mug", route="/p/:id")
    client.track("u1", "signup", {"plan": "pro"}, session_id="s1")
    client.cart_add("u1", item)
    client.cart_remove("u1", {"sku": "mug"})
    client.checkout("u1", [item], 25.0, "EUR")
    client.purchase("u1", order_id="o-1", value=25.0, currency="EUR", items=[item])
    client.survey("u1", "nps", 9)
    client.survey("u1", "csat", 6, scale=7)
    client.survey("u1", "ces", 5, comment="easy")
    assert client.flush() is True
    assert errors == []
    rows = collector_server.rows("SELECT type, user_id FROM events ORDER BY ts, type")
    assert sorted(r["type"] for r in rows) == sorted(
        ["identify", "pageview", "track", "cart", "cart", "checkout", "purchase", "survey",
         "survey", "survey"]
    )
    assert {r["user_id"] for r in rows} == {"u1"}


def test_every_method_carries_its_touchpoint(collector_server, make_client, errors) -> None:
    client = make_client(collector_server.url)
    item = {"sku": "mug", "price": 12.5}
    ids = {
        client.identify("u1", {}, anon_id="a1", touchpoint="app"): "app",
        client.page("u1", "https://shop.example/p/1", touchpoint="kiosk"): "kiosk",
        client.track("u1", "support_call", {"topic": "refund"}, touchpoint="call_center"): "call_center",
        client.cart_add("u1", item, touchpoint="store"): "store",
        client.cart_remove("u1", item, touchpoint="store"): "store",
        client.checkout("u1", [item], touchpoint="chat"): "chat",
        client.purchase("u1", order_id="o-1", value=25.0, touchpoint="store"): "store",
        client.survey("u1", "nps", 9, touchpoint="email"): "email",
        client.exposure("u1", "cta", "green", touchpoint="email"): "email",
        client.track("u1", "nightly_sync"): "server",
        client.page("u1", "https://shop.example/"): "web",
    }
    assert client.flush() is True
    assert errors == []
    rows = collector_server.rows("SELECT id, touchpoint FROM events")
    assert {r["id"]: r["touchpoint"] for r in rows} == ids


def test_a_touchpoint_longer_than_32_characters_fails_at_the_call(make_client) -> None:
    client = make_client("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="touchpoint is longer than 32 characters"):
        client.track("u1", "x", touchpoint="c" * 33)
    assert client.queued == 0


def test_collector_down_at_start_then_up(tmp_path: Path, make_client, errors) -> None:
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}", backoff_base=0.05, max_backoff=0.5,
                         max_retries=1000)
    ids = [client.track("u1", "e", {"i": i}) for i in range(50)]
    while client.stats.retries < 3:  # refused at least three times before the collector exists
        time.sleep(0.01)
    db_path = tmp_path / "late.db"
    with ThreadedServer(create_app(make_settings(db_path), make_store(db_path)), port):
        assert client.flush() is True
    rows = read_rows(db_path, "SELECT id FROM events ORDER BY id")
    assert (errors, client.delivered) == ([], 50)
    assert [r["id"] for r in rows] == sorted(ids)


def test_503_with_retry_after_then_200_is_delivered(collector_server, make_client, errors) -> None:
    with serve_stub(upstream=collector_server.url) as (proxy, url):
        proxy.script = [Reply(503, headers={"Retry-After": "1"})]
        client = make_client(url)
        ids = [client.track("u1", "e") for _ in range(20)]
        assert client.flush() is True
    assert [r.body["events"] == proxy.requests[0].body["events"] for r in proxy.requests] == [
        True, True
    ]
    assert proxy.requests[1].at - proxy.requests[0].at >= 0.95
    assert (errors, client.delivered, client.stats.retries) == ([], 20, 1)
    assert stored_ids(collector_server) == sorted(ids)


def test_400_is_reported_and_not_retried(collector_server, make_client, errors) -> None:
    # The proxy cuts the gzip body short, so the real collector answers 400 (not valid gzip).
    with serve_stub(upstream=collector_server.url) as (proxy, url):
        proxy.script = [Reply(corrupt=True)]
        client = make_client(url, batch_size=5, flush_interval=3600)
        ids = [client.track("u1", "e", {"i": i}) for i in range(10)]
        assert client.flush() is True
    assert len(proxy.requests) == 2
    [(exc, events)] = errors
    assert isinstance(exc, trailmark.APIError) and exc.status == 400
    assert exc.message.startswith("body is not valid gzip")
    assert [e["id"] for e in events] == ids[:5]
    assert (client.delivered, client.failed, client.stats.retries) == (5, 5, 0)
    assert stored_ids(collector_server) == sorted(ids[5:])


def test_unknown_key_and_oversized_body_are_not_retried(collector_server, make_client, errors):
    wrong = make_client(collector_server.url, key="wk_nope")
    wrong.track("u1", "e")
    assert wrong.flush() is True
    big = make_client(collector_server.url, max_batch_bytes=4_000_000, gzip=False)
    for i in range(50):
        big.track("u1", "e", {"blob": f"{i}" + "x" * 30_000})
    assert big.flush() is True
    assert [(e.status, len(evs)) for e, evs in errors] == [(401, 1), (413, 50)]
    assert wrong.stats.retries + big.stats.retries == 0
    assert stored_ids(collector_server) == []


def test_events_the_collector_rejects_go_to_on_error(collector_server, make_client, errors):
    client = make_client(collector_server.url)
    month_ago = datetime.now(UTC) - timedelta(days=30)
    good = client.track("u1", "fresh")
    stale = client.track("u1", "backfill", timestamp=month_ago)
    assert client.flush() is True
    [(exc, events)] = errors
    assert isinstance(exc, trailmark.RejectedError) and "too old" in exc.reasons[0]
    assert [e["id"] for e in events] == [stale]
    assert stored_ids(collector_server) == [good]
    [dead] = collector_server.rows("SELECT reason FROM dead_letters")
    assert "too old" in dead["reason"]


def test_queue_full_is_counted(collector_server, make_client, errors) -> None:
    # Batches of 500 and a queue of 100: the consumer takes nothing until flush.
    client = make_client(collector_server.url, batch_size=500, max_queue_size=100,
                         flush_interval=3600)
    ids = [client.track("u1", "e", {"i": i}) for i in range(150)]
    assert (client.queued, client.dropped) == (100, 50)
    assert client.flush() is True
    assert (client.delivered, client.dropped, errors) == (100, 50, [])
    assert stored_ids(collector_server) == sorted(ids[:100])


def run_script(source: str, url: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [SDK_PATH, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "COLLECTOR_URL": url, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(source)], env=env,
                          capture_output=True, text=True, timeout=120)


FORK_SCRIPT = """
    import os, sys, warnings, trailmark
    # Python 3.12+ warns about fork() with threads running; forking with the consumer thread
    # running is exactly the gunicorn --preload case under test.
    warnings.simplefilter("ignore", DeprecationWarning)
    client = trailmark.Client("sk_test_secret_server_key", os.environ["COLLECTOR_URL"], flush_interval=3600)
    client.track("parent", "before-fork")
    client.flush()  # the parent's consumer thread is running, as in a gunicorn preload master
    client.track("parent", "queued-at-fork")
    pid = os.fork()
    if pid == 0:
        # The child starts empty: the parent delivers what it had queued.
        assert client.queued == 0, client.queued
        client.track("child", "in-child")
        sys.exit(0)  # no flush: the child's own atexit shutdown delivers
    _, status = os.waitpid(pid, 0)
    assert client.flush() is True
    print(os.waitstatus_to_exitcode(status), client.delivered)
"""


def test_a_forked_child_delivers_with_its_own_consumer(collector_server) -> None:
    done = run_script(FORK_SCRIPT, collector_server.url)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.split() == ["0", "2"]
    rows = collector_server.rows("SELECT user_id, name FROM events ORDER BY user_id, name")
    assert [(r["user_id"], r["name"]) for r in rows] == [
        ("child", "in-child"), ("parent", "before-fork"), ("parent", "queued-at-fork")
    ]


EXIT_SCRIPT = """
    import os, trailmark
    trailmark.write_key = "sk_test_secret_server_key"
    trailmark.host = os.environ["COLLECTOR_URL"]
    client = trailmark.Client("sk_test_secret_server_key", os.environ["COLLECTOR_URL"], flush_interval=3600)
    for i in range(250):
        client.track("u1", "at-exit", {"i": i})
    trailmark.track("u2", "module-level")
"""


def test_shutdown_at_exit_delivers_what_was_queued(collector_server) -> None:
    done = run_script(EXIT_SCRIPT, collector_server.url)
    assert (done.returncode, done.stderr) == (0, "")
    rows = collector_server.rows("SELECT user_id, COUNT(*) AS n FROM events GROUP BY user_id")
    assert rows == [{"user_id": "u1", "n": 250}, {"user_id": "u2", "n": 1}]


def test_the_secret_key_sets_traits_and_links_the_browser(collector_server, make_client, errors, caplog) -> None:
    import httpx

    from tests.support.collector import SECRET

    browser = {"type": "pageview", "id": "web-1", "ts": int(time.time() * 1000) - 60_000, "anon_id": "web-anon",
               "session_id": "web-session", "url": "https://shop.example/"}
    answer = httpx.post(f"{collector_server.url}/v1/batch", json={"key": "wk_test", "events": [browser]})
    assert answer.status_code == 200
    backend = make_client(collector_server.url, key=SECRET)
    backend.identify("u-sdk", {"plan": "pro"}, anon_id="web-anon")
    backend.purchase("u-sdk", order_id="o-sdk", value=9.5, currency="EUR")
    assert backend.flush() is True and errors == []
    assert "public write key" not in caplog.text
    assert collector_server.rows("SELECT user_id, traits FROM persons") == [
        {"user_id": "u-sdk", "traits": '{"plan":"pro"}'}]
    assert collector_server.rows("SELECT anon_id, user_id, verified FROM identities") == [
        {"anon_id": "web-anon", "user_id": "u-sdk", "verified": 1}]
    assert collector_server.rows("SELECT session_id FROM events WHERE type = 'purchase'") == [
        {"session_id": "web-session"}]


def test_the_public_key_is_a_claim_and_says_so(collector_server, make_client, errors, caplog) -> None:
    public = make_client(collector_server.url, key="wk_test")
    assert "wk_tes... is a public write key" in caplog.text
    public.identify("u-claim", {"plan": "pro"}, anon_id="a-claim")
    assert public.flush() is True and errors == []
    assert collector_server.rows("SELECT * FROM persons") == []
    assert collector_server.rows("SELECT anon_id, user_id, verified FROM identities") == [
        {"anon_id": "a-claim", "user_id": "u-claim", "verified": 0}]


def test_a_deeply_nested_prop_is_one_rejection_and_later_events_arrive(collector_server, make_client, errors):
    client = make_client(collector_server.url)
    deep: list = []
    for _ in range(200):  # over the collector's 32 levels, under what Python's encoder can write
        deep = [deep]
    before = client.track("u1", "before")
    poisoned = client.track("u1", "deep", {"p": deep})
    after = client.track("u1", "after")
    assert client.flush() is True
    [(exc, events)] = errors
    assert isinstance(exc, trailmark.RejectedError) and exc.reasons == ["nested deeper than 32 levels"]
    assert [e["id"] for e in events] == [poisoned]
    assert stored_ids(collector_server) == sorted([before, after])
    later = client.track("u1", "later")
    assert client.flush() is True
    assert stored_ids(collector_server) == sorted([before, after, later])
