"""SQLite's errors read as store faults, and the start-up check of a database's files."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from collector.store.model import StoreFault, StoreUnusable
from collector.store.sqlite.connection import transaction

# SQLite's primary result codes (the low byte of an extended code), from sqlite3.h.
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = (
    3, 5, 6, 8, 10, 11, 13, 14, 26,
)

_BY_CODE = {
    _BUSY: "locked", _LOCKED: "locked", _FULL: "disk_full", _READONLY: "read_only",
    _PERM: "read_only", _CANTOPEN: "read_only", _IOERR: "io_error", _CORRUPT: "corrupt",
    _NOTADB: "corrupt",
}


def fault_of(exc: BaseException, path: str | Path | None = None) -> StoreFault | None:
    """The fault an exception stands for; None for an error of the statement itself (a bug).

    Given the database's path, an I/O error is told apart from a file made read-only under a
    running collector: SQLite reports a refused write to the -wal as a plain I/O error.
    """
    if isinstance(exc, StoreFault):
        return exc
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None:
        return None
    kind = _BY_CODE.get(code & 0xFF)
    if kind == "io_error" and path is not None and (blocked := unwritable(path)):
        return StoreFault("read_only", f"{blocked} cannot be written ({exc})")
    return StoreFault(kind, str(exc)) if kind else None


def unwritable(path: str | Path) -> str | None:
    """The first of the database's directory, file, -wal and -shm that cannot be written, if any.

    access(2) answers for root too: it refuses writes to immutable files and read-only mounts.
    """
    path = Path(path)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return str(path.parent)
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        if not os.access(path.parent / name, os.W_OK) and (path.parent / name).exists():
            return str(path.parent / name)
    return None


def free_bytes(folder: str | Path) -> int:
    """Bytes this process may still write on the file system that holds `folder`."""
    stats = os.statvfs(folder)
    # root may also fill the blocks the file system reserves for it
    blocks = stats.f_bfree if os.geteuid() == 0 else stats.f_bavail
    return blocks * stats.f_frsize


def check_files(path: str | Path, min_free: int) -> None:
    """Refuse to start on a database whose directory, file, -wal or -shm cannot be written.

    SQLite falls back to read-only when it cannot open these for writing, so the collector would
    start and answer every write with an error; and a -shm file that turns read-only while it is
    mapped ends the process with SIGBUS. Root ignores file modes, so each is opened for real.
    """
    path = Path(path)
    folder = path.parent
    try:
        # The -wal and -shm files are created and deleted next to the database.
        with tempfile.TemporaryFile(dir=folder, prefix=".trailmark-check-"):
            pass
    except OSError as exc:
        raise StoreUnusable(
            f"cannot write in the database's directory {folder}: {exc.strerror}. Trailmark keeps"
            f" {path.name}-wal and {path.name}-shm beside the database and must create them."
        ) from None
    free = free_bytes(folder)
    if free < min_free:
        raise StoreUnusable(
            f"the disk holding {folder} is full: {free} bytes free, the collector needs at least"
            f" {min_free} to take a batch."
        )
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        try:
            fd = os.open(folder / name, os.O_RDWR)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StoreUnusable(
                f"cannot open {folder / name} for writing: {exc.strerror}. The database, its"
                " -wal and its -shm file must all be writable by the collector."
            ) from None
        os.close(fd)


def check_write(conn: sqlite3.Connection, path: str | Path) -> None:
    """Commit one small write, as ingest will: proves the lock, the space and the files."""
    try:
        with transaction(conn):
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('write_check', strftime('%s', 'now'))"
            )
    except sqlite3.Error as exc:
        fault = fault_of(exc)
        what = fault.message.removesuffix(", retry later") if fault else "the write failed"
        raise StoreUnusable(f"cannot write to {path}: {what} ({exc}).") from None
