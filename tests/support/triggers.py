"""A collector with journey triggers on a real uvicorn (on the test's engine), and the helpers the
trigger tests share: rules through the API, events through /v1/batch, rows read past the API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.store import SQLiteStore, Store
from collector.triggers.service import Policy
from tests.support.collector import KEY, ThreadedServer, free_port, make_settings, open_engine, read_rows

SHOP = "https://shop.example"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
          " Chrome/124.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FAST = Policy(allow_private=True, backoff_base_s=0.05, backoff_cap_s=2.0, max_attempts=10, disable_after=20)


@dataclass
class Hooked:
    url: str
    store: Store
    admin: dict[str, str]

    def rule(self, **body: Any) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}/api/triggers", json={"site": "test", **body}, headers=self.admin)
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def send(self, *events: dict[str, Any], ua: str = CHROME) -> None:
        answer = httpx.post(f"{self.url}/v1/batch", json={"key": KEY, "events": list(events)},
                            headers={"User-Agent": ua})
        assert answer.json() == {"accepted": len(events), "rejected": []}, answer.text

    def log(self, rule_id: int) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/triggers/{rule_id}/deliveries?site=test&limit=1000", headers=self.admin)
        assert answer.status_code == 200, answer.text
        return answer.json()["deliveries"]  # type: ignore[no-any-return]

    def get(self, rule_id: int) -> dict[str, Any]:
        return httpx.get(f"{self.url}/api/triggers/{rule_id}?site=test", headers=self.admin).json()  # type: ignore[no-any-return]


@contextmanager
def serve(tmp_path: Path, policy: Policy, store: Store) -> Iterator[Hooked]:
    port = free_port()
    settings = make_settings(tmp_path / "trailmark.db", webhooks=policy, public_url="https://tm.example")
    with ThreadedServer(create_app(settings, store), port):
        yield Hooked(f"http://127.0.0.1:{port}", store, {"Authorization": f"Bearer {settings.admin_token}"})


def reopened(store: Store) -> Store:
    """The same store opened again, as a restarted collector opens it."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path)
    from collector.store.clickhouse import ClickHouseStore

    return ClickHouseStore(store.url)  # type: ignore[attr-defined]


def stored(store: Store, table: str, column: str) -> list[Any]:
    """One column of a trigger table's current rows, read past the API."""
    if isinstance(store, SQLiteStore):
        return [r[column] for r in read_rows(Path(store.path), f"SELECT {column} FROM {table}")]
    db = store.db  # type: ignore[attr-defined]
    return [r[0] for r in db.rows(f"SELECT {column} FROM {db.t(table)} FINAL")]


@pytest.fixture
def hooked(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> Iterator[Hooked]:
    with serve(tmp_path, FAST, open_engine(engine, tmp_path, request)) as served:
        yield served


def ev(
    type_: str, session: str, anon: str, path: str | None = None, ago_ms: int = 1000, **fields: Any
) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "type": type_, "ts": int(time.time() * 1000) - ago_ms,
            "session_id": session, "anon_id": anon, **fields}
    if path is not None:
        body["url"] = SHOP + path
    return body


def nps(session: str, anon: str, score: int) -> dict[str, Any]:
    return ev("survey", session, anon, "/thanks", kind="nps", score=score)


def cart_add(session: str, anon: str, sku: str = "A") -> dict[str, Any]:
    return ev("cart", session, anon, "/product/1", action="add",
              item={"sku": sku, "name": "Mug", "price": 10.0, "qty": 1, "currency": "EUR"})


def purchase(session: str, anon: str, order: str) -> dict[str, Any]:
    return ev("purchase", session, anon, "/checkout", order_id=order, value=10.0, currency="EUR")
