"""Storage: the narrow interface that ingest and queries use, and the SQLite engine behind it."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import AbstractContextManager
from typing import Protocol

from collector.store.faults import StoreFault, StoreUnusable, fault_of
from collector.store.rows import WriteBatch, WriteResult
from collector.store.sqlite import Site, SQLiteStore
from collector.store.writer import Overloaded, WriterStopped


class Store(Protocol):
    """What a storage engine offers: durable batch writes, read connections, sites."""

    def start(self) -> None: ...
    def close(self) -> None: ...
    def write(self, batch: WriteBatch) -> asyncio.Future[WriteResult]: ...
    def read(self) -> AbstractContextManager[sqlite3.Connection]: ...
    def site_for_key(self, key: str) -> Site | None: ...
    def sites(self) -> list[Site]: ...


__all__ = [
    "Overloaded", "Site", "SQLiteStore", "Store", "StoreFault", "StoreUnusable", "WriteBatch",
    "WriteResult", "WriterStopped", "fault_of",
]
