"""The consumer thread batches by count, bytes and time; flush, shutdown, sync and the queue."""

from __future__ import annotations

import json
import logging
import threading

import pytest
import trailmark
from trailmark.consumer import ENVELOPE_BYTES

from .stub import Reply


def test_batches_by_count(stub, make_client) -> None:
    server, url = stub
    # An hour-long interval: only the count or a flush may close a batch.
    client = make_client(url, flush_interval=3600)
    ids = [client.track("u1", "e", {"i": i}) for i in range(250)]
    assert client.flush() is True
    assert [len(r.body["events"]) for r in server.requests] == [100, 100, 50]
    assert [e["id"] for e in server.events] == ids
    assert (client.delivered, client.failed, client.dropped) == (250, 0, 0)


def test_batches_by_bytes(stub, make_client) -> None:
    server, url = stub
    client = make_client(url, flush_interval=3600, gzip=False)
    ids = [client.track("u1", "e", {"blob": f"{i:05d}" + "x" * 20_000}) for i in range(100)]
    assert client.flush() is True
    size = len(json.dumps(server.events[0], separators=(",", ":")))
    per_batch = (500_000 - ENVELOPE_BYTES) // (size + 1)
    assert per_batch == 24
    assert [len(r.body["events"]) for r in server.requests] == [24, 24, 24, 24, 4]
    assert all(len(r.raw) <= 500_000 for r in server.requests)
    assert [e["id"] for e in server.events] == ids


def test_interval_sends_a_partial_batch_without_flush(stub, make_client) -> None:
    server, url = stub
    client = make_client(url, flush_interval=0.05)
    event_id = client.track("u1", "e")
    server.wait_requests(1)
    assert [e["id"] for e in server.events] == [event_id]
    assert client.queued == 0


def test_one_connection_is_kept_alive(stub, make_client) -> None:
    server, url = stub
    client = make_client(url, batch_size=10)
    for _ in range(5):
        for _ in range(10):
            client.track("u1", "e")
        client.flush()
    assert (len(server.requests), server.connections) == (5, 1)


def test_a_connection_closed_by_the_server_is_reopened_without_a_retry(stub, make_client) -> None:
    server, url = stub
    server.script = [Reply(close=True), Reply(close=True)]
    client = make_client(url)
    for _ in range(3):
        client.track("u1", "e")
        assert client.flush() is True
    assert (len(server.requests), server.connections, client.stats.retries) == (3, 3, 0)
    assert client.delivered == 3


def test_queue_full_drops_and_counts_without_blocking(stub, make_client, caplog) -> None:
    server, url = stub
    release = threading.Event()
    server.script = [Reply(hold=release)]
    client = make_client(url, max_queue_size=10, batch_size=1)
    first = client.track("u1", "e")
    server.wait_requests(1)  # the consumer holds `first` in flight; the queue is empty
    with caplog.at_level(logging.WARNING, logger="trailmark"):
        ids = [client.track("u1", "e", {"i": i}) for i in range(15)]
    assert (client.queued, client.dropped) == (10, 5)
    assert "queue full (10 events); 1 event(s) dropped so far" in caplog.text
    release.set()
    assert client.flush() is True
    assert [e["id"] for e in server.events] == [first, *ids[:10]]
    assert (client.delivered, client.dropped) == (11, 5)


def test_flush_times_out_while_the_collector_hangs(stub, make_client) -> None:
    server, url = stub
    release = threading.Event()
    server.script = [Reply(hold=release)]
    client = make_client(url)
    client.track("u1", "e")
    server.wait_requests(1)
    assert client.flush(timeout=0.05) is False
    release.set()
    assert client.flush() is True
    assert client.delivered == 1


def test_shutdown_runs_out_of_time_and_reports_what_was_left(make_client, errors) -> None:
    # Nothing listens on this port: every attempt is refused and retried with long backoff.
    from tests.support.collector import free_port

    client = make_client(f"http://127.0.0.1:{free_port()}", backoff_base=60, max_backoff=60)
    ids = [client.track("u1", "e") for _ in range(3)]
    assert client.shutdown(timeout=0.2) is False
    assert [(type(exc), [e["id"] for e in evs]) for exc, evs in errors] == [
        (trailmark.ShutdownError, ids)
    ]
    assert (client.failed, client.queued) == (3, 0)


def test_tracking_after_shutdown_starts_a_new_consumer(stub, make_client) -> None:
    server, url = stub
    client = make_client(url)
    client.track("u1", "before")
    assert client.shutdown() is True
    client.track("u1", "after")
    assert client.flush() is True
    assert [e["name"] for e in server.events] == ["before", "after"]


def test_sync_mode_delivers_before_returning(stub, make_client) -> None:
    server, url = stub
    client = make_client(url, sync_mode=True)
    event_id = client.track("u1", "e")
    assert [e["id"] for e in server.events] == [event_id]
    assert client._consumer is None and client.delivered == 1


def test_sync_mode_failure_goes_to_on_error_not_the_caller(stub, make_client, errors) -> None:
    server, url = stub
    server.script = [Reply(400)]
    client = make_client(url, sync_mode=True)
    event_id = client.track("u1", "e")
    assert [(exc.status, [e["id"] for e in evs]) for exc, evs in errors] == [(400, [event_id])]


def test_module_level_default_client(stub, monkeypatch) -> None:
    server, url = stub
    monkeypatch.setattr(trailmark, "write_key", "wk_mod")
    monkeypatch.setattr(trailmark, "host", url)
    try:
        event_id = trailmark.track("u1", "signup", {"plan": "pro"})
        trailmark.survey("u1", "nps", 10)
        assert trailmark.flush() is True
    finally:
        assert trailmark.shutdown() is True
    assert server.requests[0].body["key"] == "wk_mod"
    assert [e["id"] for e in server.events][0] == event_id
    assert [e["type"] for e in server.events] == ["track", "survey"]
    assert trailmark.default_client is None


def test_module_level_without_a_key_is_a_programmer_error(monkeypatch) -> None:
    monkeypatch.setattr(trailmark, "write_key", None)
    with pytest.raises(ValueError, match="set trailmark.write_key"):
        trailmark.track("u1", "e")
