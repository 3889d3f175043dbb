"""Bounds on replay ingest: what one chunk may hold, and how many bytes a session and a site may store.

A chunk is checked whole before it is stored (events per chunk, inflated JSON size, page sizes a
viewer would draw). Stored bytes are charged in memory before the write and settled after it, so
that uploads racing each other cannot all pass a check made against the same stored total.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from collector import wire
from collector.enrich.replay import scrub_events
from collector.errors import ClientError
from collector.query.definitions import DAY_MS
from collector.store import Store
from collector.store.assets import AssetStore

# The recorder cuts a chunk at 300 KB of JSON, but one full snapshot of a large page (rrweb
# inlines its stylesheets) can be far larger; 2 MiB inflated keeps every real chunk we measured.
MAX_CHUNK_JSON_BYTES = 2 * 1024 * 1024
# 300 KB of the smallest rrweb events (a mouse position, about 100 bytes) is about 3,000 events;
# the player does work per event, so a chunk of tiny forged events is refused well before that
# costs anything.
MAX_CHUNK_EVENTS = 10_000
MAX_SESSION_BYTES = 20 * 1024 * 1024
# No browser window is wider or taller than this (an 8K screen at 25 % zoom is 30,720 px); a meta
# event claiming more would make the viewers size frames and canvases beyond what a tab can hold.
MAX_VIEWPORT_PX = 100_000
# Scroll offsets: the same bound the wire protocol puts on page coordinates (wire.Px).
MAX_PAGE_PX = 10_000_000

HOUR_MS = 3_600_000

ViewportPx = Annotated[float, Meta(ge=0, le=MAX_VIEWPORT_PX)]
PagePx = Annotated[float, Meta(ge=-MAX_PAGE_PX, le=MAX_PAGE_PX)]


class RrwebEvent(Struct):
    """The part of an rrweb event the collector checks: its type and time; `data` is looked into below."""

    type: int
    timestamp: wire.Ms
    data: msgspec.Raw = msgspec.Raw(b"null")


class Viewport(Struct):
    """A meta event's (type 4) or a viewport resize's (type 3, source 4) window size."""

    width: ViewportPx | None = None
    height: ViewportPx | None = None


class Offset(Struct, frozen=True):
    top: PagePx | None = 0
    left: PagePx | None = 0


class FullSnapshot(Struct):
    initialOffset: Offset = Offset()  # noqa: N815 (rrweb's name)


class Incremental(Struct):
    source: int | None = None


META, FULL_SNAPSHOT, INCREMENTAL = 4, 2, 3
VIEWPORT_RESIZE = 4  # rrweb IncrementalSource.ViewportResize

# Only what the viewers size frames and canvases from is checked, and only where it is given:
# rrweb's deep structure is the player's to read.
_events = msgspec.json.Decoder(list[RrwebEvent])
_viewport = msgspec.json.Decoder(Viewport | None)
_snapshot = msgspec.json.Decoder(FullSnapshot | None)
_incremental = msgspec.json.Decoder(Incremental | None)


def _check_data(index: int, decoder: msgspec.json.Decoder[Any], data: msgspec.Raw) -> object:
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        # msgspec names the path inside `data` (none for `data` itself); the client needs it
        # from the chunk's events
        text, path = str(exc), f"`$[{index}].data"
        text = text.replace("`$", path, 1) if "`$" in text else f"{text} - at {path}`"
        raise ClientError(400, f"invalid replay chunk: {text}") from None


def _check_sizes(index: int, event: RrwebEvent) -> None:
    if event.type == META:
        _check_data(index, _viewport, event.data)
    elif event.type == FULL_SNAPSHOT:
        _check_data(index, _snapshot, event.data)
    elif event.type == INCREMENTAL:
        found = _check_data(index, _incremental, event.data)
        if isinstance(found, Incremental) and found.source == VIEWPORT_RESIZE:
            _check_data(index, _viewport, event.data)


@dataclass(frozen=True)
class Packed:
    """A checked chunk, ready to store: its time range and its gzipped JSON array of events."""

    count: int
    first_ts: int
    last_ts: int
    data: bytes


def pack(chunk: wire.ReplayChunk, sensitive: frozenset[str]) -> Packed:
    """Check a chunk's events, take secrets out of its recorded URLs (`sensitive` parameter names)
    and compress it; a ClientError (400/413) names what is wrong."""
    if len(chunk.events) > MAX_CHUNK_EVENTS:
        raise ClientError(
            413, f"too many replay events: {len(chunk.events)} > {MAX_CHUNK_EVENTS} per chunk"
        )
    array = b"[" + b",".join(chunk.events) + b"]"
    try:
        events = _events.decode(array)
    except msgspec.ValidationError as exc:
        raise ClientError(400, f"invalid replay chunk: {exc}") from None
    for index, event in enumerate(events):
        _check_sizes(index, event)
    times = [e.timestamp for e in events]
    # Up to 2 MiB: callers run this off the event loop (zlib releases the GIL meanwhile).
    return Packed(len(events), min(times), max(times), gzip.compress(scrub_events(chunk.events, sensitive), 6))


class OverBudget(Exception):
    """A chunk that would take a session or a site beyond what it may store."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.error = ClientError(status, message, retry_after)


@dataclass
class _Window:
    start: int
    used: int


@dataclass
class Hold:
    """Bytes charged to a session in flight and to the site's current windows, until settled."""

    site_id: str
    session_id: str
    size: int
    at: int
    windows: list[tuple[str, int]] = field(default_factory=list)


class ReplayLedger:
    """Replay bytes charged per session (stored plus in flight) and per site per hour and day.

    One collector process serves a store (the CLI runs one uvicorn worker), so this in-memory
    account, seeded from the store, is exact: checks and charges happen on the event loop with no
    await between them, and a charge is settled only after the write it stands for is committed.
    """

    def __init__(self, store: Store, *, hour_bytes: int, day_bytes: int,
                 session_bytes: int = MAX_SESSION_BYTES) -> None:
        self.store = store
        self.session_bytes = session_bytes
        self.budgets = {"hourly": (HOUR_MS, hour_bytes), "daily": (DAY_MS, day_bytes)}
        self._in_flight: dict[tuple[str, str], int] = {}
        self._windows: dict[tuple[str, str], _Window] = {}

    def reserve(self, site_id: str, session_id: str, size: int, now_ms: int | None = None) -> Hold:
        """Charge `size` bytes or raise OverBudget; every Hold returned must be settled."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        key = (site_id, session_id)
        held = self.store.replay_bytes(site_id, session_id) + self._in_flight.get(key, 0)
        if held + size > self.session_bytes:
            raise OverBudget(413, f"replay of this session exceeds {self.session_bytes} bytes")
        windows, over = [], None
        for name, (length, budget) in self.budgets.items():
            if budget <= 0:
                continue
            window = self._window(site_id, name, length, now)
            windows.append((name, window))
            if window.used + size > budget:
                # the longest full window names the wait: retrying when the hour ends would
                # still find the day full
                over = (name, budget, window.start + length)
        if over is not None:
            name, budget, end = over
            raise OverBudget(
                429, f"replay storage for this site is over its {name} budget of {budget} bytes",
                max(1, -(-(end - now) // 1000)),
            )
        for _, window in windows:
            window.used += size
        self._in_flight[key] = self._in_flight.get(key, 0) + size
        return Hold(site_id, session_id, size, now, [(name, w.start) for name, w in windows])

    def settle(self, hold: Hold, *, stored: bool) -> None:
        """The write is done (committed, a duplicate, or failed); only stored bytes stay charged."""
        key = (hold.site_id, hold.session_id)
        left = self._in_flight.get(key, 0) - hold.size
        if left > 0:
            self._in_flight[key] = left
        else:
            self._in_flight.pop(key, None)
        if stored:
            return
        for name, start in hold.windows:
            window = self._windows.get((hold.site_id, name))
            if window is not None and window.start == start:
                window.used -= hold.size

    def charge_site(self, site_id: str, size: int, now_ms: int | None = None) -> bool:
        """Charge bytes a site stores outside any session (copies of recorded assets) to its hour
        and day; False, charging nothing, when either budget has no room for them."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        windows = [self._window(site_id, name, length, now)
                   for name, (length, budget) in self.budgets.items() if budget > 0]
        budgets = [budget for length, budget in self.budgets.values() if budget > 0]
        if any(w.used + size > budget for w, budget in zip(windows, budgets, strict=True)):
            return False
        for window in windows:
            window.used += size
        return True

    def _window(self, site_id: str, name: str, length: int, now: int) -> _Window:
        start = now - now % length  # UTC hours and days
        window = self._windows.get((site_id, name))
        if window is None or window.start != start:
            # A new window (or a restart) starts from what the store already holds for it.
            used = self.store.replay_bytes_received(site_id, start, start + length)
            if isinstance(self.store, AssetStore):  # copies of recorded assets count too
                used += self.store.asset_bytes_received(site_id, start, start + length)
            window = self._windows[(site_id, name)] = _Window(start, used)
        return window
