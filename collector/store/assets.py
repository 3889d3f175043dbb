"""What an engine offers to keep copies of recorded assets (stylesheets, fonts, images).

A copy is kept once per site and content (its id is a hash of both); a reference ties a session's
recorded URL to the copy fetched for it, so a replay shows what the site served when it was
recorded, not what it serves now. Copies no reference holds are deleted with the last one
(erasure, retention). The fetching is engine-neutral, in collector/assets/.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from msgspec import Struct

T = TypeVar("T")


class AssetCopy(Struct, frozen=True, kw_only=True):
    id: str
    site_id: str
    content_type: str
    data: bytes


class AssetRef(Struct, frozen=True, kw_only=True):
    """A session's recorded URL and the copy it is shown with; `ts` is when the recording used it."""

    session_id: str
    url: str
    asset_id: str
    ts: int


# The stored columns, in the order both engines keep them (exports and `trailmark store copy`).
COPY_COLUMNS = ("id", "site_id", "content_type", "size", "data", "stored_at")
REF_COLUMNS = ("site_id", "session_id", "url", "asset_id", "ts", "fetched_at")


def new_rows(
    site_id: str, copies: list[AssetCopy], refs: list[AssetRef], now: int,
    held_copies: set[str], held_refs: set[tuple[str, str]],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rows of `copies` and `refs` to add, as COPY_COLUMNS and REF_COLUMNS, given the copy ids
    (of `copies` and of the refs' copies) and the (session, url) references already held: a copy is
    kept once, the first copy a session was given for a URL stays (a later fetch is for later
    recordings), and a reference to a copy that is gone (erased since the copier found it) is not
    stored."""
    copy_rows: dict[str, tuple[object, ...]] = {}
    for copy in copies:
        if copy.id not in held_copies and copy.id not in copy_rows:
            copy_rows[copy.id] = (copy.id, site_id, copy.content_type, len(copy.data), copy.data, now)
    ref_rows: dict[tuple[str, str], tuple[object, ...]] = {}
    for ref in refs:
        key = (ref.session_id, ref.url)
        there = ref.asset_id in held_copies or ref.asset_id in copy_rows
        if there and key not in held_refs and key not in ref_rows:
            ref_rows[key] = (site_id, ref.session_id, ref.url, ref.asset_id, ref.ts, now)
    return list(copy_rows.values()), list(ref_rows.values())


def copy_id(site_id: str, content_type: str, data: bytes) -> str:
    """Content-addressed, per site: the same bytes a site serves under two URLs are kept once."""
    digest = hashlib.sha256()
    for part in (site_id.encode(), b"\0", content_type.encode(), b"\0", data):
        digest.update(part)
    return digest.hexdigest()[:40]


@runtime_checkable
class AssetStore(Protocol):
    """Copies of recorded assets; an engine without it serves replays as recorded and answers 501
    for a copy."""

    def save_asset_copies(self, site_id: str, copies: list[AssetCopy], refs: list[AssetRef], now: int) -> int: ...
    def latest_asset_copy(self, site_id: str, url: str) -> tuple[str, int] | None: ...
    def asset_copies(self, site_id: str, session_id: str) -> dict[str, str]: ...
    def asset_copy(self, asset_id: str) -> AssetCopy | None: ...
    def asset_bytes_received(self, site_id: str, start: int, end: int) -> int: ...


class EngineAssets:
    """AssetStore for an engine class: its module of copies (`assets_module`, with save, latest,
    of_session, one and bytes_received taking the engine's connection first), written through the
    engine's one writer (`_run`) and read on its readers (`_ask`)."""

    assets_module: Any

    if TYPE_CHECKING:
        def _run(self, fn: Callable[[Any], T]) -> T: ...
        def _ask(self, question: Callable[..., T], *args: Any) -> T: ...

    def save_asset_copies(self, site_id: str, copies: list[AssetCopy], refs: list[AssetRef], now: int) -> int:
        return self._run(lambda conn: int(self.assets_module.save(conn, site_id, copies, refs, now)))

    def latest_asset_copy(self, site_id: str, url: str) -> tuple[str, int] | None:
        found: tuple[str, int] | None = self._ask(self.assets_module.latest, site_id, url)
        return found

    def asset_copies(self, site_id: str, session_id: str) -> dict[str, str]:
        found: dict[str, str] = self._ask(self.assets_module.of_session, site_id, session_id)
        return found

    def asset_copy(self, asset_id: str) -> AssetCopy | None:
        found: AssetCopy | None = self._ask(self.assets_module.one, asset_id)
        return found

    def asset_bytes_received(self, site_id: str, start: int, end: int) -> int:
        return int(self._ask(self.assets_module.bytes_received, site_id, start, end))
