"""The values that cross the store door for delivery: a due delivery and the outcome of one attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    """A due delivery with what sending it needs from its rule."""

    id: str
    rule_id: int
    rule_name: str
    kind: str
    url: str
    secret: str
    site_id: str
    visitor_id: str
    session_id: str | None
    fired_at: int
    events: list[dict[str, Any]]
    attempts: int


@dataclass(frozen=True)
class Attempt:
    """What one POST of a delivery came to, and what follows from it."""

    delivery_id: str
    rule_id: int
    at: int  # when the attempt started (ms)
    delivered: bool
    response_code: int | None
    error: str | None
    latency_ms: int
    retry_at: int | None  # None: no further attempt (delivered, or given up)
    disable_after: int  # consecutive failures of the rule that disable it


@dataclass(frozen=True)
class Status:
    """Delivery statuses as stored and listed."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    HELD = "held"  # its rule is disabled; re-enabling the rule sends it
