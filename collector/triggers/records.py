"""Trigger rows as every engine stores them, turned into the values that cross the store door.

The column order of each tuple is the SQL's order on every engine; what follows from a delivery
attempt (its status, the rule's failure count and when it is disabled) is decided here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collector.store.model import EventRow, WriteBatch
from collector.triggers.outbox import Attempt, Outgoing, Status
from collector.triggers.rules import Event, Rule, spec_decoder
from collector.wire import json_decoder

# The rule columns the API shows, in this order.
PUBLIC_RULE_COLUMNS = (
    "id, site_id, name, spec, url, cooldown_s, sample, max_per_hour, enabled, disabled_reason,"
    " failures, created_at"
)
# The rule columns evaluation reads, in this order (`rule`).
RULE_COLUMNS = "id, site_id, name, spec, cooldown_s, sample, max_per_hour"
# The delivery log columns, in this order (`log_entry`).
LOG_COLUMNS = (
    "id, status, attempts, fired_at, first_attempt_at, last_attempt_at, next_at, response_code, error,"
    " latency_ms, visitor_id, session_id"
)
_LOG_KEYS = ("id", "status", "attempts", "fired_at", "first_attempt_at", "last_attempt_at", "next_at",
             "response_code", "error", "latency_ms", "person", "session")
# The event columns an absence check reads, in this order (`stored_event`).
EVENT_COLUMNS = "e.id, e.type, e.ts, e.session_id, e.anon_id, e.user_id, e.url, e.path, e.route, e.name, e.data"


def rule(row: Sequence[Any]) -> Rule:
    rule_id, site_id, name, spec, cooldown_s, sample, max_per_hour = tuple(row)
    return Rule(int(rule_id), site_id, name, spec_decoder.decode(spec), int(cooldown_s), float(sample),
                None if max_per_hour is None else int(max_per_hour))


def public_rule(row: Sequence[Any]) -> dict[str, Any]:
    (rule_id, site_id, name, spec, url, cooldown_s, sample, max_per_hour, enabled, reason,
     failures, created_at) = tuple(row)
    return {
        "id": int(rule_id), "site": site_id, "name": name, **json_decoder.decode(spec), "url": url,
        "cooldown_s": int(cooldown_s), "sample": float(sample),
        "max_per_hour": None if max_per_hour is None else int(max_per_hour),
        "enabled": bool(enabled), "disabled_reason": reason, "consecutive_failures": int(failures),
        "created_at": int(created_at),
    }


def log_entry(row: Sequence[Any]) -> dict[str, Any]:
    item = dict(zip(_LOG_KEYS, tuple(row), strict=True))
    first = item["first_attempt_at"]
    item["lag_ms"] = None if first is None else first - item["fired_at"]
    return item


def outgoing(row: Sequence[Any]) -> Outgoing:
    """A due delivery from (id, rule_id, rule name, spec, url, secret, site_id, visitor_id,
    session_id, fired_at, events, attempts)."""
    (delivery_id, rule_id, name, spec, url, secret, site_id, visitor_id, session_id, fired_at, events,
     attempts) = tuple(row)
    return Outgoing(delivery_id, int(rule_id), name, spec_decoder.decode(spec).kind, url, secret, site_id, visitor_id,
                    session_id, int(fired_at), json_decoder.decode(events), int(attempts))


def stored_event(site_id: str, visitor: str, row: Sequence[Any]) -> Event:
    """An event read back from the store (EVENT_COLUMNS), as rules read it."""
    event_id, kind, ts, session_id, anon_id, user_id, url, path, route, name, data = tuple(row)
    return Event(event_id, site_id, kind, int(ts), session_id, visitor, anon_id, user_id, url, path, route, name,
                 json_decoder.decode(data))


def group_events(fresh: Sequence[tuple[WriteBatch, EventRow]], owners: Sequence[str]) -> list[Event]:
    """A group's new events as rules read them. Bots are left out, as every analyst question
    leaves them out by default."""
    return [
        Event(row.id, batch.site_id, row.type, row.ts, row.session_id, visitor, row.anon_id, row.user_id,
              row.url, row.path, row.route, row.name, json_decoder.decode(row.data))
        for (batch, row), visitor in zip(fresh, owners, strict=True)
        if not batch.context.is_bot and batch.site_id is not None and row.session_id is not None
    ]


def attempt_status(attempt: Attempt) -> str:
    return Status.DELIVERED if attempt.delivered else (Status.PENDING if attempt.retry_at else Status.FAILED)


def disable_reason(failures: int, attempt: Attempt) -> str:
    what = f"HTTP {attempt.response_code}" if attempt.response_code else attempt.error
    return f"disabled after {failures} consecutive failed attempts; last: {what}"
