"""The browser tests use the collector fixtures of tests/conftest.py, on SQLite (their default engine)."""

from tests.conftest import engine  # noqa: F401  (a fixture the collector fixtures ask for)
