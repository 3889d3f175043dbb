"""The engine-neutral values of the store: what ingest hands it, sites, and its write errors."""

from __future__ import annotations

import hashlib
from typing import Literal, get_args

import msgspec
from msgspec import Struct


class Context(Struct, kw_only=True):
    """Request-level facts shared by every event of one request (device and geo)."""

    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    device: str | None = None
    device_brand: str | None = None
    device_model: str | None = None
    is_bot: bool = False
    country: str | None = None
    country_name: str | None = None
    region: str | None = None
    city: str | None = None
    timezone: str | None = None
    lat: float | None = None
    lon: float | None = None


class Acquisition(Struct, kw_only=True):
    """Where a visit came from; taken by a session from its entry pageview."""

    channel: str = "direct"
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None


class EventRow(Struct, kw_only=True):
    """One event as stored; `session_id` None asks the store to sessionize it per visitor."""

    id: str
    type: str
    ts: int
    client_ts: int
    anon_id: str | None
    user_id: str | None
    session_id: str | None
    url: str | None
    path: str | None
    route: str | None
    name: str | None
    data: bytes = b"{}"  # JSON object of the type-specific fields, encoded last by the pipeline
    touchpoint: str = "web"
    vw: int | None = None
    vh: int | None = None
    acquisition: Acquisition | None = None  # set on pageviews
    revenue: float = 0.0  # purchases
    rage: bool = False
    dead: bool = False
    traits: bytes | None = None  # identify


# Why an event or a chunk was not stored: a closed set, read by the dead letters and /metrics.
RejectKind = Literal["invalid", "too_large", "too_deep", "too_old", "over_budget"]
REJECT_KINDS: tuple[RejectKind, ...] = get_args(RejectKind)


class DeadLetter(Struct, kw_only=True):
    source: str
    reason: str  # the sentence the sender read
    raw: str
    kind: RejectKind = "invalid"


class ChunkRow(Struct, kw_only=True):
    session_id: str
    anon_id: str | None
    seq: int
    first_ts: int
    last_ts: int
    data: bytes  # gzip of the JSON array of rrweb events


class WriteBatch(Struct, kw_only=True):
    """Everything one request asks to store, acknowledged together."""

    site_id: str | None
    received_at: int
    # Sent with the site's secret server key (its backend), not the public write key: only such
    # requests may set traits and vouch for who a user is (docs/privacy.md, identity).
    verified: bool = False
    context: Context = msgspec.field(default_factory=Context)
    events: list[EventRow] = []
    dead: list[DeadLetter] = []
    chunks: list[ChunkRow] = []

    @property
    def size(self) -> int:
        return len(self.events) + len(self.dead) + len(self.chunks)


class WriteResult(Struct, kw_only=True):
    stored: int  # new events (duplicates excluded)
    duplicates: int
    chunks_stored: int = 0


class Site(Struct, frozen=True, kw_only=True):
    id: str
    name: str
    write_key: str
    origins: tuple[str, ...] = ()
    settings: dict[str, object] = {}
    created_at: int = 0
    # The request's key was the site's secret server key, not its public write key.
    verified: bool = False


SECRET_PREFIX = "sk_"


def secret_hash(secret: str) -> str:
    """What a store keeps of a secret key: its SHA-256, so a copy of the data holds no key."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Overloaded(Exception):
    """The write queue is full; the client should retry after a pause."""


class WriterStopped(Exception):
    """The writer is shutting down or has failed; nothing was stored."""


# A fault's kind: (what the client reads, seconds to wait). A lock is usually a short job of
# another process (a purge step, a backup); the others wait for an operator.
FAULTS = {
    "locked": ("the database is locked by another process, retry later", 2),
    "disk_full": ("the disk holding the database is full, retry later", 30),
    "read_only": ("the database is read-only, retry later", 30),
    "io_error": ("the database could not be read or written (I/O error), retry later", 30),
    "corrupt": ("the database file is damaged, retry later", 30),
    "unresponsive": ("the database did not answer in time, retry later", 5),
}


class NotAnswered(Exception):
    """A question this store's engine does not answer yet (docs/deployment.md lists them)."""

    def __init__(self, engine: str, question: str) -> None:
        super().__init__(f"the {engine} store does not answer {question} yet")


class StoreFault(Exception):
    """The disk, the file or another process stops the store; nothing of the request was stored.

    Not the client's doing and usually passing (a lock is released, space is freed): clients get
    a 503 with Retry-After and send the same events again.
    """

    def __init__(self, kind: str, detail: str = "") -> None:
        message, retry_after = FAULTS[kind]
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.detail = detail


class StoreUnusable(Exception):
    """The store cannot be written at all; said once at start-up, in a sentence."""
