"""The store: one engine-neutral door to everything Trailmark keeps; one package per engine behind it.

Ingest hands it batches (acknowledged once durable), the API asks it questions by name and gets
plain values back, and every admin write (sites, segments, salts, erasure, retention) goes
through it, so no module outside an engine's package knows how or where data is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from collector.query.heatmap import Scope as HeatmapScope
from collector.query.scope import Scope
from collector.store.model import (
    Overloaded,
    Site,
    StoreFault,
    StoreUnusable,
    WriteBatch,
    WriteResult,
    WriterStopped,
)
from collector.store.sqlite import SQLiteStore
from collector.store.sqlite.connection import BUSY_TIMEOUT, TOOL_BUSY_TIMEOUT


class Store(Protocol):
    """What every storage engine offers."""

    engine: str

    # lifecycle and writes
    def start(self) -> None: ...
    def close(self) -> None: ...
    def write(self, batch: WriteBatch) -> asyncio.Future[WriteResult]: ...
    def write_sync(self, batch: WriteBatch) -> WriteResult: ...
    async def health(self) -> StoreFault | None: ...

    # settings, salts, sites
    def meta(self, key: str, default: str) -> str: ...
    def salt(self, day: str) -> bytes: ...
    def site_for_key(self, key: str) -> Site | None: ...
    def sites(self) -> list[Site]: ...
    def add_site(
        self, site_id: str, name: str, *, origins: tuple[str, ...] = (), key: str | None = None,
        settings: dict[str, object] | None = None,
    ) -> Site: ...
    def update_site_settings(self, site_id: str, changes: dict[str, object]) -> Site | None: ...
    def has_secret(self, site_id: str) -> bool: ...
    def new_secret(self, site_id: str, secret: str | None = None) -> str | None: ...
    def revoke_login(self, login_id: str, expires_at: int) -> None: ...
    def login_revoked(self, login_id: str) -> bool: ...

    # the analyst's questions
    def overview(self, scope: Scope) -> dict[str, Any]: ...
    def sessions_page(
        self, scope: Scope, *, limit: int, cursor: str | None, sort: str = "time", descending: bool = True,
    ) -> dict[str, Any]: ...
    def session(self, session_id: str, site_id: str | None) -> dict[str, Any] | None: ...
    def funnel(self, scope: Scope, steps: list[Any], window_s: int) -> dict[str, Any]: ...
    def top_page(self, scope: Scope) -> str | None: ...
    def paths(self, scope: Scope, from_url: str, depth: int) -> dict[str, Any]: ...
    def retention(self, scope: Scope, weeks: int) -> dict[str, Any]: ...
    def commerce(self, scope: Scope) -> dict[str, Any]: ...
    def surveys(self, scope: Scope, survey_id: str | None) -> dict[str, Any]: ...
    def people(
        self, scope: Scope, *, sort: str, descending: bool, limit: int, offset: int,
    ) -> dict[str, Any]: ...
    def person(self, site_id: str, person_id: str) -> dict[str, Any] | None: ...
    def rejected(
        self, *, site_id: str | None = None, start: int = 0, end: int = 1 << 62, limit: int = 100
    ) -> list[dict[str, Any]]: ...
    def has_events(self, site_id: str) -> bool: ...
    def heatmap_clicks(self, scope: HeatmapScope) -> dict[str, Any]: ...
    def heatmap_scroll(self, scope: HeatmapScope) -> dict[str, Any]: ...
    def heatmap_pages(self, site_id: str, start: int, end: int) -> list[dict[str, Any]]: ...
    def heatmap_snapshot(self, scope: HeatmapScope) -> dict[str, Any] | None: ...
    def heatmap_click_moment(self, scope: HeatmapScope, sel: str) -> dict[str, Any] | None: ...

    # replays
    def replay_site(self, session_id: str, site_id: str | None) -> str | None: ...
    def has_replay(self, site_id: str, session_id: str) -> bool: ...
    def replay_chunks(self, site_id: str, session_id: str) -> Iterator[bytes]: ...
    def replay_bytes(self, site_id: str, session_id: str) -> int: ...
    def chunk_held(self, site_id: str, session_id: str, seq: int) -> bool: ...
    def replay_bytes_received(self, site_id: str, start: int, end: int) -> int: ...
    def replay_extent(self, site_id: str, session_id: str) -> dict[str, int | None]: ...
    def replay_chunks_from(
        self, site_id: str, session_id: str, from_seq: int, limit: int
    ) -> Iterator[tuple[int, bytes]]: ...

    # segments
    def segments(self, site_id: str) -> list[dict[str, Any]]: ...
    def segment_filters(self, site_id: str, segment_id: int) -> dict[str, str] | None: ...
    def create_segment(self, site_id: str, name: str, filters: dict[str, str]) -> dict[str, Any]: ...
    def delete_segment(self, site_id: str, segment_id: int) -> bool: ...

    # data rights, retention, backup
    def export_person(self, site_id: str, person_id: str) -> dict[str, Any]: ...
    def erase_person(self, site_id: str, person_id: str) -> dict[str, int]: ...
    def count_older(self, cutoff_ms: int) -> int: ...
    def purge(self, cutoff_ms: int, progress: Callable[[int], object] | None = None) -> dict[str, int]: ...
    def backup(self, target: Path) -> int: ...


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite store URL (`sqlite:///abs/path.db`, `sqlite://rel/path.db` or a plain
    path); None for another engine's URL."""
    if url.startswith("sqlite://"):
        return url.removeprefix("sqlite://")
    return None if "://" in url else url


def open_store(
    url: str, *, max_pending: int = 100_000, synchronous: str = "FULL", serving: bool = False,
    tool: bool = False,
) -> Store:
    """The store a URL names (docs/deployment.md lists them).

    `serving`: first check that it can be written (StoreUnusable says why not, in a sentence).
    `tool`: a command-line tool, which waits out a serving collector's locks instead of refusing.
    """
    path = sqlite_path(url)
    if path is None:
        scheme = url.split("://", 1)[0]
        if scheme in CLICKHOUSE_SCHEMES:
            return _open_clickhouse(url, max_pending=max_pending, serving=serving)
        raise ValueError(
            f"unknown store {scheme!r}: use sqlite:///path.db, chdb:///dir or clickhouse://user:pass@host:8123/db"
        )
    if not path:
        raise ValueError("a sqlite store URL needs a path: sqlite:///abs/path.db or sqlite://rel/path.db")
    if serving:
        return SQLiteStore.for_serving(path, max_pending=max_pending, synchronous=synchronous)
    busy = TOOL_BUSY_TIMEOUT if tool else BUSY_TIMEOUT
    return SQLiteStore(path, max_pending=max_pending, synchronous=synchronous, busy_timeout=busy)


CLICKHOUSE_SCHEMES = ("chdb", "clickhouse", "clickhouses")


def _open_clickhouse(url: str, *, max_pending: int, serving: bool) -> Store:
    """A ClickHouse store (the `clickhouse` extra: chdb in the process, clickhouse-connect for a server)."""
    try:
        from collector.store.clickhouse import ClickHouseStore
    except ImportError as exc:  # pragma: no cover - the extra is part of every test install
        raise StoreUnusable(
            f"{url.split('://', 1)[0]}:// stores need the clickhouse extra:"
            " pip install 'trailmark-collector[clickhouse]'"
        ) from exc
    try:
        return ClickHouseStore(url, max_pending=max_pending)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - said once, in a sentence, before serving
        if not serving:
            raise
        raise StoreUnusable(f"cannot open the store {url.split('@')[-1]}: {str(exc).splitlines()[0][:300]}") from exc


__all__ = [
    "Overloaded", "Site", "SQLiteStore", "Store", "StoreFault", "StoreUnusable", "WriteBatch",
    "WriteResult", "WriterStopped", "open_store", "sqlite_path",
]
