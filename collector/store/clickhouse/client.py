"""The one seam between the ClickHouse store and a ClickHouse: run a statement, read rows, insert rows.

Two clients sit behind it: chdb (ClickHouse in this process, `chdb://DIR`) and clickhouse-connect
(a server over HTTP, `clickhouse://` and `clickhouses://`). Everything above this module speaks
SQL text with values rendered by `lit`, so both clients run the very same statements.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from collector.wire import json_encoder


class _Result(msgspec.Struct):
    """A JSONCompact answer's rows, as tuples: a tuple of plain values leaves the cyclic garbage
    collector's view at its first pass, where a list stays in it, and tens of thousands of rows
    kept in view cost a full collection per question (30-35 ms on paths from a shop's busiest page)."""

    data: list[tuple[Any, ...]] = []


_decode_result = msgspec.json.Decoder(_Result)
_encode = json_encoder
_READS = ("SELECT", "WITH", "EXPLAIN", "SHOW", "DESCRIBE", "EXISTS")


class SessionState:
    """What lives as long as one embedded ClickHouse: how many statements that may change data
    ran on it, in all and on each thread, and what its writer remembers between groups (`memo`).

    The counts let a writer's memory check itself: statements run by anyone else since its last
    group mean that what it remembers may be stale (store/clickhouse/memory.py)."""

    def __init__(self) -> None:
        self.writes = 0
        self._local = threading.local()
        self.memo: dict[object, Any] = {}
        self.recovered: set[str] = set()  # databases whose half-written group was undone (transaction.recover)

    def wrote(self) -> None:
        self.writes += 1
        self._local.writes = self.mine() + 1

    def mine(self) -> int:
        """The writes made on the calling thread."""
        return int(getattr(self._local, "writes", 0))

# Lookups by id send their ids in the statement (`id IN (...)`): a group commit or a copy batch
# of thousands of events passes ClickHouse's default 256 KiB limit on a statement's text.
MAX_QUERY_SIZE = 64 << 20


class Connection(Protocol):
    """What the store needs from a ClickHouse client. `state` is the embedded ClickHouse's
    (one process owns it), None for a server that other processes write too."""

    state: SessionState | None

    def command(self, sql: str) -> None: ...
    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...
    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None: ...
    def close(self) -> None: ...


def lit(value: object) -> str:
    """A Python value as a ClickHouse literal: the only way a value enters a statement."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        # Every byte as \xHH, spelled by bytes.hex in C: a copied 5 MiB image is one such literal,
        # built on the writer thread (a Python loop per byte held group commits for seconds).
        hexed = bytes(value).hex("x")
        return "'\\x" + hexed.replace("x", "\\x") + "'" if hexed else "''"
    if isinstance(value, str):
        # Backslash and quote are the only characters a quoted ClickHouse string treats specially.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(f"no ClickHouse literal for {type(value).__name__}")


def lits(values: Sequence[object]) -> str:
    """A parenthesised list for IN; never empty (an empty list matches nothing)."""
    return "(" + ", ".join(lit(v) for v in values) + ")" if values else "(NULL)"


def many(values: Sequence[str]) -> str:
    """Like `lits`, for long lists of strings: ClickHouse parses a list of a thousand literals
    in a statement ten times slower than the same strings read as data by a table function."""
    if len(values) < 64:
        return lits(values)
    rows = "\n".join(_encode.encode([v]).decode() for v in values)
    return f"(SELECT v FROM format(JSONCompactEachRow, 'v String', {lit(rows)}))"


def _binary(rows: Sequence[Sequence[object]]) -> bool:
    """Whether the rows carry bytes (a column holds one type: the first row tells)."""
    return any(isinstance(v, bytes | bytearray | memoryview) for v in rows[0])


# Named tuples (sessions.views, sessions.scrolls) go in and come out as tuples, as the rows are
# built and read: in chdb's JSON as arrays (msgspec encodes a Python tuple so) rather than objects
# of their names; through clickhouse-connect as tuples rather than dicts.
TUPLES_AS_ARRAYS = {"input_format_json_named_tuples_as_objects": 0, "output_format_json_named_tuples_as_objects": 0}
QUERY_FORMATS = {"Tuple": "tuple"}


def insert_sql(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """One INSERT of the rows. JSON rows (msgspec-encoded) are built and parsed several times
    faster than VALUES literals; bytes have no JSON form and go as VALUES."""
    head = f"INSERT INTO {table} ({', '.join(columns)})"
    if _binary(rows):
        return head + " VALUES " + ",".join("(" + ",".join(lit(v) for v in row) + ")" for row in rows)
    return head + " FORMAT JSONCompactEachRow " + _encode.encode(rows)[1:-1].decode()


@dataclass(frozen=True)
class Target:
    """Where a ClickHouse store lives, parsed from its URL."""

    kind: str  # "chdb" or "server"
    path: str = ""  # chdb: the data directory
    database: str = "trailmark"
    host: str = "localhost"
    port: int = 8123
    username: str = "default"
    password: str = ""
    secure: bool = False
    cluster: str | None = None


def parse_url(url: str) -> Target:
    """chdb:///abs/dir, chdb://rel/dir, clickhouse://user:pass@host:8123/db, clickhouses://... (?cluster=)."""
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if parts.scheme == "chdb":
        # chdb://rel/dir puts "rel" in the netloc; chdb:///abs/dir leaves it empty.
        path = url.removeprefix("chdb://").split("?", 1)[0]
        if not path:
            raise ValueError("a chdb store URL needs a directory: chdb:///abs/dir or chdb://rel/dir")
        return Target("chdb", path=str(Path(path).resolve()), database=query.get("database", "trailmark"))
    if parts.scheme in ("clickhouse", "clickhouses"):
        secure = parts.scheme == "clickhouses"
        return Target(
            "server",
            database=parts.path.strip("/") or query.get("database", "trailmark"),
            host=parts.hostname or "localhost",
            port=parts.port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            secure=secure,
            cluster=query.get("cluster") or None,
        )
    raise ValueError(f"not a ClickHouse store URL: {url!r}")


# ---- chdb ---------------------------------------------------------------------------------

# chdb runs one embedded server per process, on one directory: every store of the process on that
# directory shares it (so two app instances see each other's writes at once), and a store on
# another directory has to wait until the first is closed.
_chdb_lock = threading.Lock()
_chdb: dict[str, Any] = {"path": None, "session": None, "users": 0, "lock": threading.RLock(), "state": None}


def _held_elsewhere(status: Path) -> bool:
    """Whether another process's ClickHouse holds the directory (it keeps `status` flock'ed)."""
    if not status.exists():
        return False
    with open(status, "rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
    return False


class ChdbConnection:
    """ClickHouse in this process. Calls are serialised: chdb's session is not safe to share
    between threads at once, and ClickHouse parallelises each query on its own anyway."""

    def __init__(self, path: str) -> None:
        from chdb import session  # the `clickhouse` extra

        with _chdb_lock:
            if _chdb["session"] is not None and _chdb["path"] != path:
                raise RuntimeError(
                    f"chdb already serves {_chdb['path']} in this process; it holds one directory at a time"
                )
            if _chdb["session"] is None:
                Path(path).mkdir(parents=True, exist_ok=True)
                if _held_elsewhere(Path(path) / "status"):
                    raise RuntimeError(
                        f"the chdb store {path} is open in another process (a running `trailmark serve`?):"
                        " chdb serves a directory to one process; stop it, or use a ClickHouse server"
                    )
                opened: Any = session.Session(path)  # type: ignore[no-untyped-call]
                opened.query("SET output_format_json_quote_64bit_integers = 0")
                opened.query(f"SET max_query_size = {MAX_QUERY_SIZE}")
                for name, value in TUPLES_AS_ARRAYS.items():
                    opened.query(f"SET {name} = {value}")
                _chdb["session"], _chdb["path"], _chdb["state"] = opened, path, SessionState()
            _chdb["users"] += 1
        self._session = _chdb["session"]
        self.state: SessionState | None = _chdb["state"]
        self._lock: threading.RLock = _chdb["lock"]
        self._closed = False

    def command(self, sql: str) -> None:
        with self._lock:
            self._wrote()
            self._session.query(sql)

    def _wrote(self) -> None:
        # Counted before the statement runs: one that fails halfway may have written already.
        assert self.state is not None
        self.state.wrote()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with self._lock:
            if not sql.lstrip()[:8].upper().startswith(_READS):
                self._wrote()
            result = self._session.query(sql, "JSONCompact")
            raw = result.bytes()
        if not raw:
            return []
        return _decode_result.decode(raw).data

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        if not rows:
            return
        sql = insert_sql(table, columns, rows)
        with self._lock:
            self._wrote()
            self._session.query(sql)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with _chdb_lock:
            _chdb["users"] -= 1
            if _chdb["users"] == 0:
                _chdb["session"].close()
                _chdb["session"] = None
                _chdb["path"] = None
                _chdb["state"] = None


# ---- clickhouse-connect -------------------------------------------------------------------

class ServerConnection:
    """A ClickHouse server over HTTP(S) through clickhouse-connect (one client per thread:
    its HTTP session is not meant to run two queries at once)."""

    def __init__(self, target: Target, client: Callable[..., Any] | None = None) -> None:
        """`client` makes a clickhouse-connect client from its connection arguments (its
        `get_client`; the tests give it one on clickhouse-connect's in-process chDB backend)."""
        import clickhouse_connect  # the `clickhouse` extra

        self._target = target
        self._connect = client or clickhouse_connect.get_client
        self._local = threading.local()
        # Other collectors may write the same server: nothing is remembered between groups.
        self.state: SessionState | None = None

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            t = self._target
            client = self._local.client = self._connect(
                host=t.host, port=t.port, username=t.username, password=t.password, secure=t.secure,
                # The acknowledgement waits for the insert: synchronous inserts, no async buffer.
                settings={"async_insert": 0, "max_query_size": MAX_QUERY_SIZE},
            )
        return client

    def command(self, sql: str) -> None:
        self._client().command(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._client().query(sql, query_formats=QUERY_FORMATS).result_rows]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        if rows:
            database, _, name = table.rpartition(".")
            self._client().insert(name, [list(r) for r in rows], column_names=list(columns),
                                  database=database or None)

    def close(self) -> None:
        client = getattr(self._local, "client", None)
        if client is not None:
            client.close()


def connect(target: Target) -> Connection:
    if target.kind == "chdb":
        return ChdbConnection(target.path)
    return ServerConnection(target)
