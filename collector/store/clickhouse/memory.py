"""What the writer of an embedded store remembers between groups: the session rows and identity
links it wrote or read, and which sites have no trigger rule. A group then reads back (FINAL)
only what it does not hold, instead of every row it touches.

Why this is exact, and only for chdb: an embedded ClickHouse is served to one process (its
directory is flock'ed), and in that process every statement goes through one ChdbConnection,
which counts the statements that may change data, in all and per thread (client.SessionState).
A group starts by comparing the count with the one it ended with last time: any statement run
since (an admin write between groups, erasure, purge, a store copy, another app instance's
writer in the same process) and the memory is dropped whole. A group during which another
thread wrote drops it too. What remains was written by the groups themselves, so it is what the
tables hold. A server store (clickhouse://) is written by several collectors: its state is
None and nothing is remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from collector.store.clickhouse.client import Connection

K = TypeVar("K")
V = TypeVar("V")

# Rows kept per kind. A session row is about 1 KiB, and about 100 bytes more per pageview or scroll
# report it keeps (views.py): rows of at most MAX_VIEWS of those are remembered (at most ~1 GiB
# however busy the site, about 200 MiB for sessions of ten); a longer session's row is read back.
MAX_ENTRIES = 100_000
MAX_VIEWS = 100


class _Recent(Generic[K, V]):
    """A bounded map that forgets the least recently used entry first."""

    def __init__(self, limit: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._limit = limit

    def get(self, key: K, default: Any = None) -> Any:
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


_MISSING = object()


class Memory:
    """Session rows by (site, id), identity links by (site, anon id) (None: no link stored),
    and whether each site has an enabled trigger rule."""

    def __init__(self, limit: int = MAX_ENTRIES) -> None:
        self.sessions: _Recent[tuple[str, str], dict[str, Any]] = _Recent(limit)
        self.links: _Recent[tuple[str, str], Any] = _Recent(limit)
        self.rules: dict[str, bool] = {}
        # Held through a whole group: two app instances of one process (two writers, one
        # ClickHouse) apply their groups one after the other, as one writer would.
        self.lock = threading.Lock()
        self._seen = -1  # the connection's write count when the last group ended
        self._mine = 0

    @staticmethod
    def of(conn: Connection, database: str) -> Memory | None:
        """The memory of the writers of this database (None on a server store)."""
        state = conn.state
        if state is None:
            return None
        memory = state.memo.get(("writer", database))
        if memory is None:
            memory = state.memo[("writer", database)] = Memory()
        assert isinstance(memory, Memory)
        return memory

    def clear(self) -> None:
        self.sessions.clear()
        self.links.clear()
        self.rules.clear()

    def begin(self, conn: Connection) -> None:
        """Before a group: forget everything if anything was written since the last group ended."""
        assert conn.state is not None
        if conn.state.writes != self._seen:
            self.clear()
        self._seen, self._mine = conn.state.writes, conn.state.mine()

    def end(self, conn: Connection) -> None:
        """After a group that wrote all its rows: forget everything if another thread wrote meanwhile."""
        assert conn.state is not None
        if conn.state.writes - self._seen != conn.state.mine() - self._mine:
            self.clear()
        self._seen = conn.state.writes

    def abort(self) -> None:
        """After a group that failed: some of its rows may be written, the memory is unsure."""
        self.clear()
        self._seen = -1

    def session_rows(self, site_id: str, ids: Iterable[str]) -> tuple[dict[tuple[str, str], dict[str, Any]], list[str]]:
        """The remembered rows of these sessions (copies: callers change them), and the ids not remembered."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        missing = []
        for session_id in ids:
            row = self.sessions.get((site_id, session_id), _MISSING)
            if row is _MISSING:
                missing.append(session_id)
            else:
                found[(site_id, session_id)] = dict(row)
        return found, missing

    def remember_sessions(self, rows: dict[tuple[str, str], dict[str, Any]]) -> None:
        for key, row in rows.items():
            if len(row["views"]) + len(row["scrolls"]) <= MAX_VIEWS:
                self.sessions.put(key, dict(row))
            else:
                self.sessions.discard(key)
