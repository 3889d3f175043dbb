"""The ClickHouse writer's group apply on chdb: large groups, what its memory may and may not
keep (store/clickhouse/memory.py), and when it wakes the trigger scheduler."""

from __future__ import annotations

import time
from typing import Any

import pytest

from collector.store.clickhouse import ClickHouseStore
from collector.store.clickhouse.memory import MAX_VIEWS, Memory
from collector.store.clickhouse.transaction import ROW_NAMES, apply_group
from collector.store.model import Acquisition, EventRow, WriteBatch, WriteResult
from collector.triggers.rules import Condition, NewRule
from tests.support.collector import KEY, Chdb, stamp_session

# Quotes, backslashes, control characters and emoji: the JSON insert path must store them as given.
ODD = "it's a \\ \"quoted\"\n\ttab 😀 é"


def _batch(ids: list[str], session: str, *, now: int, name: str = ODD) -> WriteBatch:
    return WriteBatch(site_id="test", received_at=now, events=[EventRow(
        id=event_id, type="track", ts=now - 1000 + i, client_ts=now - 1000 + i, anon_id="a-" + session,
        user_id=None, session_id=session, url="https://shop.example/p?q='x'", path="/p", route=None, name=name,
        data=b'{"props":{"k":"v\\\\n"}}', acquisition=Acquisition(),
    ) for i, event_id in enumerate(ids)])


def _store(chdb: Chdb) -> ClickHouseStore:
    store = ClickHouseStore(chdb.url())
    store.add_site("test", "Test site", key=KEY)
    return store


def _events_of(store: ClickHouseStore, session: str) -> tuple[int, dict[str, Any]]:
    """The events the session's page lists, and its stored row (FINAL: the row every answer reads)."""
    found = store.session(session, "test")
    assert found is not None
    names = ("events", "country", "city")
    (row,) = store.db.rows(f"SELECT {', '.join(names)} FROM {store.db.t('sessions')} FINAL WHERE id = '{session}'")
    return len(found["events"]), dict(zip(names, row, strict=True))


def test_a_batch_retried_inside_a_large_group_is_stored_once(chdb: Chdb) -> None:
    """A group of two 50-event batches looks its 100 ids up as data (client.many), not literals."""
    store = _store(chdb)
    now = int(time.time() * 1000)
    first = _batch([f"e-{i}" for i in range(50)], "s-large", now=now)
    assert store.write_sync(first) == WriteResult(stored=50, duplicates=0, chunks_stored=0)
    second = _batch([f"f-{i}" for i in range(50)], "s-large", now=now)
    again = _batch([f"e-{i}" for i in range(50)], "s-large", now=now)
    twice = _batch([f"f-{i}" for i in range(50)], "s-large", now=now)  # the same batch, sent twice in one group
    assert apply_group(store.db, [second, again, twice]) == [
        WriteResult(stored=50, duplicates=0, chunks_stored=0),
        WriteResult(stored=0, duplicates=50, chunks_stored=0),
        WriteResult(stored=0, duplicates=50, chunks_stored=0),
    ]
    count, session = _events_of(store, "s-large")
    assert count == 100 and session["events"] == 100
    ((stored, distinct, names),) = store.db.rows(
        f"SELECT count(), uniqExact(id), groupUniqArray(name) FROM {store.db.t('events')}"
    )
    assert (stored, distinct, names) == (100, 100, [ODD])
    store.close()


def test_the_writer_memory_forgets_a_session_row_written_by_anyone_else(chdb: Chdb) -> None:
    """A session row changed outside the writer's groups (here as enrichment would) is read back,
    not overwritten with the row the writer remembered."""
    store = _store(chdb)
    now = int(time.time() * 1000)
    store.write_sync(_batch(["m-1", "m-2"], "s-memory", now=now))
    stamp_session(store, "s-memory", country="DE", city="Berlin")
    store.write_sync(_batch(["m-3"], "s-memory", now=now))
    count, session = _events_of(store, "s-memory")
    assert (count, session["events"], session["country"], session["city"]) == (3, 3, "DE", "Berlin")
    store.close()


def test_rows_written_by_a_collector_whose_clock_runs_ahead_are_still_replaced(chdb: Chdb) -> None:
    """Another collector of a server store, its clock an hour ahead, wrote the session row and the
    identity link last: this collector's next rows must still replace them (its versions go past
    every version it reads back), not lose to them in ReplacingMergeTree."""
    store = _store(chdb)
    db = store.db
    now = int(time.time() * 1000)
    store.write_sync(_batch(["c-1", "c-2"], "s-clock", now=now))
    ahead = time.time_ns() + 3600 * 10**9
    (row,) = db.rows(f"SELECT {', '.join(ROW_NAMES)} FROM {db.t('sessions')} FINAL WHERE id = 's-clock'")
    stamped = {**dict(zip(ROW_NAMES, row, strict=True)), "country": "DE"}
    db.conn.insert(db.t("sessions"), (*ROW_NAMES, "version"), [(*stamped.values(), ahead)])
    db.conn.insert(db.t("identities"), ("site_id", "anon_id", "user_id", "ts", "verified", "version"),
                   [("test", "a-s-clock", "u-first", now - 5000, 0, ahead)])
    claim = _batch(["c-3"], "s-clock", now=now)
    claim.events[0].type, claim.events[0].user_id = "identify", "u-second"
    store.write_sync(claim)
    count, session = _events_of(store, "s-clock")
    assert (count, session["events"], session["country"]) == (3, 3, "DE")
    assert db.rows(f"SELECT user_id FROM {db.t('identities')} FINAL WHERE anon_id = 'a-s-clock'") == [("u-second",)]
    store.close()


def test_a_session_of_many_pageviews_is_read_back_not_remembered(chdb: Chdb) -> None:
    """The memory holds rows of at most MAX_VIEWS pageviews; a longer session's row is read back,
    and each group still merges its pageviews into all of the stored ones."""
    store = _store(chdb)
    now = int(time.time() * 1000)
    long = _batch([f"l-{i}" for i in range(MAX_VIEWS + 1)], "s-long", now=now)
    for row in long.events:
        row.type = "pageview"
    store.write_sync(long)
    memory = Memory.of(store.conn, store.layout.database)
    assert memory is not None and ("test", "s-long") not in memory.sessions
    more = _batch(["l-more"], "s-long", now=now + 5000)
    more.events[0].type = "pageview"
    store.write_sync(more)
    db = store.db
    ((events, views),) = db.rows(f"SELECT events, length(views) FROM {db.t('sessions')} FINAL WHERE id = 's-long'")
    assert (events, views) == (MAX_VIEWS + 2, MAX_VIEWS + 2)
    store.close()


def test_two_stores_of_one_process_merge_into_the_same_session_row(chdb: Chdb) -> None:
    """Two app instances of one process write through two writers into one ClickHouse: each
    group sees the other's rows, whatever either remembers."""
    url = chdb.url()
    first, second = ClickHouseStore(url), ClickHouseStore(url)
    first.add_site("test", "Test site", key=KEY)
    now = int(time.time() * 1000)
    for n, store in enumerate((first, second, first, second, first)):
        store.write_sync(_batch([f"t-{n}-a", f"t-{n}-b"], "s-two-writers", now=now))
    for store in (first, second):
        count, session = _events_of(store, "s-two-writers")
        assert (count, session["events"]) == (10, 10)
    first.close()
    second.close()


def test_an_erased_person_is_not_brought_back_by_the_next_group(chdb: Chdb) -> None:
    store = _store(chdb)
    now = int(time.time() * 1000)
    store.write_sync(_batch(["x-1"], "s-erased", now=now))
    assert store.erase_person("test", "a-s-erased")["sessions"] == 1
    store.write_sync(_batch(["x-2"], "s-erased", now=now))
    count, session = _events_of(store, "s-erased")
    assert (count, session["events"]) == (1, 1)
    store.close()


def test_the_trigger_scheduler_is_woken_only_by_writes_that_can_make_work_due(chdb: Chdb) -> None:
    store = _store(chdb)
    wakes: list[int] = []
    store.on_commit(lambda: wakes.append(1))
    now = int(time.time() * 1000)
    store.write_sync(_batch(["w-1"], "s-wake", now=now, name="browse"))
    assert wakes == []  # no rule: nothing can be due
    store.create_trigger_rule("test", NewRule(
        name="bought", url="https://hooks.example/t", kind="event", event=Condition(type="track", name="buy"),
    ), "secret")
    assert wakes == [1]  # an admin write
    store.write_sync(_batch(["w-2"], "s-wake", now=now, name="browse"))
    assert wakes == [1]  # a rule, but nothing it fires on
    store.write_sync(_batch(["w-3"], "s-wake", now=now, name="buy"))
    assert wakes == [1, 1]
    assert [d["status"] for d in store.trigger_deliveries("test", 1, 10)] == ["pending"]
    store.close()


def test_a_group_that_fails_after_its_events_is_undone_and_its_retry_stores_it_whole(
    chdb: Chdb, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events stored without their session rows are deleted before the group's requests are
    answered; when that delete fails too, the next group deletes them first. The request, never
    acknowledged, is sent again and stored with its session row (tests/store/
    test_clickhouse_killed_group.py kills the process at that moment instead)."""
    store = _store(chdb)
    now = int(time.time() * 1000)
    store.write_sync(_batch(["u-1"], "s-undo", now=now))
    conn = store.db.conn
    insert, command = conn.insert, conn.command
    failing = {"sessions": 1, "delete": 1}

    def flaky_insert(table: str, columns: Any, rows: Any) -> None:
        if table.endswith(".sessions") and failing["sessions"]:
            failing["sessions"] -= 1
            raise RuntimeError("the session rows were not written")
        insert(table, columns, rows)

    def flaky_command(sql: str) -> None:
        if " DELETE WHERE seq BETWEEN " in sql and failing["delete"]:
            failing["delete"] -= 1
            raise RuntimeError("the undo failed")
        command(sql)

    monkeypatch.setattr(conn, "insert", flaky_insert)
    monkeypatch.setattr(conn, "command", flaky_command)
    retried = _batch(["u-2", "u-3"], "s-undo", now=now)
    with pytest.raises(RuntimeError, match="the undo failed"):
        apply_group(store.db, [retried])
    assert store.db.unfinished is not None
    ((held,),) = store.db.rows(f"SELECT count() FROM {store.db.t('events')} WHERE session_id = 's-undo'")
    assert held == 3  # stored, and not counted in the session yet
    assert apply_group(store.db, [retried]) == [WriteResult(stored=2, duplicates=0, chunks_stored=0)]
    assert store.db.unfinished is None and failing == {"sessions": 0, "delete": 0}
    count, session = _events_of(store, "s-undo")
    assert count == 3 and session["events"] == 3
    store.close()
