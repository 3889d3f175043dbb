"""A ClickHouse store made before events had a touchpoint: the column is added on start, and the
events stored before read as web with a page URL, else server (the SQLite migration's rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.store.clickhouse import ClickHouseStore
from tests.support.collector import open_engine


def test_events_stored_before_touchpoints_read_as_web_or_server(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    db = store.db
    db.conn.command(f"ALTER TABLE {db.t('events')} DROP COLUMN touchpoint")
    db.conn.insert(db.t("events"), ("site_id", "id", "session_id", "type", "ts", "client_ts", "received_at", "url",
                                    "data", "seq"), [
        ("test", "page", "s1", "pageview", 1, 1, 1, "https://shop.example/", "{}", 1),
        ("test", "call", "s1", "track", 2, 2, 2, None, "{}", 2),
    ])
    ClickHouseStore(store.url).close()  # a newer version starts on the same store
    assert db.rows(f"SELECT id, touchpoint FROM {db.t('events')} ORDER BY seq") == [("page", "web"), ("call", "server")]
    store.close()
