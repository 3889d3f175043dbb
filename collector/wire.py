"""Wire types of protocol v1: msgspec Structs, the tagged Event union, decoders built once."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from collector.query.definitions import DAY_MS

# Limits of the wire protocol (docs/protocol.md).
MAX_EVENTS = 500
MAX_EVENT_BYTES = 32 * 1024
MAX_BODY_BYTES = 1024 * 1024

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Short = Annotated[str, Meta(max_length=256)]
Text = Annotated[str, Meta(max_length=2048)]
Long = Annotated[str, Meta(max_length=16 * 1024)]
Ms = Annotated[int, Meta(ge=0, le=4_102_444_800_000)]  # up to year 2100
Px = Annotated[int, Meta(ge=-100_000, le=10_000_000)]
Pct = Annotated[float, Meta(ge=0, le=100)]
Unit = Annotated[float, Meta(ge=0, le=1)]
Money = Annotated[float, Meta(ge=-1e12, le=1e12)]
Currency = Annotated[str, Meta(pattern="^[A-Za-z]{3}$")]
Touchpoint = Annotated[str, Meta(min_length=1, max_length=32)]
Props = Annotated[dict[str, Any], Meta(max_length=100)]


class Envelope(Struct, kw_only=True):
    """A batch as sent by an SDK; events stay raw so that each one is validated alone."""

    key: Annotated[str, Meta(min_length=1, max_length=128)]
    sent_at: Ms | None = None
    events: Annotated[list[msgspec.Raw], Meta(min_length=1)]


class Base(Struct, kw_only=True, tag_field="type", forbid_unknown_fields=True):
    """Fields every event carries."""

    id: Id
    ts: Ms
    anon_id: Id | None = None
    session_id: Id | None = None
    user_id: Id | None = None
    url: Text | None = None
    referrer: Text | None = None
    title: Short | None = None
    vw: Px | None = None
    vh: Px | None = None
    # Where the contact happened (web, email, call_center, store...); defaulted in normalize.py.
    touchpoint: Touchpoint | None = None


class Item(Struct, kw_only=True, forbid_unknown_fields=True):
    sku: Short
    name: Short | None = None
    price: Money | None = None
    qty: Annotated[int, Meta(ge=0, le=1_000_000)] = 1
    currency: Currency | None = None
    category: Short | None = None


Items = Annotated[list[Item], Meta(max_length=200)]


class Pageview(Base, tag="pageview"):
    route: Short | None = None


class Click(Base, tag="click"):
    x: Px | None = None
    y: Px | None = None
    sel: Text | None = None
    tag: Short | None = None
    text: Annotated[str, Meta(max_length=100)] | None = None
    href: Text | None = None
    rx: Unit | None = None
    ry: Unit | None = None
    dw: Px | None = None
    dh: Px | None = None
    rage: bool = False
    dead: bool = False


class Scroll(Base, tag="scroll"):
    depth: Pct
    dh: Px | None = None


class PageLeave(Base, tag="page_leave"):
    engaged_ms: Annotated[int, Meta(ge=0, le=DAY_MS)] = 0
    depth: Pct | None = None


class Cart(Base, tag="cart"):
    action: Literal["add", "remove"]
    item: Item


class Checkout(Base, tag="checkout"):
    items: Items = []
    value: Money | None = None
    currency: Currency | None = None


class Purchase(Base, tag="purchase"):
    order_id: Id
    value: Money
    currency: Currency | None = None
    items: Items = []


class Identify(Base, tag="identify"):
    user_id: Id  # required here, optional elsewhere
    traits: Props = {}


class Track(Base, tag="track"):
    name: Short
    props: Props = {}


class Survey(Base, tag="survey"):
    kind: Literal["nps", "csat", "ces"]
    score: Annotated[int, Meta(ge=0, le=10)]
    scale: Literal[5, 7] | None = None
    comment: Long | None = None
    survey_id: Short | None = None

    def __post_init__(self) -> None:
        low, high = survey_range(self.kind, self.scale)
        if not low <= self.score <= high:
            raise ValueError(f"{self.kind} score must be between {low} and {high}")


class Error(Base, tag="error"):
    message: Long
    source: Text | None = None
    line: int | None = None
    col: int | None = None
    stack: Long | None = None


class Vital(Base, tag="vital"):
    name: Literal["LCP", "CLS", "INP", "FCP", "TTFB"]
    value: Annotated[float, Meta(ge=0, le=3_600_000)]


Key = Annotated[str, Meta(min_length=1, max_length=64)]


class Exposure(Base, tag="exposure"):
    """The visitor saw `variant` of the experiment `experiment` (docs/experiments.md)."""

    experiment: Key
    variant: Key


Event = (
    Pageview | Click | Scroll | PageLeave | Cart | Checkout | Purchase | Identify | Track
    | Survey | Error | Vital | Exposure
)

EVENT_TYPES: tuple[str, ...] = tuple(t.__struct_config__.tag for t in Event.__args__)


def survey_range(kind: str, scale: int | None) -> tuple[int, int]:
    """The valid score range of a survey kind (contract: NPS 0..10, CSAT 1..scale, CES 1..5)."""
    if kind == "nps":
        return 0, 10
    if kind == "csat":
        return 1, scale or 5
    return 1, 5


class ReplayChunk(Struct, kw_only=True):
    """One upload of rrweb events for a session."""

    key: Annotated[str, Meta(min_length=1, max_length=128)]
    session_id: Id
    anon_id: Id | None = None
    seq: Annotated[int, Meta(ge=0, le=1_000_000)]
    events: Annotated[list[msgspec.Raw], Meta(min_length=1)]


envelope_decoder = msgspec.json.Decoder(Envelope)
event_decoder = msgspec.json.Decoder(Event)
json_decoder = msgspec.json.Decoder()
object_decoder = msgspec.json.Decoder(dict[str, Any])  # a stored JSON object (data, traits)
json_encoder = msgspec.json.Encoder()
