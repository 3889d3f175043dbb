"""Fixtures for every test (tests/support/fixtures.py), and the rule that keeps a test marked
sqlite_only (or clickhouse_pending) in a module of every_store on SQLite alone."""

from __future__ import annotations

import pytest

from tests.support.fixtures import chdb, client, collector_server, engine  # noqa: F401  (fixtures)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked sqlite_only (or clickhouse_pending) in a module of every_store runs on SQLite alone."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        engine_name = params.params.get("engine") if params is not None else None
        sqlite_alone = item.get_closest_marker("sqlite_only") or item.get_closest_marker("clickhouse_pending")
        (drop if engine_name not in (None, "sqlite") and sqlite_alone else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
