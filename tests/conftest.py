"""Shared fixtures: a real SQLite file, the app in process, and a real uvicorn on loopback."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from collector.app import create_app
from collector.config import Settings
from collector.store import SQLiteStore

KEY = "wk_test"
SECRET = "sk_test_secret_server_key"  # the test site's secret server key (its backend's)
ADMIN_TOKEN = "test-admin-token-0123456789"
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
    key: str = KEY
    admin_token: str = ADMIN_TOKEN


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    db_path = tmp_path / "trailmark.db"
    app = create_app(make_settings(db_path), make_store(db_path))
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        yield Client(http, db_path)


@dataclass
class Server(Reads):
    """A real uvicorn serving the collector on 127.0.0.1, stopped by the fixture."""

    url: str
    port: int
    db_path: Path
    store: SQLiteStore
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


@pytest.fixture
def collector_server(tmp_path: Path) -> Iterator[Server]:
    db_path = tmp_path / "trailmark.db"
    store = make_store(db_path)
    port = free_port()
    with ThreadedServer(create_app(make_settings(db_path), store), port):
        yield Server(f"http://127.0.0.1:{port}", port, db_path, store)
