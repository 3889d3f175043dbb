"""The ids a ClickHouse store keeps of its events for finding retried batches
(collector/store/clickhouse/event_ids.py): a retry is stored once, also after the store is opened
again or was made before the ids were kept; what an erasure or a purge took is stored again by a
retry, as on SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector.store.clickhouse import ClickHouseStore, event_ids
from collector.store.clickhouse.transaction import apply_group
from collector.store.model import Acquisition, EventRow, WriteBatch
from tests.support.analytics_journeys import MIN, D, event, send
from tests.support.collector import Client, every_store, open_engine


@every_store
def test_a_retry_after_an_erasure_or_a_purge_stores_again_what_they_took(client: Client) -> None:
    old = event("pageview", D + MIN, "s-old", "o", "/")
    erased = event("pageview", D + 10 * MIN, "s-x", "x", "/")
    kept = [event("pageview", D + 10 * MIN, "s-y", "y", "/"), event("click", D + 11 * MIN, "s-y", "y", "/")]
    batch = [old, erased, *kept]
    send(client, batch)
    client.store.purge(D + 5 * MIN)
    client.store.erase_person("test", "x")
    assert client.store.session("s-old", "test") is None and client.store.session("s-x", "test") is None
    send(client, batch)  # the same batch, retried: answered as accepted either way

    def ids(session_id: str) -> list[str]:
        found = client.store.session(session_id, "test")
        assert found is not None
        return [e["id"] for e in found["events"]]

    assert [ids("s-old"), ids("s-x"), ids("s-y")] == [[old["id"]], [erased["id"]], [e["id"] for e in kept]]


def _batch(*ids: str) -> WriteBatch:
    t = D + MIN
    return WriteBatch(site_id="test", received_at=t + len(ids), events=[
        EventRow(id=i, type="pageview", ts=t + n, client_ts=t + n, anon_id="a1", user_id=None, session_id="s1",
                 url="https://shop.example/p", path="/p", route=None, name=None, acquisition=Acquisition())
        for n, i in enumerate(ids)
    ])


def _stored(store: ClickHouseStore) -> list[Any]:
    return [i for (i,) in store.db.rows(f"SELECT id FROM {store.db.t('events')} ORDER BY id")]


def test_a_store_made_before_the_ids_were_kept_fills_them_on_opening(
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    apply_group(store.db, [_batch("e1", "e2")])
    assert event_ids.found(store.conn, store.layout, "test", ["e1", "e2", "e3"]) == {"e1", "e2"}
    # As a store of the version before: no table, no mark that it was filled.
    store.conn.command(f"DROP TABLE {store.db.t(event_ids.TABLE)}")
    store.conn.command(f"ALTER TABLE {store.db.t('meta')} DELETE WHERE key = '{event_ids.KEPT}'"
                       " SETTINGS mutations_sync = 2")
    store.close()
    reopened = ClickHouseStore(store.url)
    assert event_ids.found(reopened.conn, reopened.layout, "test", ["e1", "e2", "e3"]) == {"e1", "e2"}
    (result,) = apply_group(reopened.db, [_batch("e1", "e2", "e3")])
    assert (result.stored, result.duplicates) == (1, 2)
    assert _stored(reopened) == ["e1", "e2", "e3"]
    reopened.close()


def test_the_keys_of_two_sites_never_meet(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # site "a\nb" event "c" and site "a" event "b\nc" would share a key joined by a separator
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    event_ids.add(store.conn, store.layout, [("a\nb", "c"), ("a", "x")])
    assert event_ids.found(store.conn, store.layout, "a", ["b\nc", "x"]) == {"x"}
    assert event_ids.found(store.conn, store.layout, "a\nb", ["c", "x"]) == {"c"}
    store.close()
