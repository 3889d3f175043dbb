"""Journey triggers kept in SQLite: rules, the outbox (also the delivery log), absence checks.

Evaluation itself is engine-neutral (collector/triggers/evaluate.py); this module is its SQL.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Collection, Sequence
from typing import Any

from collector.query.scope import Goal, parse_filters
from collector.store.model import EventRow, WriteBatch
from collector.store.sqlite.connection import transaction
from collector.store.sqlite.faults import fault_of
from collector.store.sqlite.reads.scope import filters_sql, human_sql
from collector.triggers.evaluate import Check, Delivery, Ledger, check_delivery, evaluate, fire
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
# Rules that events fire: an alert's webhook rule is fired by its alert's check instead.
_FIRED_BY_EVENTS = "json_extract(spec, '$.kind') <> 'alert'"


def _now() -> int:
    return int(time.time() * 1000)


class SQLiteLedger(Ledger):
    """The Ledger on the writer's connection, inside its open transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rules(self, site_ids: Collection[str]) -> list[Rule]:
        rows = self.conn.execute(
            f"SELECT {RULE_COLUMNS} FROM trigger_rules"
            f" WHERE enabled = 1 AND {_FIRED_BY_EVENTS} AND site_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json_encoder.encode(sorted(site_ids)).decode(),),
        )
        return [rule(r) for r in rows]

    def sessions_in_segment(self, site_id: str, segment_id: int, session_ids: Sequence[str]) -> set[str] | None:
        found = self.conn.execute(
            "SELECT filters FROM segments WHERE id = ? AND site_id = ?", (segment_id, site_id)
        ).fetchone()
        if found is None:
            return None
        settings = self.conn.execute("SELECT settings FROM sites WHERE id = ?", (site_id,)).fetchone()
        goal = Goal.of_site(json_decoder.decode(settings[0]) if settings else {})
        where, args = filters_sql(parse_filters(json_decoder.decode(found[0])), goal)
        sql = (
            f"SELECT s.id FROM sessions s WHERE s.site_id = ? AND {human_sql('s')}"
            " AND s.id IN (SELECT value FROM json_each(?))"
        )
        rows = self.conn.execute(
            " AND ".join([sql, *where]), [site_id, json_encoder.encode(list(session_ids)).decode(), *args]
        )
        return {r[0] for r in rows}

    def last_fired(self, rule_id: int, visitor_id: str) -> int | None:
        row = self.conn.execute(
            "SELECT at FROM trigger_fired WHERE rule_id = ? AND visitor_id = ?", (rule_id, visitor_id)
        ).fetchone()
        return None if row is None else int(row[0])

    def fired_since(self, rule_id: int, since: int) -> int:
        (count,) = self.conn.execute(
            "SELECT count(*) FROM trigger_deliveries WHERE rule_id = ? AND fired_at >= ?"
            " AND status NOT LIKE 'skipped%'",
            (rule_id, since),
        ).fetchone()
        return int(count)

    def mark_fired(self, rule_id: int, visitor_id: str, at: int) -> None:
        self.conn.execute(
            "INSERT INTO trigger_fired (rule_id, visitor_id, at) VALUES (?, ?, ?)"
            " ON CONFLICT (rule_id, visitor_id) DO UPDATE SET at = max(at, excluded.at)",
            (rule_id, visitor_id, at),
        )

    def enqueue(self, delivery: Delivery, status: str = Status.PENDING) -> bool:
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO trigger_deliveries"
            " (id, rule_id, site_id, visitor_id, session_id, fired_at, events, status, next_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (delivery.id, delivery.rule_id, delivery.site_id, delivery.visitor_id, delivery.session_id,
             delivery.fired_at, json_encoder.encode(delivery.events).decode(), status,
             delivery.fired_at if status == Status.PENDING else None),
        )
        return cursor.rowcount > 0

    def add_checks(self, checks: Sequence[Check]) -> None:
        self.conn.executemany(
            "INSERT INTO trigger_checks"
            " (id, rule_id, site_id, visitor_id, session_id, start, start_ts, due_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(c.id, c.rule_id, c.site_id, c.visitor_id, c.session_id, json_encoder.encode(c.start).decode(),
              c.start_ts, c.due_at) for c in checks],
        )


# -- in the group commit --------------------------------------------------------------------


def evaluate_group(
    conn: sqlite3.Connection, fresh: Sequence[tuple[WriteBatch, EventRow]], owners: Sequence[str]
) -> int:
    """Fire rules on a group's new events, in its transaction; the deliveries and checks made.

    In a savepoint: a fault of ours here is logged and costs this group its triggers, never
    its events. A store fault (disk full, locked) still fails the whole group, as it should.
    """
    events = group_events(fresh, owners)
    if not events:
        return 0
    site_ids = {e.site_id for e in events}
    if conn.execute(
        f"SELECT 1 FROM trigger_rules WHERE enabled = 1 AND {_FIRED_BY_EVENTS}"
        " AND site_id IN (SELECT value FROM json_each(?)) LIMIT 1",
        (json_encoder.encode(sorted(site_ids)).decode(),),
    ).fetchone() is None:
        return 0
    conn.execute("SAVEPOINT triggers")
    try:
        made = evaluate(SQLiteLedger(conn), events, _now())
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not cost the events
        if fault_of(exc) is not None:  # the store's fault: the group fails and is retried
            raise
        log.exception("trigger evaluation failed; this group's events are stored without their triggers")
        conn.execute("ROLLBACK TO triggers")
        made = 0
    conn.execute("RELEASE triggers")
    return made


def queue(conn: sqlite3.Connection, delivery: Delivery, now: int) -> bool:
    """Queue a delivery made outside a group commit (an alert that fired) if its rule is enabled
    and admits it; False when it does not, or when this delivery was queued already."""
    with transaction(conn):
        row = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM trigger_rules WHERE id = ? AND site_id = ? AND enabled = 1",
            (delivery.rule_id, delivery.site_id),
        ).fetchone()
        return row is not None and fire(SQLiteLedger(conn), rule(row), delivery, now)


# -- rules (admin writes on the writer, reads on a reader) ------------------------------------


def list_rules(conn: sqlite3.Connection, site_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(f"SELECT {PUBLIC_RULE_COLUMNS} FROM trigger_rules WHERE site_id = ? ORDER BY id", (site_id,))
    return [public_rule(r) for r in rows]


def get_rule(conn: sqlite3.Connection, site_id: str, rule_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {PUBLIC_RULE_COLUMNS} FROM trigger_rules WHERE id = ? AND site_id = ?", (rule_id, site_id)
    ).fetchone()
    return None if row is None else public_rule(row)


def create_rule(conn: sqlite3.Connection, site_id: str, new: NewRule, secret: str) -> dict[str, Any]:
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO trigger_rules (site_id, name, spec, url, secret, cooldown_s, sample, max_per_hour,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (site_id, new.name, spec_encoder.encode(new.spec()).decode(), new.url, secret, new.cooldown_s,
             new.sample, new.max_per_hour, _now()),
        )
        rule_id = int(cursor.lastrowid or 0)
    found = get_rule(conn, site_id, rule_id)
    assert found is not None
    return found


def update_rule(
    conn: sqlite3.Connection, site_id: str, rule_id: int, changes: dict[str, object]
) -> dict[str, Any] | None:
    """Change a rule; disabling holds its pending deliveries, enabling sends them and clears the failures."""
    with transaction(conn):
        row = conn.execute(
            "SELECT enabled FROM trigger_rules WHERE id = ? AND site_id = ?", (rule_id, site_id)
        ).fetchone()
        if row is None:
            return None
        fields = dict(changes)
        enabled = fields.pop("enabled", None)
        for column, value in fields.items():  # names come from RuleChange, never from the client
            conn.execute(f"UPDATE trigger_rules SET {column} = ? WHERE id = ?", (value, rule_id))
        if enabled is not None:
            set_enabled(conn, rule_id, bool(enabled), None)
    return get_rule(conn, site_id, rule_id)


def set_enabled(conn: sqlite3.Connection, rule_id: int, enabled: bool, reason: str | None) -> None:
    """Enable or disable a rule, inside the caller's transaction."""
    if enabled:
        conn.execute(
            "UPDATE trigger_rules SET enabled = 1, disabled_reason = NULL, failures = 0 WHERE id = ?", (rule_id,)
        )
        conn.execute(
            "UPDATE trigger_deliveries SET status = ?, next_at = ? WHERE rule_id = ? AND status = ?",
            (Status.PENDING, _now(), rule_id, Status.HELD),
        )
    else:
        conn.execute("UPDATE trigger_rules SET enabled = 0, disabled_reason = ? WHERE id = ?", (reason, rule_id))
        conn.execute(
            "UPDATE trigger_deliveries SET status = ?, next_at = NULL WHERE rule_id = ? AND status = ?",
            (Status.HELD, rule_id, Status.PENDING),
        )


def delete_rule(conn: sqlite3.Connection, site_id: str, rule_id: int) -> bool:
    with transaction(conn):
        cursor = conn.execute("DELETE FROM trigger_rules WHERE id = ? AND site_id = ?", (rule_id, site_id))
        if cursor.rowcount:
            for table in ("trigger_deliveries", "trigger_checks", "trigger_fired"):
                conn.execute(f"DELETE FROM {table} WHERE rule_id = ?", (rule_id,))
    return cursor.rowcount > 0


def deliveries(conn: sqlite3.Connection, site_id: str, rule_id: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {LOG_COLUMNS} FROM trigger_deliveries"
        " WHERE rule_id = ? AND rule_id IN (SELECT id FROM trigger_rules WHERE site_id = ?)"
        " ORDER BY fired_at DESC, id LIMIT ?",
        (rule_id, site_id, limit),
    )
    return [log_entry(r) for r in rows]


# -- the delivery loop --------------------------------------------------------------------------


def next_due(conn: sqlite3.Connection) -> int | None:
    """The earliest time a delivery or an absence check is due (both read through an index)."""
    (delivery,) = conn.execute("SELECT min(next_at) FROM trigger_deliveries WHERE next_at IS NOT NULL").fetchone()
    (check,) = conn.execute("SELECT min(due_at) FROM trigger_checks").fetchone()
    due = [t for t in (delivery, check) if t is not None]
    return min(due) if due else None


def due_deliveries(conn: sqlite3.Connection, now: int, limit: int) -> list[Outgoing]:
    rows = conn.execute(
        "SELECT d.id, d.rule_id, r.name, r.spec, r.url, r.secret, d.site_id, d.visitor_id, d.session_id,"
        " d.fired_at, d.events, d.attempts FROM trigger_deliveries d JOIN trigger_rules r ON r.id = d.rule_id"
        " WHERE d.next_at IS NOT NULL AND d.next_at <= ? AND r.enabled = 1 ORDER BY d.next_at LIMIT ?",
        (now, limit),
    )
    return [outgoing(r) for r in rows]


def record_attempt(conn: sqlite3.Connection, attempt: Attempt) -> None:
    """Log an attempt on its delivery; count the rule's consecutive failures, disabling it at the limit."""
    status = attempt_status(attempt)
    with transaction(conn):
        conn.execute(
            "UPDATE trigger_deliveries SET status = ?, attempts = attempts + 1, next_at = ?,"
            " first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?, response_code = ?,"
            " error = ?, latency_ms = ? WHERE id = ?",
            (status, attempt.retry_at, attempt.at, attempt.at, attempt.response_code, attempt.error,
             attempt.latency_ms, attempt.delivery_id),
        )
        if attempt.delivered:
            conn.execute("UPDATE trigger_rules SET failures = 0 WHERE id = ?", (attempt.rule_id,))
            return
        conn.execute("UPDATE trigger_rules SET failures = failures + 1 WHERE id = ?", (attempt.rule_id,))
        row = conn.execute("SELECT failures, enabled FROM trigger_rules WHERE id = ?", (attempt.rule_id,)).fetchone()
        if row is not None and row[1] and row[0] >= attempt.disable_after:
            set_enabled(conn, attempt.rule_id, False, disable_reason(row[0], attempt))


def due_checks(conn: sqlite3.Connection, now: int, limit: int) -> list[tuple[Check, Rule | None]]:
    rows = conn.execute(
        "SELECT c.id, c.rule_id, c.site_id, c.visitor_id, c.session_id, c.start, c.start_ts, c.due_at,"
        " r.id, r.site_id, r.name, r.spec, r.cooldown_s, r.sample, r.max_per_hour"
        " FROM trigger_checks c LEFT JOIN trigger_rules r ON r.id = c.rule_id AND r.enabled = 1"
        " WHERE c.due_at <= ? ORDER BY c.due_at LIMIT ?",
        (now, limit),
    )
    out = []
    for row in rows:
        check = Check(row[0], row[1], row[2], row[3], row[4], json_decoder.decode(row[5]), row[6], row[7])
        out.append((check, None if row[8] is None else rule(row[8:])))
    return out


def visitor_events(conn: sqlite3.Connection, check: Check, types: Collection[str]) -> list[Event]:
    """The events of the check's visitor in its window: their sessions by the visitor index, then
    each session's events by type and time. The visitor is read from the start session, so an
    identify in between (which relinks sessions to the user) is followed."""
    found = conn.execute(
        "SELECT visitor_id FROM sessions WHERE site_id = ? AND id = ?", (check.site_id, check.session_id)
    ).fetchone()
    visitor = found[0] if found else check.visitor_id
    rows = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        " WHERE s.site_id = ? AND s.visitor_id = ? AND s.last_ts >= ?"
        " AND e.type IN (SELECT value FROM json_each(?)) AND e.ts BETWEEN ? AND ?",
        (check.site_id, visitor, check.start_ts, json_encoder.encode(sorted(types)).decode(),
         check.start_ts, check.due_at),
    )
    return [stored_event(check.site_id, visitor, r) for r in rows]


def settle_checks(conn: sqlite3.Connection, settled: Sequence[tuple[Check, bool]], now: int) -> int:
    """Drop due checks in one transaction, enqueueing the delivery of each one marked to send
    whose rule still admits it; the number of deliveries queued."""
    made = 0
    with transaction(conn):
        ledger = SQLiteLedger(conn)
        rules: dict[int, Rule | None] = {}
        for check, send in settled:
            cursor = conn.execute(
                "DELETE FROM trigger_checks WHERE due_at = ? AND id = ?", (check.due_at, check.id)
            )
            if not cursor.rowcount or not send:
                continue
            if check.rule_id not in rules:
                row = conn.execute(
                    f"SELECT {RULE_COLUMNS} FROM trigger_rules WHERE id = ? AND enabled = 1", (check.rule_id,),
                ).fetchone()
                rules[check.rule_id] = None if row is None else rule(row)
            found = rules[check.rule_id]
            if found is not None:
                made += fire(ledger, found, check_delivery(check), now)
    return made
