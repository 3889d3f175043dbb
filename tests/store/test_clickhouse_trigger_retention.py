"""Retention on ClickHouse takes the trigger rows older than the cutoff (every version of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.store.clickhouse import ClickHouseStore
from tests.support.collector import open_engine


def test_purge_removes_old_trigger_rows(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = open_engine("chdb", tmp_path, request)
    assert isinstance(store, ClickHouseStore)
    db = store.db
    for age, suffix in ((1_000, "old"), (9_000, "new")):
        db.conn.insert(db.t("trigger_deliveries"), ("id", "rule_id", "site_id", "visitor_id", "fired_at", "events",
                                                    "status", "attempts", "version"),
                       [(f"d-{suffix}", 1, "test", f"v-{suffix}", age, "[]", "delivered", 1, v) for v in (1, 2)])
        db.conn.insert(db.t("trigger_checks"), ("id", "rule_id", "site_id", "visitor_id", "session_id", "start",
                                                "start_ts", "due_at", "version", "deleted"),
                       [(f"c-{suffix}", 1, "test", f"v-{suffix}", "s", "{}", age, age + 10, 1, 0)])
        db.conn.insert(db.t("trigger_fired"), ("rule_id", "visitor_id", "at"), [(1, f"v-{suffix}", age)])
    assert store.count_older(5_000) == 3
    counts = store.purge(5_000)
    assert (counts["trigger_deliveries"], counts["trigger_checks"], counts["trigger_fired"]) == (1, 1, 1)
    for table in ("trigger_deliveries", "trigger_checks", "trigger_fired"):  # no version of an old row is left
        assert db.rows(f"SELECT DISTINCT visitor_id FROM {db.t(table)}") == [("v-new",)], table
    store.close()
