"""A ClickHouse store made before the heatmaps' JSON fields were columns: they are added on
start, the events stored before read with the values their JSON holds, and a background
mutation writes them into the old parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.store.clickhouse import ClickHouseStore
from collector.store.clickhouse.schema import MATERIALIZED
from tests.support.collector import open_engine

COLUMNS = [column for _, column, _, _ in MATERIALIZED]


def test_events_stored_before_the_columns_read_their_json(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    db = store.db
    for column in COLUMNS:
        db.conn.command(f"ALTER TABLE {db.t('events')} DROP COLUMN {column}")
    db.conn.insert(db.t("events"), ("site_id", "id", "session_id", "type", "ts", "client_ts", "received_at", "url",
                                    "data", "seq"), [
        ("test", "c1", "s1", "click", 1, 1, 1, "https://shop.example/", '{"x":10,"y":2.5,"rx":0.25,"ry":1,'
         '"vw":390,"dead":true,"rage":false,"tag":"button","text":"Buy"}', 1),
        ("test", "c2", "s1", "click", 2, 2, 2, "https://shop.example/", '{"x":"7","tag":5,"dead":1}', 2),
        ("test", "r1", "s1", "scroll", 3, 3, 3, "https://shop.example/", '{"depth":55.5,"vh":800,"vw":1440}', 3),
        ("test", "v1", "s1", "vital", 4, 4, 4, "https://shop.example/", '{"x":1,"vw":390,"depth":3}', 4),
        ("test", "v2", "s1", "vital", 5, 5, 5, "https://shop.example/", '{"name":"CLS","value":true}', 5),
        ("test", "v3", "s1", "vital", 6, 6, 6, "https://shop.example/", '{"value":1250}', 6),
        ("test", "t1", "s1", "track", 7, 7, 7, None, '{"props":{"plan":"pro"}}', 7),
    ])
    assert not {c for (c,) in db.rows(f"SELECT name FROM system.columns WHERE database = '{db.layout.database}'"
                                        " AND table = 'events'")} & set(COLUMNS)
    ClickHouseStore(store.url).close()  # a newer version starts on the same store
    names = ", ".join(COLUMNS)
    assert db.rows(f"SELECT id, {names} FROM {db.t('events')} ORDER BY seq") == [
        ("c1", 390, 10, 2.5, 0.25, 1, 1, 0, "button", "Buy", None, None, None, ""),
        ("c2", None, 7, None, None, None, 1, 0, "5", None, None, None, None, ""),
        ("r1", 1440, None, None, None, None, 0, 0, None, None, 55.5, 800, None, ""),
        ("v1", None, None, None, None, None, 0, 0, None, None, None, None, None, ""),  # no value
        ("v2", None, None, None, None, None, 0, 0, None, None, None, None, 1, ""),
        ("v3", None, None, None, None, None, 0, 0, None, None, None, None, 1250, ""),
        ("t1", None, None, None, None, None, 0, 0, None, None, None, None, None, '{"props":{"plan":"pro"}}'),
    ]
    # and a mutation per column writes them into the old parts (in the background)
    assert db.rows(f"SELECT count() FROM system.mutations WHERE database = '{db.layout.database}'"
                   " AND table = 'events' AND command LIKE '(MATERIALIZE COLUMN m\\_%'") == [(len(COLUMNS),)]
    store.close()
