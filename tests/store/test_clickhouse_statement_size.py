"""A group of thousands of events is looked up by id in one statement larger than ClickHouse's
default 256 KiB limit on a statement's text: it is stored, and stored once when retried."""

from __future__ import annotations

import time
import uuid

from collector.store.clickhouse import ClickHouseStore
from collector.store.model import Acquisition, EventRow, WriteBatch
from tests.support.collector import KEY, Chdb

EVENTS = 8_000  # ids of 36 characters: about 330 KB of `id IN (...)`


def test_a_large_group_is_stored_once(chdb: Chdb) -> None:
    store = ClickHouseStore(chdb.url())
    store.add_site("test", "Test site", key=KEY)
    now = int(time.time() * 1000)
    events = [EventRow(
        id=str(uuid.UUID(int=n)), type="pageview", ts=now + n, client_ts=now + n, anon_id="a-large",
        user_id=None, session_id="s-large", url="https://shop.example/", path="/", route=None, name=None,
        data=b"{}", acquisition=Acquisition(),
    ) for n in range(EVENTS)]
    try:
        for _ in range(2):  # the second time every id is found and nothing is stored
            store.write_sync(WriteBatch(site_id="test", received_at=now, events=events))
        assert store.db.rows(f"SELECT count(), uniqExact(id) FROM {store.db.t('events')}") == [(EVENTS, EVENTS)]
        assert store.session("s-large", None)["pageviews"] == EVENTS  # type: ignore[index]
    finally:
        store.close()
