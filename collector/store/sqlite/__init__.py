"""The embedded SQLite engine (the default store)."""

from collector.store.sqlite.connection import connect
from collector.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore", "connect"]
