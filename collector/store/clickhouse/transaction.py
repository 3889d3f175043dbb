"""One group commit on ClickHouse: dedup, identities, sessionizing and session rows, then the inserts.

ClickHouse has no multi-statement transaction, so the rules SQLite applies inside one are applied
here by the single writer: it looks up what the group needs (known event ids, identities, the
sessions it touches), works out every new row in Python with exactly SQLite's upsert rules, and
inserts them: events first, then the rows derived from them. The requests wait for all of it.
In place of SQLite's all-or-nothing, a group's events stored without their session rows are
deleted (at once when the session insert fails, on opening after a kill): never acknowledged,
they are sent again and stored with their rows; every row after the sessions is made again by
that retry (docs/deployment.md, "How ClickHouse keeps the promises").
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from collector.query.definitions import person
from collector.store.clickhouse import event_ids, views
from collector.store.clickhouse.client import Connection, lit, lits, many
from collector.store.clickhouse.memory import Memory
from collector.store.clickhouse.reads.scope import visitor_sessions_sql, visitors_ids_sql
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES, Layout
from collector.store.model import Context, EventRow, WriteBatch, WriteResult
from collector.store.sessions import (
    ACQUISITION_COLUMNS,
    CONTEXT_COLUMNS,
    SESSION_GAP_MS,
    SESSION_NS,
    SUM_COLUMNS,
    SessionRollup,
    Visitor,
)
from collector.wire import json_encoder, object_decoder

log = logging.getLogger("trailmark.store")


class Versions:
    """Rising version numbers for replaced rows: nanoseconds, never repeating within a process."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        return self.reserve(1)

    def reserve(self, n: int) -> int:
        """The first of `n` numbers in a row (at least one is taken): every later number is larger."""
        with self._lock:
            first = max(self._last + 1, time.time_ns())
            self._last = first + max(n, 1) - 1
            return first

    def advance(self, past: int) -> None:
        """Every later number larger than `past` (a number a store holds, from an earlier process)."""
        with self._lock:
            self._last = max(self._last, past)


VERSIONS = Versions()
# A session row as the writer reads, merges and writes it: SQLite's columns, and what views.py keeps.
ROW_NAMES = (*SESSION_NAMES, "views", "scrolls")


def seen(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Versioned rows read back to be written again, whose version is their last column: every
    later version of this process is larger than theirs. Collectors sharing a server store number
    versions by their own clocks; without this, a row rewritten by a collector whose clock is behind
    the one that wrote it last would lose to that older row (ReplacingMergeTree keeps the largest)."""
    if rows:
        VERSIONS.advance(max(int(row[-1]) for row in rows))
    return rows


class Db:
    """A connection and where its tables are."""

    def __init__(self, conn: Connection, layout: Layout) -> None:
        self.conn = conn
        self.layout = layout
        # The seqs of a group's events stored without its session rows, until they are deleted.
        self.unfinished: tuple[int, int] | None = None

    def t(self, name: str) -> str:
        return self.layout.table(name)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.conn.rows(sql)

    def delete(self, table: str, where: str) -> None:
        """Rows gone for good: a mutation that rewrites the parts holding them, waited for (deleted
        events take their ids with them: event_ids.py)."""
        if table == "events":
            event_ids.forget(self.conn, self.layout, where)
        if self.layout.cluster:
            self.conn.command(f"ALTER TABLE {self.t(table)}_local{self.layout.on_cluster} DELETE WHERE {where}"
                              " SETTINGS mutations_sync = 2")
        else:
            self.conn.command(f"ALTER TABLE {self.t(table)} DELETE WHERE {where} SETTINGS mutations_sync = 2")

    def sessions(self, site_id: str, where: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Stored session rows of a site matching `where`, by (site, id)."""
        found = self.rows(
            f"SELECT {', '.join(ROW_NAMES)}, version FROM {self.t('sessions')} FINAL"
            f" WHERE site_id = {lit(site_id)} AND ({where})"
        )
        return {(site_id, row[1]): dict(zip(ROW_NAMES, row[:-1], strict=True)) for row in seen(found)}


class _Session(SessionRollup):
    """The rollup of one session's new events within a group, as this engine stores it."""

    __slots__ = ("views", "scrolls")

    def __init__(self, site_id: str, session_id: str, context: Context) -> None:
        super().__init__(site_id, session_id, context)
        self.views: list[views.View] = []  # its new pageviews and scroll reports (views.py)
        self.scrolls: list[views.Scroll] = []

    def row(self) -> dict[str, Any]:
        """This rollup as a new session row (what SQLite's INSERT branch stores)."""
        entry, exit_, context = self.entry, self.exit, self.context
        acquisition = entry.acquisition if entry is not None else None
        row: dict[str, Any] = {
            "site_id": self.site_id, "id": self.id, "visitor_id": self.visitor_id,
            "anon_id": self.anon_id, "user_id": self.user_id, "verified_user": self.verified_user,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts, "duration_ms": self.last_ts - self.first_ts,
            "entry_ts": entry.ts if entry else None, "entry_url": entry.url if entry else None,
            "exit_ts": exit_.ts if exit_ else None, "exit_url": exit_.url if exit_ else None,
            "vw": self.vw, "vh": self.vh,
        }
        for c in ACQUISITION_COLUMNS:
            row[c] = getattr(acquisition, c) if acquisition is not None else None
        row.update(self.sums)
        for c in CONTEXT_COLUMNS:
            row[c] = getattr(context, c)
        row["is_bot"] = int(bool(context.is_bot))
        row["has_replay"] = 0
        row["replay_bytes"] = 0
        row["views"] = views.merged((), self.views)
        row["scrolls"] = self.scrolls
        return row


def merge_session(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A stored session updated by a group's rollup: SQLite's ON CONFLICT DO UPDATE, field by field."""
    merged = dict(old)
    merged["first_ts"] = min(old["first_ts"], new["first_ts"])
    merged["last_ts"] = max(old["last_ts"], new["last_ts"])
    merged["duration_ms"] = merged["last_ts"] - merged["first_ts"]
    if new["entry_ts"] is not None and (old["entry_ts"] is None or new["entry_ts"] < old["entry_ts"]):
        for c in ("entry_ts", "entry_url", *ACQUISITION_COLUMNS):
            merged[c] = new[c]
    if new["exit_ts"] is not None and (old["exit_ts"] is None or new["exit_ts"] >= old["exit_ts"]):
        merged["exit_ts"], merged["exit_url"] = new["exit_ts"], new["exit_url"]
    merged["anon_id"] = old["anon_id"] if old["anon_id"] is not None else new["anon_id"]
    merged["user_id"] = new["user_id"] if new["user_id"] is not None else old["user_id"]
    merged["verified_user"] = old["verified_user"] if old["verified_user"] is not None else new["verified_user"]
    if new["user_id"] is not None:
        merged["visitor_id"] = new["visitor_id"]
    for c in ("vw", "vh"):
        merged[c] = old[c] if old[c] is not None else new[c]
    for c in SUM_COLUMNS:
        merged[c] = old[c] + new[c]
    for c in CONTEXT_COLUMNS:
        if c != "is_bot":
            merged[c] = old[c] if old[c] is not None else new[c]
    merged["is_bot"] = max(old["is_bot"], new["is_bot"])
    merged["views"] = views.merged(old["views"], new["views"])
    merged["scrolls"] = [*old["scrolls"], *new["scrolls"]]
    return merged


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch, as SQLite's json_patch applies identify traits."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass(frozen=True)
class Applied:
    """A group stored: one result per batch, in order, and how many trigger deliveries and
    absence checks it queued (none: nothing new can be due, the scheduler need not look)."""

    results: list[WriteResult]
    triggered: int


def apply_group(db: Db, batches: list[WriteBatch], *, heartbeat: bool = False) -> list[WriteResult]:
    """Store the batches; one result per batch, in order."""
    return apply(db, batches, heartbeat=heartbeat).results


def apply(db: Db, batches: list[WriteBatch], *, heartbeat: bool = False) -> Applied:
    """Store the batches. With `heartbeat` a row of its own is written too, so that the group
    proves the store takes writes (the health probe). On an embedded store the writer's memory
    (memory.py) spares the reads of rows it wrote itself."""
    if db.unfinished is not None:  # a group that failed between its inserts, whose undo failed too
        _undo(db, *db.unfinished)
    memory = Memory.of(db.conn, db.layout.database)
    if memory is None:
        return _apply(db, batches, heartbeat, None)
    with memory.lock:
        memory.begin(db.conn)
        try:
            applied = _apply(db, batches, heartbeat, memory)
        except BaseException:
            memory.abort()
            raise
        memory.end(db.conn)
        return applied


def _apply(db: Db, batches: list[WriteBatch], heartbeat: bool, memory: Memory | None) -> Applied:
    if heartbeat:
        db.conn.insert(db.t("meta"), ("key", "value", "inserted"), [("heartbeat", str(time.time_ns()), 0)])
    fresh = _fresh_events(db, batches)
    # The identify events of a retried batch count again for links (a newer or vouched link stays):
    # a group killed after its session rows has not stored its links.
    identified, person_rows, identity_rows = _identities(db, fresh, _stored_identifies(batches, fresh), memory)
    # Before sessionizing: a backend event then finds the session its link just vouched for.
    relinked: dict[tuple[str, str], dict[str, Any]] = {}
    for (site_id, anon_id), (user_id, verified, previous) in identified.items():
        _relink(db, relinked, site_id, anon_id, user_id, verified, previous)
    visitors = _Visitors(db, identified, memory)
    visitors.preload(fresh)
    owners: list[Visitor] = []
    unsessioned: dict[tuple[str, str, str | None], list[EventRow]] = defaultdict(list)
    for batch, row in fresh:
        assert batch.site_id is not None, "events always belong to a site"
        visitor = visitors.resolve(batch.site_id, row.anon_id, row.user_id, batch.verified)
        owners.append(visitor)
        if row.session_id is None:
            unsessioned[(batch.site_id, *visitor)].append(row)
    _sessionize(db, unsessioned, relinked)
    rollups: dict[tuple[str, str], _Session] = {}
    event_rows = []
    seq = VERSIONS.reserve(len(fresh))  # the session rows' version, taken below, is larger
    for index, ((batch, row), visitor) in enumerate(zip(fresh, owners, strict=True)):
        assert batch.site_id is not None and row.session_id is not None
        site_id = batch.site_id
        key = (site_id, row.session_id)
        rollup = rollups.get(key)
        if rollup is None:
            rollup = rollups[key] = _Session(site_id, row.session_id, batch.context)
        rollup.add(row, visitor, batch.context)
        if row.type == "pageview":
            rollup.views.append((row.ts, seq + index, row.path, row.route))
        elif row.type == "scroll":
            rollup.scrolls.append(views.scroll(row, seq + index))
        event_rows.append((
            site_id, row.id, row.session_id, row.type, row.ts, row.client_ts, batch.received_at,
            row.anon_id, row.user_id, row.url, row.path, row.route, row.name, row.data.decode(), row.touchpoint,
            seq + index,
        ))
    sessions = _upsert_sessions(db, rollups, relinked, memory)
    chunk_rows, chunks_stored = _chunks(db, batches, sessions, memory)
    dead_rows = _dead_letters(batches)
    # Events first, then their people, replays and session rows: a group whose events are stored without
    # their session rows is undone (`_undo`), so that its retry stores them again with their rows.
    # What follows is made again by a retry, as the events of a retried batch that are stored
    # already count again for their links (above) and triggers (triggers.py).
    db.conn.insert(db.t("events"), (*EVENT_NAMES, "seq"), event_rows)
    version = VERSIONS.next()
    try:
        # Traits and replay chunks before the session rows: an undone group's retry merges the
        # traits again (as they were) and finds the chunks stored (`_chunks` counts them then).
        db.conn.insert(
            db.t("persons"), ("site_id", "user_id", "traits", "first_ts", "last_ts", "version"),
            [(*row, version) for row in person_rows],
        )
        db.conn.insert(db.t("replay_chunks"), ("site_id", "session_id", "seq", "first_ts", "last_ts", "size", "data",
                                                "received_at"), chunk_rows)
        db.conn.insert(
            db.t("sessions"), (*ROW_NAMES, "version"),
            [(*(row[c] for c in ROW_NAMES), version) for row in sessions.values()],
        )
    except BaseException:
        if event_rows:
            db.unfinished = (seq, seq + len(event_rows) - 1)
            _undo(db, *db.unfinished)
        raise
    # The group is whole: its ids now (a group killed before this has them put again: event_ids.keep)
    event_ids.add(db.conn, db.layout, ((row[0], row[1]) for row in event_rows))
    db.conn.insert(
        db.t("identities"), ("site_id", "anon_id", "user_id", "ts", "verified", "version"),
        [(*row, version) for row in identity_rows],
    )
    db.conn.insert(db.t("dead_letters"), ("id", "site_id", "received_at", "source", "reason", "kind", "raw"), dead_rows)
    if memory is not None:
        memory.remember_sessions(sessions)
        for link in identity_rows:  # (site, anon id, user id, ts, verified)
            memory.links.put((str(link[0]), str(link[1])), (link[2], link[3], bool(link[4])))
    # Last, once every row it reads is written, and before any request is answered (triggers.py
    # says why no acknowledged event's delivery is lost). Imported here: triggers.py builds on Db.
    from collector.store.clickhouse.triggers import evaluate_group

    triggered = 0
    if _may_trigger(db, memory, {b.site_id for b in batches if b.site_id is not None and b.events}):
        triggered = evaluate_group(db, batches, fresh, [visitor_id for visitor_id, _vouched in owners])
    stored: dict[int, int] = defaultdict(int)
    for batch, _row in fresh:
        stored[id(batch)] += 1
    return Applied([
        WriteResult(stored=stored[id(b)], duplicates=len(b.events) - stored[id(b)], chunks_stored=chunks_stored[id(b)])
        for b in batches
    ], triggered)


def _may_trigger(db: Db, memory: Memory | None, sites: set[str]) -> bool:
    """Whether a site of the group has an enabled trigger rule that events fire (the evaluation reads them again).
    Rules change only by admin writes, after which the memory starts afresh."""
    from collector.store.clickhouse.triggers import FIRED_BY_EVENTS

    if memory is None:
        return bool(sites)
    unknown = sorted(s for s in sites if s not in memory.rules)
    if unknown:
        having = {r[0] for r in db.rows(
            f"SELECT DISTINCT site_id FROM {db.t('trigger_rules')} FINAL"
            f" WHERE enabled = 1 AND {FIRED_BY_EVENTS} AND site_id IN {lits(unknown)}"
        )}
        memory.rules.update({s: s in having for s in unknown})
    return any(memory.rules[s] for s in sites)


def _undo(db: Db, first: int, last: int) -> None:
    """Delete the events stored with seqs first..last (a group's, never acknowledged)."""
    db.delete("events", f"seq BETWEEN {lit(first)} AND {lit(last)}")
    db.unfinished = None


# A writer numbers events from the clock in nanoseconds (`Versions`): from 2001 on, past 10^18.
_WRITER_SEQ = 10**18


def recover(db: Db) -> None:
    """On opening an embedded store: later versions than any the store holds, and the events of a
    group killed before its session rows were stored deleted (never acknowledged, they are sent
    again). A group's session rows take a version larger than its events' seqs, and the next
    group's seqs are larger still, so those events are the ones past the largest version of a
    session row, one writer's group: seqs in a row, from the clock (a store copied from SQLite
    numbers its events from 1, and a copy stopped before its sessions leaves many groups)."""
    ((sessions, events),) = db.rows(
        f"SELECT (SELECT max(version) FROM {db.t('sessions')}), (SELECT max(seq) FROM {db.t('events')})"
    )
    VERSIONS.advance(max(int(sessions), int(events)))
    if int(events) <= int(sessions):
        return
    ((n, first, last),) = db.rows(
        f"SELECT count(), min(seq), max(seq) FROM {db.t('events')} WHERE seq > {lit(int(sessions))}"
    )
    if int(first) >= _WRITER_SEQ and int(last) - int(first) + 1 == int(n):
        log.warning("deleting the %d events of a group stored without its session rows (never acknowledged)", n)
        _undo(db, int(first), int(last))


def _stored_identifies(
    batches: list[WriteBatch], fresh: list[tuple[WriteBatch, EventRow]],
) -> list[tuple[WriteBatch, EventRow]]:
    """The identify events of these batches stored before this group (a retried batch)."""
    if len(fresh) == sum(len(batch.events) for batch in batches):
        return []  # nothing was stored before
    new = {(batch.site_id, row.id) for batch, row in fresh}
    seen: set[tuple[str | None, str]] = set()
    found = []
    for batch in batches:
        for row in batch.events:
            key = (batch.site_id, row.id)
            if row.type == "identify" and key not in new and key not in seen:
                seen.add(key)
                found.append((batch, row))
    return found


def _fresh_events(db: Db, batches: list[WriteBatch]) -> list[tuple[WriteBatch, EventRow]]:
    """The events not stored before, nor earlier in this group (ids are the dedup key)."""
    ids_by_site: dict[str, list[str]] = defaultdict(list)
    for batch in batches:
        if batch.site_id is not None:
            ids_by_site[batch.site_id].extend(row.id for row in batch.events)
    seen: set[tuple[str, str]] = set()
    for site_id, ids in ids_by_site.items():
        if ids:
            seen.update((site_id, event_id) for event_id in event_ids.found(db.conn, db.layout, site_id, ids))
    fresh = []
    for batch in batches:
        for row in batch.events:
            key = (batch.site_id or "", row.id)
            if key not in seen:
                seen.add(key)
                fresh.append((batch, row))
    return fresh


# Who an event belongs to for counting (the visitor id) and who the site's backend vouched for.
# (user id, verified, the user id linked before or None), per (site, anon id) linked in a group.
Links = dict[tuple[str, str], tuple[str, bool, "str | None"]]
# A stored link: (user id, ts, verified).
Link = tuple[str, int, bool]


_UNKNOWN = object()


def _stored_links(db: Db, site_id: str, anons: Iterable[str], memory: Memory | None = None) -> dict[str, Link]:
    """The stored links of these anon ids (those without one left out)."""
    wanted = sorted(set(anons))
    links: dict[str, Link] = {}
    if memory is not None:
        unknown = []
        for anon_id in wanted:
            link = memory.links.get((site_id, anon_id), _UNKNOWN)
            if link is _UNKNOWN:
                unknown.append(anon_id)
            elif link is not None:
                links[anon_id] = link
        wanted = unknown
    if wanted:
        found: dict[str, Link] = {
            anon_id: (user_id, int(ts), bool(verified)) for anon_id, user_id, ts, verified, _ in seen(db.rows(
                f"SELECT anon_id, user_id, ts, verified, version FROM {db.t('identities')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND anon_id IN {many(wanted)}"
            ))
        }
        links.update(found)
        if memory is not None:
            for anon_id in wanted:
                memory.links.put((site_id, anon_id), found.get(anon_id))
    return links


def _identities(
    db: Db, fresh: Iterable[tuple[WriteBatch, EventRow]], again: Iterable[tuple[WriteBatch, EventRow]],
    memory: Memory | None,
) -> tuple[Links, list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Identify events: the anon ids whose link this group changed, the person rows and the identity
    rows to store. Only the site's backend (the secret key) sets traits and vouches for a link; an
    identify sent with the public write key is a claim, which replaces only another claim. The
    identifies stored before (`again`: a retried batch's) count for links only: their traits were
    stored with their events, and merged again they would undo newer ones."""
    identifies = [
        (batch, row, is_new) for events, is_new in ((fresh, True), (again, False)) for batch, row in events
        if row.type == "identify" and batch.site_id is not None and row.user_id is not None
    ]
    links: dict[tuple[str, str], Link | None] = {}
    wanted: dict[str, set[str]] = defaultdict(set)
    for batch, row, _ in identifies:
        if row.anon_id:
            wanted[batch.site_id or ""].add(row.anon_id)
    for site_id, anons in wanted.items():
        stored = _stored_links(db, site_id, anons, memory)
        links.update({(site_id, anon_id): stored.get(anon_id) for anon_id in anons})
    linked: Links = {}
    changed: dict[tuple[str, str], Link] = {}
    persons: dict[tuple[str, str], dict[str, Any]] = {}
    for batch, row, is_new in identifies:
        site_id, user_id = batch.site_id or "", row.user_id or ""
        if batch.verified and is_new:
            key = (site_id, user_id)
            if key not in persons:
                found = seen(db.rows(
                    f"SELECT traits, first_ts, last_ts, version FROM {db.t('persons')} FINAL"
                    f" WHERE site_id = {lit(site_id)} AND user_id = {lit(user_id)}"
                ))
                persons[key] = (
                    {"traits": object_decoder.decode(found[0][0]), "first_ts": found[0][1], "last_ts": found[0][2]}
                    if found else {"traits": None, "first_ts": row.ts, "last_ts": row.ts}
                )
            person = persons[key]
            traits = object_decoder.decode(row.traits or b"{}")
            person["traits"] = traits if person["traits"] is None else merge_patch(person["traits"], traits)
            person["first_ts"] = min(person["first_ts"], row.ts)
            person["last_ts"] = max(person["last_ts"], row.ts)
        if row.anon_id:
            key = (site_id, row.anon_id)
            before = links[key]
            if before is None or (batch.verified and (not before[2] or row.ts >= before[1])) or (
                not batch.verified and not before[2] and row.ts >= before[1]
            ):
                after: Link = (user_id, row.ts, batch.verified or False)
                links[key] = changed[key] = after
            else:
                after = before
            # Compared as SQLite compares them: (user id, verified) before and after.
            if before is None or (after[0], after[2]) != (before[0], before[2]):
                linked[key] = (after[0], after[2], before[0] if before else None)
    person_rows: list[tuple[object, ...]] = [
        (site_id, user_id, json_encoder.encode(p["traits"]).decode(), p["first_ts"], p["last_ts"])
        for (site_id, user_id), p in persons.items()
    ]
    identity_rows: list[tuple[object, ...]] = [
        (site_id, anon_id, u, ts, int(v)) for (site_id, anon_id), (u, ts, v) in changed.items()
    ]
    return linked, person_rows, identity_rows


def _relink(
    db: Db, relinked: dict[tuple[str, str], dict[str, Any]], site_id: str, anon_id: str, user_id: str,
    verified: bool, previous: str | None,
) -> None:
    """The anon id's sessions: still its own, or stitched to the user a browser claimed before. A
    verified link also vouches for them; a claim never moves sessions a backend vouched for.
    (SQLite's UPDATE, on the stored rows and those this group changed already.)"""
    old = previous or anon_id

    def matches(row: dict[str, Any]) -> bool:
        mine = row["visitor_id"] == anon_id or (row["visitor_id"] == old and row["anon_id"] == anon_id)
        return mine and (verified or row["verified_user"] is None)

    stored = db.sessions(
        site_id, f"{visitors_ids_sql(db.layout, site_id, sorted({anon_id, old}))}"
        f" AND (visitor_id = {lit(anon_id)} OR (visitor_id = {lit(old)} AND anon_id = {lit(anon_id)}))"
    )
    for key, row in stored.items():
        relinked.setdefault(key, row)
    for key, row in relinked.items():
        if key[0] == site_id and matches(row):
            row["visitor_id"] = user_id
            row["user_id"] = row["user_id"] if row["user_id"] is not None else user_id
            if verified and row["verified_user"] is None:
                row["verified_user"] = user_id


class _Visitors:
    """Who an event belongs to: its user, the user its anon id was linked to, or the anon id;
    and the user the site's backend vouched for, if any."""

    def __init__(self, db: Db, linked: Links, memory: Memory | None) -> None:
        self._db = db
        self._memory = memory
        self._known: dict[tuple[str, str], tuple[str, bool] | None] = {
            key: (user_id, verified) for key, (user_id, verified, _previous) in linked.items()
        }

    def preload(self, fresh: Iterable[tuple[WriteBatch, EventRow]]) -> None:
        """Look up the links of every event of the group at once (one query per site)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for batch, row in fresh:
            if row.anon_id and (batch.site_id or "", row.anon_id) not in self._known:
                wanted[batch.site_id or ""].add(row.anon_id)
        for site_id, anons in wanted.items():
            found = _stored_links(self._db, site_id, anons, self._memory)
            for anon_id in anons:
                link = found.get(anon_id)
                self._known[(site_id, anon_id)] = (link[0], link[2]) if link else None

    def _link(self, site_id: str, anon_id: str) -> tuple[str, bool] | None:
        key = (site_id, anon_id)
        if key not in self._known:
            found = _stored_links(self._db, site_id, [anon_id], self._memory).get(anon_id)
            self._known[key] = (found[0], found[2]) if found else None
        return self._known[key]

    def resolve(self, site_id: str, anon_id: str | None, user_id: str | None, verified: bool) -> Visitor:
        return person(anon_id, user_id, verified, self._link(site_id, anon_id) if anon_id else None)


def _sessionize(
    db: Db, unsessioned: dict[tuple[str, str, str | None], list[EventRow]],
    relinked: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """Give backend events without a session the visitor's session, rolled after 30 min idle.

    Events the backend vouched for join only sessions vouched for the same user: a browser that
    claims a user id cannot draw that user's orders into a session of its own."""
    for (site_id, visitor, vouched), rows in unsessioned.items():
        rows.sort(key=lambda row: row.ts)
        same = "verified_user IS NULL" if vouched is None else f"verified_user = {lit(vouched)}"
        candidates = [
            (row["last_ts"], row["id"], row["first_ts"]) for key, row in relinked.items()
            if key[0] == site_id and row["visitor_id"] == visitor and row["verified_user"] == vouched
        ]
        changed = [key[1] for key in relinked if key[0] == site_id]
        candidates += [
            (int(last), sid, int(first)) for sid, first, last in db.rows(
                f"SELECT id, first_ts, last_ts FROM {db.t('sessions')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND {visitor_sessions_sql(db.layout, site_id, visitor, '')}"
                f" AND {same}"
                f" AND id NOT IN {lits(changed)} ORDER BY last_ts DESC LIMIT 1"
            )
        ]
        latest = max(candidates, default=None, key=lambda c: c[0])
        current, first_ts, last_ts = (latest[1], latest[2], latest[0]) if latest else (None, 0, 0)
        for row in rows:
            fits = first_ts - SESSION_GAP_MS <= row.ts <= last_ts + SESSION_GAP_MS
            if current is None or not fits:
                current = str(uuid.uuid5(SESSION_NS, f"{site_id}\n{visitor}\n{row.ts}"))
                first_ts = row.ts
            first_ts, last_ts = min(first_ts, row.ts), max(last_ts, row.ts)
            row.session_id = current


def _session_rows(
    db: Db, site_id: str, ids: Iterable[str], memory: Memory | None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of these sessions of a site, from the writer's memory where it holds them."""
    found, missing = memory.session_rows(site_id, ids) if memory is not None else ({}, list(ids))
    if missing:
        found.update(db.sessions(site_id, f"id IN {many(missing)}"))
    return found


def _upsert_sessions(
    db: Db, rollups: dict[tuple[str, str], _Session], relinked: dict[tuple[str, str], dict[str, Any]],
    memory: Memory | None,
) -> dict[tuple[str, str], dict[str, Any]]:
    """The group's sessions merged into their stored rows (as this group relinked them); new ones
    take any replay already stored. The relinked sessions come back too, to be written."""
    by_site: dict[str, list[str]] = defaultdict(list)
    for site_id, session_id in rollups:
        by_site[site_id].append(session_id)
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    replays: dict[tuple[str, str], int] = {}
    for site_id, ids in by_site.items():
        stored.update(_session_rows(db, site_id, ids, memory))
        stored.update({key: row for key, row in relinked.items() if key[0] == site_id and key[1] in ids})
        fresh = [i for i in ids if (site_id, i) not in stored]
        if fresh:
            for session_id, size in db.rows(
                f"SELECT session_id, sum(size) FROM {db.t('replay_chunks')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND session_id IN {lits(fresh)} GROUP BY session_id"
            ):
                replays[(site_id, session_id)] = int(size)
    result = dict(relinked)
    for key, rollup in rollups.items():
        new = rollup.row()
        if key in stored:
            result[key] = merge_session(stored[key], new)
        else:
            if key in replays:
                new["has_replay"], new["replay_bytes"] = 1, replays[key]
            result[key] = new
    return result


def _chunks(
    db: Db, batches: list[WriteBatch], sessions: dict[tuple[str, str], dict[str, Any]], memory: Memory | None
) -> tuple[list[tuple[object, ...]], dict[int, int]]:
    """Replay chunks new by (site, session, seq), and their sessions marked as having a replay.

    A session row counts the bytes of its stored chunks (SQLite's, as it adds each chunk stored
    and takes those stored before it when the row is made). Chunks stored by a group undone
    before its session rows (`_undo`) are not counted in them: the row takes them when its
    retry finds them stored."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for batch in batches:
        for chunk in batch.chunks:
            wanted[batch.site_id or ""].add(chunk.session_id)
    held: set[tuple[str, str, int]] = set()
    held_bytes: dict[tuple[str, str], int] = defaultdict(int)
    for site_id, ids in wanted.items():
        for session_id, seq, size in db.rows(
            f"SELECT session_id, seq, size FROM {db.t('replay_chunks')} FINAL"
            f" WHERE site_id = {lit(site_id)} AND session_id IN {lits(sorted(ids))}"
        ):
            held.add((site_id, session_id, int(seq)))
            held_bytes[(site_id, session_id)] += int(size)
        missing = [i for i in ids if (site_id, i) not in sessions]
        sessions.update(_session_rows(db, site_id, sorted(missing), memory) if missing else {})
    for counted, size in held_bytes.items():
        session = sessions.get(counted)
        if session is not None and session["replay_bytes"] < size:
            session["has_replay"], session["replay_bytes"] = 1, size
    rows: list[tuple[object, ...]] = []
    stored: dict[int, int] = defaultdict(int)
    for batch in batches:
        site_id = batch.site_id or ""
        for chunk in batch.chunks:
            key = (site_id, chunk.session_id, chunk.seq)
            if key in held:
                continue
            held.add(key)
            rows.append((
                site_id, chunk.session_id, chunk.seq, chunk.first_ts, chunk.last_ts, len(chunk.data), chunk.data,
                batch.received_at,
            ))
            stored[id(batch)] += 1
            session = sessions.get((site_id, chunk.session_id))
            if session is not None:
                session["has_replay"] = 1
                session["replay_bytes"] += len(chunk.data)
    return rows, stored


# Drawn once per process: the low bits of the ids of the rejected events this collector stores.
NODE_BITS = 10
NODE = secrets.randbelow(1 << NODE_BITS)


def dead_letter_ids(n: int, node: int = NODE, clock: Versions = VERSIONS) -> list[int]:
    """Ids for `n` rejected events: a microsecond of the writer's clock each (newest largest, as
    SQLite's rowids), then this process's node. Collectors that share a server store number their
    rejected events without asking one another (the largest stored id plus one, read by each, gave
    two of them the same ids); two ids can only meet if two collectors drew one node and reserve
    one microsecond."""
    first = clock.reserve(n * 1000) // 1000  # the n microseconds from `first` are this call's
    return [(first + i) << NODE_BITS | node for i in range(n)]


def _dead_letters(batches: list[WriteBatch]) -> list[tuple[object, ...]]:
    letters = [(b.site_id, b.received_at, d.source, d.reason, d.kind, d.raw) for b in batches for d in b.dead]
    return [(i, *letter) for i, letter in zip(dead_letter_ids(len(letters)), letters, strict=True)] if letters else []
