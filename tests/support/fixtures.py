"""The collector fixtures: `engine`, the session's `chdb` directory, `client` (the app in process)
and `collector_server` (a real uvicorn). tests/conftest.py and e2e/conftest.py register them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from tests.support.collector import (
    Chdb,
    Client,
    Server,
    ThreadedServer,
    free_port,
    make_settings,
    open_engine,
)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def chdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chdb]:
    holder = Chdb(tmp_path_factory.mktemp("chdb") / "data")
    yield holder
    holder.keeper.close()


@pytest.fixture
def client(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Client]:
    db_path = tmp_path / "trailmark.db"
    store = open_engine(engine, tmp_path, request)
    app = create_app(make_settings(db_path), store)
    with TestClient(app, base_url="http://127.0.0.1:8000") as http:
        yield Client(http, db_path, store, engine)


@pytest.fixture
def collector_server(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Server]:
    db_path = tmp_path / "trailmark.db"
    store = open_engine(engine, tmp_path, request)
    port = free_port()
    with ThreadedServer(create_app(make_settings(db_path), store), port):
        yield Server(f"http://127.0.0.1:{port}", port, db_path, store)
