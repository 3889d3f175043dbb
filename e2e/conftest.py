"""The browser tests use the collector fixtures of tests/support/fixtures.py, on SQLite (their default engine)."""

from tests.support.fixtures import chdb, client, collector_server, engine  # noqa: F401  (fixtures)
