"""Rule evaluation over the events of one group commit, and the admission of a firing.

It runs inside the transaction that stores the events (the engine hands it a `Ledger` on that
transaction): the outbox row of an acknowledged event commits with the event, or neither does.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from collector.triggers.rules import Event, Rule, matches

HOUR_MS = 3_600_000
_DELIVERY_NS = uuid.UUID("2b0e8f7c-5d4a-4f61-9c3e-7a1d0b6e5f24")


@dataclass(frozen=True)
class Delivery:
    """An outbox row: one POST to make, with the same id on every attempt."""

    id: str
    rule_id: int
    site_id: str
    visitor_id: str
    session_id: str | None
    fired_at: int  # when the rule became true (ms): the lag is measured from here
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class Check:
    """A pending absence check: at `due_at`, fire unless the absent event happened."""

    id: str  # the id its delivery will carry
    rule_id: int
    site_id: str
    visitor_id: str
    session_id: str
    start: dict[str, Any]  # the start event's payload
    start_ts: int
    due_at: int


class Ledger(Protocol):
    """What evaluation needs from a store, inside the transaction that stores the events."""

    def rules(self, site_ids: Collection[str]) -> list[Rule]: ...
    def sessions_in_segment(self, site_id: str, segment_id: int, session_ids: Sequence[str]) -> set[str] | None: ...
    def last_fired(self, rule_id: int, visitor_id: str) -> int | None: ...
    def fired_since(self, rule_id: int, since: int) -> int: ...
    def mark_fired(self, rule_id: int, visitor_id: str, at: int) -> None: ...
    def enqueue(self, delivery: Delivery, status: str = "pending") -> bool: ...
    def add_checks(self, checks: Sequence[Check]) -> None: ...


def delivery_id(rule_id: int, kind: str, key: str) -> str:
    """The delivery's id, made from what fired it: a replayed group or a restart makes the same one.

    A keyed BLAKE2b hash spelled as a UUID: a fifth of uuid5's cost, which showed in ingest
    with a check per cart add.
    """
    h = hashlib.blake2b(f"{rule_id}\n{kind}\n{key}".encode(), digest_size=16, key=_DELIVERY_NS.bytes).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def sampled(rule: Rule, delivery: str) -> bool:
    """Whether a firing falls in the rule's sample: a hash of its id, so a retry decides alike."""
    if rule.sample >= 1:
        return True
    bucket = int.from_bytes(hashlib.sha256(delivery.encode()).digest()[:8], "big") / 2**64
    return bucket < rule.sample


def refusal(ledger: Ledger, rule: Rule, delivery: Delivery, now: int) -> str | None:
    """Why a firing is not sent (sample, cooldown, hourly limit), or None to send it."""
    if not sampled(rule, delivery.id):
        return "sampled out"
    if rule.cooldown_s:
        last = ledger.last_fired(rule.id, delivery.visitor_id)
        if last is not None and now - last < rule.cooldown_s * 1000:
            return "cooldown"
    if rule.max_per_hour is not None and ledger.fired_since(rule.id, now - HOUR_MS) >= rule.max_per_hour:
        return "rate limit"
    return None


def fire(ledger: Ledger, rule: Rule, delivery: Delivery, now: int, *, remember_skips: bool = False) -> bool:
    """Enqueue a firing that the rule admits; True when a new delivery was queued.

    `remember_skips` keeps a refused firing as a skipped row, so that a segment entry refused
    by the cooldown does not fire on the session's next event instead.
    """
    reason = refusal(ledger, rule, delivery, now)
    if reason is not None:
        if remember_skips:
            ledger.enqueue(delivery, status=f"skipped: {reason}")
        return False
    if not ledger.enqueue(delivery):
        return False
    ledger.mark_fired(rule.id, delivery.visitor_id, now)
    return True


def evaluate(ledger: Ledger, events: Sequence[Event], now: int) -> int:
    """Fire the rules these freshly stored events meet; the number of deliveries and checks made."""
    if not events:
        return 0
    rules = ledger.rules({e.site_id for e in events})
    if not rules:
        return 0
    by_site: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_site[event.site_id].append(event)
    made = 0
    checks: list[Check] = []
    for rule in rules:
        site_events = by_site.get(rule.site_id, [])
        spec = rule.spec
        if spec.kind == "event":
            assert spec.event is not None
            for event in site_events:
                if matches(spec.event, event):
                    delivery = Delivery(
                        delivery_id(rule.id, "event", event.id), rule.id, rule.site_id, event.visitor_id,
                        event.session_id, now, [event.payload()],
                    )
                    made += fire(ledger, rule, delivery, now)
        elif spec.kind == "absence":
            assert spec.event is not None and spec.delay_s is not None
            for event in site_events:
                if matches(spec.event, event):
                    checks.append(Check(
                        delivery_id(rule.id, "absence", event.id), rule.id, rule.site_id, event.visitor_id,
                        event.session_id, event.payload(), event.ts, event.ts + spec.delay_s * 1000,
                    ))
        elif spec.kind == "segment":
            made += _segment_entries(ledger, rule, site_events, now)
        # An `alert` rule is fired by its alert's daily check, never by events (ledgers leave it out).
    if checks:
        ledger.add_checks(checks)
    return made + len(checks)


def possible_ids(rules: Sequence[Rule], events: Sequence[Event]) -> set[str]:
    """Every delivery or check id `evaluate` could make of these events under these rules: an engine
    without INSERT OR IGNORE looks them all up at once instead of one by one."""
    ids = set()
    for rule in rules:
        kind = rule.spec.kind
        for event in events:
            if event.site_id == rule.site_id:
                ids.add(delivery_id(rule.id, kind, event.session_id if kind == "segment" else event.id))
    return ids


def _segment_entries(ledger: Ledger, rule: Rule, events: Sequence[Event], now: int) -> int:
    """Sessions of this group that now belong to the rule's segment fire once each."""
    assert rule.spec.segment is not None
    by_session: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_session[event.session_id].append(event)
    if not by_session:
        return 0
    inside = ledger.sessions_in_segment(rule.site_id, rule.spec.segment, sorted(by_session))
    made = 0
    for session_id in sorted(inside or ()):
        session_events = by_session[session_id]
        delivery = Delivery(
            delivery_id(rule.id, "segment", session_id), rule.id, rule.site_id,
            session_events[-1].visitor_id, session_id, now, [e.payload() for e in session_events],
        )
        made += fire(ledger, rule, delivery, now, remember_skips=True)
    return made


def absent_seen(rule: Rule, check: Check, later: Sequence[Event]) -> bool:
    """Whether one of the visitor's events in the check's window cancels it."""
    spec = rule.spec
    assert spec.absent is not None
    return any(check.start_ts <= e.ts <= check.due_at and matches(spec.absent, e) for e in later)


def check_delivery(check: Check) -> Delivery:
    """The delivery an absence check makes when nothing cancelled it; it became true at `due_at`."""
    return Delivery(check.id, check.rule_id, check.site_id, check.visitor_id, check.session_id,
                    check.due_at, [check.start])
