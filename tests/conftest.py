"""Fixtures for every test (tests/support/fixtures.py), and the rule that keeps a test marked
sqlite_only (or clickhouse_pending) in a module of every_store on SQLite alone."""

from __future__ import annotations

import os
import sys

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


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without the interpreter's teardown once chdb was loaded: chdb's global context is
    destroyed by C++ static destructors after Python's, and that sometimes segfaults ("The
    ShutdownTablesThreadPool is not initialized"), turning a run whose every test passed into exit
    139. Every test's outcome is already reported and every store closed by its fixture."""
    if "chdb" in sys.modules and _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
