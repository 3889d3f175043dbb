"""The collector under test: a real store (a SQLite file, or ClickHouse through chdb), the app in
process, a real uvicorn on loopback, and what tests read back.

`client` and `collector_server` (tests/support/fixtures.py) run on SQLite unless a module
parametrizes `engine` (`pytestmark = every_store`): then each of its tests runs once per engine
with the same expected answers.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from collector.config import Settings
from collector.store import SQLiteStore, Store

KEY = "wk_test"
SECRET = "sk_test_secret_server_key"  # the test site's secret server key (its backend's)
ADMIN_TOKEN = "test-admin-token-0123456789"  # serve wants at least 20 characters
ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "https://shop.example")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_rows(db_path: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows from the SQLite file through a fresh connection: what a restart would see."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def make_settings(db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"db": db_path, "admin_token": ADMIN_TOKEN, "rate_limit": 0.0}
    values.update(overrides)
    return Settings(**values)


def make_store(db_path: Path, **options: Any) -> SQLiteStore:
    store = SQLiteStore(db_path, **options)
    store.add_site("test", "Test site", origins=ORIGINS, key=KEY)
    store.new_secret("test", SECRET)
    return store


# ---- engines ------------------------------------------------------------------------------

ENGINES = ("sqlite", "chdb")
# A module's tests, each run on every engine: `pytestmark = every_store`.
every_store = pytest.mark.parametrize("engine", ENGINES, indirect=True)
# The analyst API's modules run a third time through the server adapter (clickhouse-connect, what
# clickhouse:// stores use), its client on clickhouse-connect's in-process chDB backend over the
# engine "chdb" uses: no ClickHouse server can run here (docs/deployment.md).
every_adapter = pytest.mark.parametrize("engine", (*ENGINES, "server"), indirect=True)


class Chdb:
    """The one chdb directory of the test run (chdb serves one directory per process), held open,
    with a fresh database per store."""

    def __init__(self, path: Path) -> None:
        from collector.store.clickhouse.client import ChdbConnection

        self.path = path
        self.keeper = ChdbConnection(str(path))
        self.count = 0

    def url(self) -> str:
        self.count += 1
        database = f"t{self.count}"
        self.keeper.command(f"DROP DATABASE IF EXISTS {database}")
        return f"chdb://{self.path}?database={database}"

    def server_store(self, url: str, **options: Any) -> Store:
        """The store at `url` through the server adapter: its clickhouse-connect client runs
        clickhouse-connect's chDB backend on this engine, with the settings a server would get."""
        import clickhouse_connect

        from collector.store.clickhouse import ClickHouseStore
        from collector.store.clickhouse.client import ServerConnection, parse_url

        database = url.rsplit("=", 1)[1]
        server = f"clickhouse://default:@127.0.0.1:8123/{database}"
        conn = ServerConnection(parse_url(server), lambda **kw: clickhouse_connect.get_client(
            interface="chdb", path=str(self.path), settings=kw["settings"]))
        return ClickHouseStore(server, conn=conn, **options)

    def drop(self, url: str) -> None:
        self.keeper.command(f"DROP DATABASE IF EXISTS {url.rsplit('=', 1)[1]} SYNC")


def open_engine(engine: str, tmp_path: Path, request: pytest.FixtureRequest, **options: Any) -> Store:
    """A store of the engine with the test site, dropped (chdb) when the test ends."""
    if engine == "sqlite":
        return make_store(tmp_path / "trailmark.db", **options)
    from collector.store.clickhouse import ClickHouseStore

    holder: Chdb = request.getfixturevalue("chdb")
    url = holder.url()
    store = ClickHouseStore(url, **options) if engine == "chdb" else holder.server_store(url, **options)
    request.addfinalizer(lambda: holder.drop(url))
    store.add_site("test", "Test site", origins=ORIGINS, key=KEY)
    store.new_secret("test", SECRET)
    return store


def stamp_session(store: Store, session_id: str, **columns: Any) -> None:
    """Set columns of a stored session as enrichment would have (tests that must not depend on
    which user agents, GeoIP database or referrer rules the enrichment layer knows)."""
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        try:
            with conn:
                sets = ", ".join(f"{name} = ?" for name in columns)
                cursor = conn.execute(f"UPDATE sessions SET {sets} WHERE id = ?", [*columns.values(), session_id])
                assert cursor.rowcount == 1
        finally:
            conn.close()
        return
    from collector.store.clickhouse.client import lit
    from collector.store.clickhouse.transaction import ROW_NAMES, VERSIONS

    db = store.db  # type: ignore[attr-defined]
    rows = db.rows(f"SELECT {', '.join(ROW_NAMES)} FROM {db.t('sessions')} FINAL WHERE id = {lit(session_id)}")
    assert len(rows) == 1
    row = {**dict(zip(ROW_NAMES, rows[0], strict=True)), **columns}
    db.conn.insert(db.t("sessions"), (*ROW_NAMES, "version"), [(*row.values(), VERSIONS.next())])


def stored_rows(store: Store, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """A table's rows as every answer sees them, sorted: what a test checks was kept, on either
    engine (ClickHouse reads a table of replaced rows FINAL; `data` columns are read as bytes)."""
    if isinstance(store, SQLiteStore):
        conn = sqlite3.connect(store.path)
        try:
            return sorted(tuple(row) for row in conn.execute(f"SELECT {', '.join(columns)} FROM {table}"))
        finally:
            conn.close()
    db = store.db  # type: ignore[attr-defined]
    names = [f"hex({c})" if c == "data" else c for c in columns]
    rows = db.rows(f"SELECT {', '.join(names)} FROM {db.t(table)} FINAL")
    return sorted(tuple(bytes.fromhex(v) if c == "data" else v for c, v in zip(columns, row, strict=True))
                  for row in rows)


class Reads:
    """What every fixture shares: read the SQLite file, and the admin header."""

    db_path: Path
    admin_token: str

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return read_rows(self.db_path, sql, *params)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@dataclass
class Client(Reads):
    """The app in process over real HTTP semantics (starlette's TestClient runs the lifespan)."""

    http: TestClient
    db_path: Path
    store: Store
    engine: str = "sqlite"
    key: str = KEY
    admin_token: str = ADMIN_TOKEN


@dataclass
class Server(Reads):
    """A real uvicorn serving the collector on 127.0.0.1, stopped by the fixture."""

    url: str
    port: int
    db_path: Path
    store: Store
    key: str = KEY
    admin_token: str = ADMIN_TOKEN


class ThreadedServer:
    """uvicorn in a daemon thread (httpx's serve_in_thread pattern)."""

    def __init__(self, app: Any, port: int) -> None:
        # proxy_headers off, as `trailmark serve` runs it: X-Forwarded-For is ours to judge.
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                access_log=False, lifespan="on", proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join()


