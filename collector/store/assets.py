"""What an engine offers to keep copies of recorded assets (stylesheets, fonts, images).

A copy is kept once per site and content (its id is a hash of both); a reference ties a session's
recorded URL to the copy fetched for it, so a replay shows what the site served when it was
recorded, not what it serves now. Copies no reference holds are deleted with the last one
(erasure, retention). The fetching is engine-neutral, in collector/assets/.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

from msgspec import Struct


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
