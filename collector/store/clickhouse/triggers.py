"""Journey triggers kept in ClickHouse: rules, the outbox (also the delivery log), absence checks.

Evaluation, signing and sending are engine-neutral (collector/triggers/); this module is how this
engine keeps their rows. ClickHouse has no transaction, so the outbox is made of versioned rows:

- Every change of a rule or a delivery (attempted, retried, held, re-sent) writes the whole row
  again with a higher version (ReplacingMergeTree), and every read takes FINAL: the highest
  version of each id is the row. The one writer thread of the process makes every change, each a
  read of the current row and a write of the next version (at least the read version plus one,
  so a clock set back cannot hide a change), so no two changes of a row interleave.
- An insert returns after its part is fsynced (schema.SETTINGS). A group's deliveries and checks
  are inserted after its events and session rows (segment rules read those) and before any of
  its requests is answered: an acknowledged event's deliveries are on disk.
- A collector killed after the events but before the outbox leaves events that were never
  acknowledged; their client sends the batch again, and the events of a retried batch that are
  stored already are evaluated again (read back from the store). Delivery ids are made from what
  fired them, and an id already in the outbox or among the checks (settled ones included: a
  settled check is a deleted version, still found without FINAL) is never queued twice: the
  retry makes exactly the rows the killed group would have made.
- A change lost to a crash leaves the version before it: a delivery whose outcome was not written
  is still pending and is sent again with the same delivery id (at-least-once); a settled check
  whose deliveries were written but whose deleted version was not is settled again, and finds
  its delivery queued already.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Collection, Sequence
from typing import Any

from collector.query.scope import Goal, parse_filters
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.faults import fault_of
from collector.store.clickhouse.reads.scope import filters_sql, human_sql, sessions_in, visitor_sessions_sql
from collector.store.clickhouse.transaction import VERSIONS, Db
from collector.store.model import EventRow, WriteBatch
from collector.triggers.evaluate import Check, Delivery, Ledger, check_delivery, evaluate, fire, possible_ids
from collector.triggers.outbox import Attempt, Outgoing, Status
from collector.triggers.records import (
    EVENT_COLUMNS,
    LOG_COLUMNS,
    PUBLIC_RULE_COLUMNS,
    RULE_COLUMNS,
    attempt_status,
    disable_reason,
    group_events,
    log_entry,
    outgoing,
    public_rule,
    rule,
    stored_event,
)
from collector.triggers.rules import Event, NewRule, Rule, spec_encoder
from collector.wire import json_decoder, json_encoder

log = logging.getLogger("trailmark.triggers")


_RULE_NAMES = ("id", "site_id", "name", "spec", "url", "secret", "cooldown_s", "sample", "max_per_hour", "enabled",
               "disabled_reason", "failures", "created_at")
_DELIVERY_NAMES = ("id", "rule_id", "site_id", "visitor_id", "session_id", "fired_at", "events", "status", "attempts",
                   "next_at", "first_attempt_at", "last_attempt_at", "response_code", "error", "latency_ms")
# Rules that events fire: an alert's webhook rule is fired by its alert's check instead.
FIRED_BY_EVENTS = "JSONExtractString(spec, 'kind') != 'alert'"
_CHECK_NAMES = ("id", "rule_id", "site_id", "visitor_id", "session_id", "start", "start_ts", "due_at")


def _now() -> int:
    return int(time.time() * 1000)


def _version(current: int) -> int:
    """A version above the row's current one, whatever the clock says."""
    return max(VERSIONS.next(), current + 1)


def _rows(db: Db, names: Sequence[str], sql: str) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in db.rows(sql)]


def _put(db: Db, table: str, names: Sequence[str], rows: Sequence[dict[str, Any]], **extra: int) -> None:
    """Write whole rows as their next version (each row's `version` is the one it was read at)."""
    if rows:
        columns = (*names, "version", *extra)
        db.conn.insert(db.t(table), columns,
                       [(*(r[n] for n in names), _version(r.get("version", 0)), *extra.values()) for r in rows])


def _rule_row(db: Db, where: str) -> dict[str, Any] | None:
    found = _rows(db, (*_RULE_NAMES, "version"),
                  f"SELECT {', '.join(_RULE_NAMES)}, version FROM {db.t('trigger_rules')} FINAL WHERE {where}")
    return found[0] if found else None


class ClickHouseLedger(Ledger):
    """The Ledger of one group: reads the stored rows and what this group queued so far; the
    group's rows are written by `flush`, in one insert per table."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._rules: dict[frozenset[str], list[Rule]] = {}
        self._looked: set[str] = set()  # ids looked up in the store
        self._delivered: set[str] = set()  # delivery ids stored or queued
        self._checked: set[str] = set()  # check ids stored (settled ones too) or queued
        self._deliveries: list[dict[str, Any]] = []
        self._fired: dict[tuple[int, str], int] = {}
        self._sent: Counter[int] = Counter()  # deliveries queued per rule (not skipped), all fired now
        self._checks: list[Check] = []

    def rules(self, site_ids: Collection[str]) -> list[Rule]:
        key = frozenset(site_ids)
        if key not in self._rules:
            self._rules[key] = [rule(r) for r in self.db.rows(
                f"SELECT {RULE_COLUMNS} FROM {self.db.t('trigger_rules')} FINAL"
                f" WHERE enabled = 1 AND {FIRED_BY_EVENTS} AND site_id IN {lits(sorted(key))} ORDER BY id"
            )] if key else []
        return self._rules[key]

    def preload(self, ids: Collection[str]) -> None:
        """Look up at once which of these ids the outbox holds, and which the checks (settled ones
        too: without FINAL, their deleted versions are found)."""
        ids = set(ids) - self._looked
        if ids:
            wanted = lits(sorted(ids))
            self._looked |= ids
            for table, known in (("trigger_deliveries", self._delivered), ("trigger_checks", self._checked)):
                found = self.db.rows(f"SELECT DISTINCT id FROM {self.db.t(table)} WHERE id IN {wanted}")
                known.update(r[0] for r in found)

    def sessions_in_segment(self, site_id: str, segment_id: int, session_ids: Sequence[str]) -> set[str] | None:
        db = self.db
        found = db.rows(f"SELECT filters FROM {db.t('segments')} FINAL"
                        f" WHERE id = {lit(segment_id)} AND site_id = {lit(site_id)}")
        if not found:
            return None
        settings = db.rows(f"SELECT settings FROM {db.t('sites')} FINAL WHERE id = {lit(site_id)}")
        goal = Goal.of_site(json_decoder.decode(settings[0][0]) if settings else {})
        where = filters_sql(db.layout, site_id, parse_filters(json_decoder.decode(found[0][0])), goal)
        rows = db.rows(
            f"SELECT s.id FROM {sessions_in(db.layout)} WHERE " + " AND ".join([
                f"s.site_id = {lit(site_id)}", human_sql("s"), f"s.id IN {lits(list(session_ids))}", *where,
            ])
        )
        return {r[0] for r in rows}

    def last_fired(self, rule_id: int, visitor_id: str) -> int | None:
        if (rule_id, visitor_id) in self._fired:
            return self._fired[(rule_id, visitor_id)]
        ((at,),) = self.db.rows(f"SELECT maxOrNull(at) FROM {self.db.t('trigger_fired')}"
                                f" WHERE rule_id = {lit(rule_id)} AND visitor_id = {lit(visitor_id)}")
        return None if at is None else int(at)

    def fired_since(self, rule_id: int, since: int) -> int:
        ((count,),) = self.db.rows(
            f"SELECT count() FROM {self.db.t('trigger_deliveries')} FINAL WHERE rule_id = {lit(rule_id)}"
            f" AND fired_at >= {lit(since)} AND status NOT LIKE 'skipped%'"
        )
        return int(count) + self._sent[rule_id]

    def mark_fired(self, rule_id: int, visitor_id: str, at: int) -> None:
        key = (rule_id, visitor_id)
        self._fired[key] = max(at, self._fired.get(key, at))

    def enqueue(self, delivery: Delivery, status: str = Status.PENDING) -> bool:
        self.preload([delivery.id])  # a lookup only when it was not preloaded
        if delivery.id in self._delivered:
            return False
        self._delivered.add(delivery.id)
        pending = status == Status.PENDING
        self._sent[delivery.rule_id] += pending
        self._deliveries.append({
            "id": delivery.id, "rule_id": delivery.rule_id, "site_id": delivery.site_id,
            "visitor_id": delivery.visitor_id, "session_id": delivery.session_id, "fired_at": delivery.fired_at,
            "events": json_encoder.encode(delivery.events).decode(), "status": status, "attempts": 0,
            "next_at": delivery.fired_at if pending else None, "first_attempt_at": None, "last_attempt_at": None,
            "response_code": None, "error": None, "latency_ms": None,
        })
        return True

    def add_checks(self, checks: Sequence[Check]) -> None:
        # A check already made (by a group replayed after a crash) is not made again.
        self.preload([c.id for c in checks])
        self._checks += [c for c in checks if c.id not in self._checked]
        self._checked.update(c.id for c in checks)

    def flush(self) -> None:
        db = self.db
        _put(db, "trigger_deliveries", _DELIVERY_NAMES, self._deliveries)
        _put(db, "trigger_checks", _CHECK_NAMES, [_check_row(c) for c in self._checks], deleted=0)
        if self._fired:
            db.conn.insert(db.t("trigger_fired"), ("rule_id", "visitor_id", "at"),
                           [(r, v, at) for (r, v), at in self._fired.items()])
        self._deliveries, self._checks, self._fired = [], [], {}


def _check_row(check: Check) -> dict[str, Any]:
    return {"id": check.id, "rule_id": check.rule_id, "site_id": check.site_id, "visitor_id": check.visitor_id,
            "session_id": check.session_id, "start": json_encoder.encode(check.start).decode(),
            "start_ts": check.start_ts, "due_at": check.due_at}


# -- in the group apply ---------------------------------------------------------------------


def _stored_again(db: Db, batches: Sequence[WriteBatch], fresh_ids: set[tuple[str, str]]) -> list[Event]:
    """The events of these batches that were stored before this group (a retried batch), read
    back with their session's visitor; bots left out."""
    wanted: dict[str, list[str]] = {}
    for batch in batches:
        if batch.site_id is not None and not batch.context.is_bot:
            wanted.setdefault(batch.site_id, []).extend(
                row.id for row in batch.events if (batch.site_id, row.id) not in fresh_ids
            )
    events = []
    for site_id, ids in wanted.items():
        if ids:
            site = lit(site_id)
            rows = db.rows(
                f"SELECT s.visitor_id, {EVENT_COLUMNS} FROM {db.t('events')} AS e"
                f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id FROM {sessions_in(db.layout)}"
                f" WHERE s.site_id = {site} AND {human_sql('s')}) AS s ON s.id = e.session_id"
                f" WHERE e.site_id = {site} AND e.id IN {lits(ids)} ORDER BY e.seq"
            )
            events += [stored_event(site_id, r[0], r[1:]) for r in rows]
    return events


def evaluate_group(
    db: Db, batches: Sequence[WriteBatch], fresh: Sequence[tuple[WriteBatch, EventRow]], owners: Sequence[str]
) -> int:
    """Fire rules on a group's events once they are stored; the deliveries and checks made.

    A fault of ours here is logged and costs this group its triggers, never its events; a store
    fault fails the group, whose requests are then answered 503 and retried.
    """
    sites = {b.site_id for b in batches if b.site_id is not None and b.events}
    ledger = ClickHouseLedger(db)
    try:
        rules = ledger.rules(sites)
        if not rules:
            return 0
        events = group_events(fresh, owners)
        events += _stored_again(db, batches, {(b.site_id or "", r.id) for b, r in fresh})
        ledger.preload(possible_ids(rules, events))
        made = evaluate(ledger, events, _now())
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not cost the events
        if fault_of(exc) is not None:
            raise
        log.exception("trigger evaluation failed; this group's events are stored without their triggers")
        return 0
    ledger.flush()
    return made


def queue(db: Db, delivery: Delivery, now: int) -> bool:
    """Queue a delivery made outside a group (an alert that fired) if its rule is enabled and
    admits it; False when it does not, or when this delivery was queued already."""
    found = _enabled_rules(db, {delivery.rule_id}).get(delivery.rule_id)
    if found is None or found.site_id != delivery.site_id:
        return False
    ledger = ClickHouseLedger(db)
    made = fire(ledger, found, delivery, now)
    ledger.flush()
    return made


# -- rules (admin writes on the writer) -------------------------------------------------------


def list_rules(db: Db, site_id: str) -> list[dict[str, Any]]:
    rows = db.rows(f"SELECT {PUBLIC_RULE_COLUMNS} FROM {db.t('trigger_rules')} FINAL"
                   f" WHERE site_id = {lit(site_id)} ORDER BY id")
    return [public_rule(r) for r in rows]


def get_rule(db: Db, site_id: str, rule_id: int) -> dict[str, Any] | None:
    rows = db.rows(f"SELECT {PUBLIC_RULE_COLUMNS} FROM {db.t('trigger_rules')} FINAL"
                   f" WHERE id = {lit(int(rule_id))} AND site_id = {lit(site_id)}")
    return public_rule(rows[0]) if rows else None


def create_rule(db: Db, site_id: str, new: NewRule, secret: str) -> dict[str, Any]:
    # Above every id ever given (deleted rules included): a delivery id is made from its rule's id.
    ((top,),) = db.rows(f"SELECT max(id) FROM {db.t('trigger_rules')}")
    row = {"id": int(top) + 1, "site_id": site_id, "name": new.name, "spec": spec_encoder.encode(new.spec()).decode(),
           "url": new.url, "secret": secret, "cooldown_s": new.cooldown_s, "sample": new.sample,
           "max_per_hour": new.max_per_hour, "enabled": 1, "disabled_reason": None, "failures": 0,
           "created_at": _now()}
    _put(db, "trigger_rules", _RULE_NAMES, [row], deleted=0)
    found = get_rule(db, site_id, int(top) + 1)
    assert found is not None
    return found


def update_rule(db: Db, site_id: str, rule_id: int, changes: dict[str, object]) -> dict[str, Any] | None:
    """Change a rule; disabling holds its pending deliveries, enabling sends them and clears the failures."""
    row = _rule_row(db, f"id = {lit(int(rule_id))} AND site_id = {lit(site_id)}")
    if row is None:
        return None
    fields = dict(changes)
    enabled = fields.pop("enabled", None)
    row.update(fields)  # names come from RuleChange, never from the client
    if enabled is not None:
        _set_enabled(db, row, bool(enabled), None)
    _put(db, "trigger_rules", _RULE_NAMES, [row], deleted=0)
    return get_rule(db, site_id, rule_id)


def _set_enabled(db: Db, row: dict[str, Any], enabled: bool, reason: str | None) -> None:
    """Enable or disable a rule row (the caller writes it); its held or pending deliveries follow."""
    if enabled:
        row.update(enabled=1, disabled_reason=None, failures=0)
        before, after, next_at = Status.HELD, Status.PENDING, _now()
    else:
        row.update(enabled=0, disabled_reason=reason)
        before, after, next_at = Status.PENDING, Status.HELD, None
    moved = _rows(db, (*_DELIVERY_NAMES, "version"),
                  f"SELECT {', '.join(_DELIVERY_NAMES)}, version FROM {db.t('trigger_deliveries')} FINAL"
                  f" WHERE rule_id = {lit(row['id'])} AND status = {lit(before)}")
    for delivery in moved:
        delivery.update(status=after, next_at=next_at)
    _put(db, "trigger_deliveries", _DELIVERY_NAMES, moved)


def delete_rule(db: Db, site_id: str, rule_id: int) -> bool:
    row = _rule_row(db, f"id = {lit(int(rule_id))} AND site_id = {lit(site_id)}")
    if row is None:
        return False
    _put(db, "trigger_rules", _RULE_NAMES, [row], deleted=1)
    for table in ("trigger_deliveries", "trigger_checks", "trigger_fired"):
        db.delete(table, f"rule_id = {lit(int(rule_id))}")
    return True


def deliveries(db: Db, site_id: str, rule_id: int, limit: int) -> list[dict[str, Any]]:
    rows = db.rows(
        f"SELECT {LOG_COLUMNS} FROM {db.t('trigger_deliveries')} FINAL WHERE rule_id = {lit(int(rule_id))}"
        f" AND rule_id IN (SELECT id FROM {db.t('trigger_rules')} FINAL WHERE site_id = {lit(site_id)})"
        f" ORDER BY fired_at DESC, id LIMIT {int(limit)}"
    )
    return [log_entry(r) for r in rows]


# -- the delivery loop --------------------------------------------------------------------------


def next_due(db: Db) -> int | None:
    """The earliest time a delivery or an absence check is due."""
    ((delivery,),) = db.rows(
        f"SELECT minOrNull(next_at) FROM {db.t('trigger_deliveries')} FINAL WHERE next_at IS NOT NULL"
    )
    ((check,),) = db.rows(f"SELECT minOrNull(due_at) FROM {db.t('trigger_checks')} FINAL")
    due = [int(t) for t in (delivery, check) if t is not None]
    return min(due) if due else None


def due_deliveries(db: Db, now: int, limit: int) -> list[Outgoing]:
    rows = db.rows(
        "SELECT d.id, d.rule_id, r.name, r.spec, r.url, r.secret, d.site_id, d.visitor_id, d.session_id,"
        f" d.fired_at, d.events, d.attempts FROM {db.t('trigger_deliveries')} AS d FINAL"
        f" INNER JOIN (SELECT id, name, spec, url, secret FROM {db.t('trigger_rules')} FINAL WHERE enabled = 1) AS r"
        f" ON r.id = d.rule_id WHERE d.next_at IS NOT NULL AND d.next_at <= {lit(now)}"
        f" ORDER BY d.next_at LIMIT {int(limit)}"
    )
    return [outgoing(r) for r in rows]


def record_attempt(db: Db, attempt: Attempt) -> None:
    """Log an attempt on its delivery; count the rule's consecutive failures, disabling it at the limit."""
    found = _rows(db, (*_DELIVERY_NAMES, "version"),
                  f"SELECT {', '.join(_DELIVERY_NAMES)}, version FROM {db.t('trigger_deliveries')} FINAL"
                  f" WHERE id = {lit(attempt.delivery_id)}")
    if not found:  # its rule was deleted meanwhile
        return
    delivery = found[0]
    delivery.update(
        status=attempt_status(attempt), attempts=delivery["attempts"] + 1, next_at=attempt.retry_at,
        first_attempt_at=delivery["first_attempt_at"] if delivery["first_attempt_at"] is not None else attempt.at,
        last_attempt_at=attempt.at, response_code=attempt.response_code, error=attempt.error,
        latency_ms=attempt.latency_ms,
    )
    _put(db, "trigger_deliveries", _DELIVERY_NAMES, [delivery])
    row = _rule_row(db, f"id = {lit(attempt.rule_id)}")
    if row is None:
        return
    row["failures"] = 0 if attempt.delivered else row["failures"] + 1
    if not attempt.delivered and row["enabled"] and row["failures"] >= attempt.disable_after:
        _set_enabled(db, row, False, disable_reason(row["failures"], attempt))
    _put(db, "trigger_rules", _RULE_NAMES, [row], deleted=0)


def _enabled_rules(db: Db, ids: Collection[int]) -> dict[int, Rule]:
    if not ids:
        return {}
    rows = db.rows(f"SELECT {RULE_COLUMNS} FROM {db.t('trigger_rules')} FINAL"
                   f" WHERE enabled = 1 AND id IN {lits(sorted(ids))}")
    return {found.id: found for found in map(rule, rows)}


def due_checks(db: Db, now: int, limit: int) -> list[tuple[Check, Rule | None]]:
    rows = db.rows(f"SELECT {', '.join(_CHECK_NAMES)} FROM {db.t('trigger_checks')} FINAL"
                   f" WHERE due_at <= {lit(now)} ORDER BY due_at LIMIT {int(limit)}")
    checks = [
        Check(i, int(rule_id), site_id, visitor_id, session_id, json_decoder.decode(start), int(start_ts), int(due_at))
        for i, rule_id, site_id, visitor_id, session_id, start, start_ts, due_at in rows
    ]
    rules = _enabled_rules(db, {c.rule_id for c in checks})
    return [(check, rules.get(check.rule_id)) for check in checks]


def visitor_events(db: Db, check: Check, types: Collection[str]) -> list[Event]:
    """The events of the check's visitor in its window. The visitor is read from the start
    session, so an identify in between (which relinks sessions to the user) is followed."""
    site = lit(check.site_id)
    found = db.rows(f"SELECT visitor_id FROM {db.t('sessions')} FINAL WHERE site_id = {site}"
                    f" AND id = {lit(check.session_id)}")
    visitor = found[0][0] if found else check.visitor_id
    rows = db.rows(
        f"SELECT {EVENT_COLUMNS} FROM {db.t('events')} AS e WHERE e.site_id = {site}"
        f" AND e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE s.site_id = {site}"
        f" AND {visitor_sessions_sql(db.layout, check.site_id, visitor)} AND s.last_ts >= {lit(check.start_ts)})"
        f" AND e.type IN {lits(sorted(types))} AND e.ts BETWEEN {lit(check.start_ts)} AND {lit(check.due_at)}"
    )
    return [stored_event(check.site_id, visitor, r) for r in rows]


def settle_checks(db: Db, settled: Sequence[tuple[Check, bool]], now: int) -> int:
    """Drop due checks, queueing the delivery of each one marked to send whose rule still admits
    it; the number of deliveries queued. The deliveries are written before the checks are
    dropped: a crash between leaves checks that are settled again and find their delivery queued."""
    if not settled:
        return 0
    present = {
        (int(due), i) for due, i in db.rows(
            f"SELECT due_at, id FROM {db.t('trigger_checks')} FINAL WHERE id IN {lits([c.id for c, _ in settled])}"
        )
    }
    ledger = ClickHouseLedger(db)
    ledger.preload([c.id for c, send in settled if send])
    rules = _enabled_rules(db, {c.rule_id for c, send in settled if send})
    made = 0
    for check, send in settled:
        found = rules.get(check.rule_id)
        if send and found is not None and (check.due_at, check.id) in present:
            made += fire(ledger, found, check_delivery(check), now)
    ledger.flush()
    gone = [_check_row(c) for c, _send in settled if (c.due_at, c.id) in present]
    _put(db, "trigger_checks", _CHECK_NAMES, gone, deleted=1)
    return made
