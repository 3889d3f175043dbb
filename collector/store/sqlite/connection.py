"""SQLite connections with the pragmas every Trailmark connection needs, and the one transaction helper."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# How long a statement waits for another process's lock before it fails as "locked". A request
# waits BUSY_TIMEOUT at most, then answers 503 (a group commit holds the lock for milliseconds);
# the command-line tools, which should outwait a serving collector, use TOOL_BUSY_TIMEOUT.
BUSY_TIMEOUT = 1.0
TOOL_BUSY_TIMEOUT = 30.0


def connect(
    path: str | Path, *, readonly: bool = False, synchronous: str = "FULL",
    busy_timeout: float = BUSY_TIMEOUT,
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, with a busy timeout."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout)
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: an acknowledged event survives power loss, not just a killed process.
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (the write lock up front, so no upgrade deadlock), COMMIT or ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def rollback(conn: sqlite3.Connection) -> None:
    """ROLLBACK if a transaction is still open: after a full disk or an I/O error SQLite has
    already rolled back, and a second ROLLBACK would raise and hide the error that matters."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@contextmanager
def secure_delete(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Deleted rows overwritten with zeros while inside: erasure and retention are promises about the file."""
    conn.execute("PRAGMA secure_delete = ON")
    try:
        yield conn
    finally:
        conn.execute("PRAGMA secure_delete = OFF")


# A statement's parameters: by position or by name.
Params = Sequence[object] | Mapping[str, object]


def tuples(conn: sqlite3.Connection, sql: str, args: Params) -> list[tuple[Any, ...]]:
    """Every row of a statement as a plain tuple, whatever the connection's row factory: a
    `sqlite3.Row` costs a second object per row, which at a few hundred thousand rows costs
    more than reading them."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, args).fetchall()


def halved(conn: sqlite3.Connection, sql: str, args: list[object], start: int, end: int) -> list[tuple[Any, ...]]:
    """The row of aggregates that `sql` gives for the times [start, end) (its last two
    parameters), as the rows of parts that each fit in one SQLite string: past SQLITE_MAX_LENGTH
    (a billion bytes unless built otherwise: some 25 million ids) the range is halved."""
    try:
        return [conn.execute(sql, [*args, start, end]).fetchone()]
    except sqlite3.DataError as exc:  # string or blob too big
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_TOOBIG" or end - start < 2:
            raise
    middle = start + (end - start) // 2
    return halved(conn, sql, args, start, middle) + halved(conn, sql, args, middle, end)
