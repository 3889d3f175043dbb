"""The asset copier: a background thread that keeps copies of what stored recordings load.

Ingest offers each stored chunk (`offer`, a non-blocking put; nothing waits on the network on
the request path). The thread reads the chunk's asset URLs and, per URL, either gives the
session the copy fetched for that URL within the last FRESH_MS, or fetches it (collector/assets/
fetch.py) and stores the bytes once per site and content, charged to the site's replay budgets.
A stylesheet's own fonts and images are fetched first and the stored text points at their copies.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from collector.assets import refs
from collector.assets.fetch import CSS_TYPES, REASONS, Fetched, Limits, NotCopied, fetch
from collector.store.assets import AssetCopy, AssetRef, AssetStore, copy_id
from collector.wire import json_decoder, json_encoder

if TYPE_CHECKING:
    from collector.store import Site, Store

log = logging.getLogger("trailmark.assets")

# A URL fetched this recently is not fetched again: a busy site's recordings would otherwise ask
# it for the same files thousands of times an hour. A change the site makes shows in recordings
# made from this long after it on.
FRESH_MS = 10 * 60 * 1000
# A refused URL (not the site's, too big, an HTML page) is not tried again for this long.
REFUSED_MS = 60 * 60 * 1000
QUEUE_CHUNKS = 1000  # offered chunks waiting; more are dropped (and counted), never waited for
MAX_URLS_PER_CHUNK = 200
CSS_DEPTH = 2  # a stylesheet's @import of a stylesheet that loads a font: two levels below the page
PATH = "/replay-assets/"

# Whether a site's bytes may grow by this much now: charges the site's replay budget when it may.
Charge = Callable[[str, int], bool]


def copy_path(asset_id: str) -> str:
    return PATH + asset_id


def enabled(site: Site) -> bool:
    """Copies are on unless the site turned them off (`replay_assets: false`)."""
    return site.settings.get("replay_assets") is not False


@dataclass(frozen=True)
class Offered:
    site: Site
    session_id: str
    ts: int  # the chunk's last event: a copy lives as long as the recording that uses it
    data: bytes  # the stored chunk: gzip of its JSON array of events


@dataclass
class Counts:
    """What the copier did since start (/metrics shows them; collector/ops.py)."""

    offered: int = 0  # chunks offered by ingest
    dropped: int = 0  # of those, dropped on a full queue
    fetched: int = 0  # URLs fetched whole and of an allowed type (a site that did not change too)
    stored_bytes: int = 0  # bytes of new copies stored
    refusals: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(REASONS, 0)))  # URLs, by reason
    refused: dict[str, str] = field(default_factory=dict)  # the latest reasons, by URL


@dataclass
class _Found:
    """What copying one recorded URL produced: new copies, and URL -> copy id for the session."""

    copies: list[AssetCopy] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)


def supported(store: object) -> bool:
    return isinstance(store, AssetStore)


class AssetCopies:
    """Runs beside the collector (the app's lifespan starts and stops it)."""

    def __init__(self, store: Store, limits: Limits, charge: Charge | None = None) -> None:
        self.store = cast("AssetStore", store)
        self.limits = limits
        self.charge: Charge = charge or (lambda _site, _size: True)
        self.counts = Counts()
        self.fresh_ms = FRESH_MS
        self._queue: queue.Queue[Offered | None] = queue.Queue(QUEUE_CHUNKS)
        self._refused_until: dict[tuple[str, str], int] = {}
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._busy = 0

    def start(self) -> None:
        if not supported(self.store):
            log.warning("the %s store keeps no copies of recorded assets: replays load none",
                        getattr(self.store, "engine", "configured"))
            return
        self._thread = threading.Thread(target=self._run, name="trailmark-assets", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def offer(self, site: Site, session_id: str, ts: int, data: bytes) -> None:
        """Queue a stored chunk for copying; never blocks (a full queue drops it and counts)."""
        if self._thread is None or not enabled(site):
            return
        self.counts.offered += 1
        with self._idle:
            self._busy += 1
        try:
            self._queue.put_nowait(Offered(site, session_id, ts, data))
        except queue.Full:
            self.counts.dropped += 1
            self._done()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every offered chunk is handled (tests, and a clean shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def _done(self) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self.copy_chunk(item)
            except Exception:  # noqa: BLE001 - one bad chunk or store fault must not stop the copier
                log.exception("copying the assets of a recorded chunk failed")
            finally:
                self._done()

    def copy_chunk(self, item: Offered) -> None:
        """Give the chunk's session a copy of every asset URL it loads that can be copied."""
        try:
            urls = sorted(refs.recorded_urls(gzip.decompress(item.data)))[:MAX_URLS_PER_CHUNK]
        except (OSError, EOFError):
            return
        site = item.site
        known = self.store.asset_copies(site.id, item.session_id)
        now = int(time.time() * 1000)
        for url in urls:
            if url in known:
                continue
            found = _Found()
            self._copy(site, url, now, CSS_DEPTH, found)
            # A copy and the session's references to it (a stylesheet's fonts too) are stored in
            # one transaction: an erasure in between cannot leave a reference without its copy.
            if found.refs:
                refs_ = [AssetRef(session_id=item.session_id, url=u, asset_id=a, ts=item.ts)
                         for u, a in found.refs.items() if u not in known]
                self.counts.stored_bytes += self.store.save_asset_copies(site.id, found.copies, refs_, now)
                known.update(found.refs)

    def _copy(self, site: Site, url: str, now: int, depth: int, found: _Found) -> str | None:
        """The id of a fresh copy of `url`, fetched if needed (added to `found`); None if it cannot be."""
        if url in found.refs:
            return found.refs[url]
        latest = self.store.latest_asset_copy(site.id, url)
        if latest is not None and now - latest[1] < self.fresh_ms and self.store.asset_copy(latest[0]) is not None:
            found.refs[url] = latest[0]
            return latest[0]
        if self._refused_until.get((site.id, url), 0) > now:
            return None
        try:
            fetched = fetch(url, site.origins, self.limits)
            is_css = fetched.content_type in CSS_TYPES
            data = self._with_copies(site, fetched, now, depth, found) if is_css else fetched.data
        except NotCopied as exc:
            self._refuse(site, url, exc, now)
            return None
        copy = AssetCopy(id=copy_id(site.id, fetched.content_type, data), site_id=site.id,
                         content_type=fetched.content_type, data=data)
        self.counts.fetched += 1
        if self.store.asset_copy(copy.id) is None:
            if not self.charge(site.id, len(data)):
                # Over the site's budget now: tried again by a later recording once it has room.
                log.info("not copying %s: the site's replay budget is spent", url)
                self.counts.refusals["budget"] += 1
                return None
            found.copies.append(copy)
        found.refs[url] = copy.id
        return copy.id

    def _with_copies(self, site: Site, fetched: Fetched, now: int, depth: int, found: _Found) -> bytes:
        """A stylesheet's text with its own fonts, images and imports pointed at their copies."""
        text = fetched.data.decode("utf-8", "replace")
        copies: dict[str, str] = {}
        if depth > 0:
            for url in refs.unique(refs.css_urls(text, fetched.url))[:MAX_URLS_PER_CHUNK]:
                if refs.is_asset_url(url):
                    asset_id = self._copy(site, url, now, depth - 1, found)
                    if asset_id is not None:
                        copies[url] = copy_path(asset_id)
        return refs.rewrite_css(text, fetched.url, copies).encode()

    def _refuse(self, site: Site, url: str, refused: NotCopied, now: int) -> None:
        reason = str(refused)
        log.info("not copying %s: %s", url, reason)
        self.counts.refusals[refused.reason] += 1
        self._refused_until[(site.id, url)] = now + REFUSED_MS
        if len(self._refused_until) > 100_000:  # forget the oldest refusals rather than grow
            for key in list(self._refused_until)[:50_000]:
                del self._refused_until[key]
        self.counts.refused[url] = reason
        if len(self.counts.refused) > 1000:
            self.counts.refused.pop(next(iter(self.counts.refused)))


def copies_of(store: object, site_id: str, session_id: str) -> dict[str, str]:
    """A session's recorded URLs and the paths of their copies (none on an engine without copies)."""
    if not isinstance(store, AssetStore):
        return {}
    return {url: copy_path(asset_id) for url, asset_id in store.asset_copies(site_id, session_id).items()}


def budget_charge(loop: asyncio.AbstractEventLoop, reserve: Callable[[str, int], bool]) -> Charge:
    """A charge run on the event loop, where the replay ledger's checks and charges run."""

    async def on_loop(site_id: str, size: int) -> bool:
        return reserve(site_id, size)

    def charge(site_id: str, size: int) -> bool:
        # the lifespan stops the copier off the loop (to_thread), so the loop is there to answer
        return asyncio.run_coroutine_threadsafe(on_loop(site_id, size), loop).result(timeout=60)

    return charge


def rewrite_found(store: object, site_id: str, found: Mapping[str, object]) -> Mapping[str, object]:
    """A heatmap snapshot answer with its recorded URLs pointed at the session's copies."""

    session_id = found.get("session_id")
    copies = copies_of(store, site_id, session_id) if isinstance(session_id, str) else {}
    if not copies:
        return found
    return cast("Mapping[str, object]", json_decoder.decode(refs.rewrite_json(json_encoder.encode(found), copies)))
