"""One group commit on ClickHouse: dedup, identities, sessionizing and session rows, then the inserts.

ClickHouse has no multi-statement transaction, so the rules SQLite applies inside one are applied
here by the single writer: it looks up what the group needs (known event ids, identities, the
sessions it touches), works out every new row in Python with exactly SQLite's upsert rules, and
inserts them: events first, then the rows derived from them. The requests wait for all of it.
What this cannot give is SQLite's all-or-nothing: a process killed between the events insert and
the session rows keeps the events (acknowledged or not) with their sessions short of them;
docs/deployment.md says so.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import msgspec

from collector.store.clickhouse.client import Connection, lit, lits
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES, Layout
from collector.store.model import Context, EventRow, WriteBatch, WriteResult

SESSION_GAP_MS = 30 * 60 * 1000
_SESSION_NS = uuid.UUID("6f1d2b8e-9a43-4c1e-8d0b-1b7e3c2a9f10")  # the SQLite engine's: same ids

_CONTEXT_COLUMNS = tuple(Context.__struct_fields__)
_ACQUISITION_COLUMNS = (
    "referrer", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
)
_SUM_COLUMNS = (
    "events", "pageviews", "cart_adds", "purchases", "revenue", "clicks", "rage_clicks",
    "dead_clicks", "errors",
)
_decode_object = msgspec.json.Decoder(dict[str, Any])


class Versions:
    """Rising version numbers for replaced rows: nanoseconds, never repeating within a process."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns())
        return self._last


VERSIONS = Versions()


class Db:
    """A connection and where its tables are."""

    def __init__(self, conn: Connection, layout: Layout) -> None:
        self.conn = conn
        self.layout = layout

    def t(self, name: str) -> str:
        return self.layout.table(name)

    def rows(self, sql: str) -> list[list[Any]]:
        return self.conn.rows(sql)

    def sessions(self, site_id: str, where: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Stored session rows of a site matching `where`, by (site, id)."""
        found = self.rows(
            f"SELECT {', '.join(SESSION_NAMES)} FROM {self.t('sessions')} FINAL"
            f" WHERE site_id = {lit(site_id)} AND ({where})"
        )
        return {(site_id, row[1]): dict(zip(SESSION_NAMES, row, strict=True)) for row in found}


class _Session:
    """The rollup of one session's new events within a group (the SQLite engine's rules)."""

    def __init__(self, site_id: str, session_id: str, context: Context) -> None:
        self.site_id = site_id
        self.id = session_id
        self.visitor_id = ""
        self.anon_id: str | None = None
        self.user_id: str | None = None
        self.first_ts = 1 << 62
        self.last_ts = -1
        self.entry: EventRow | None = None
        self.exit: EventRow | None = None
        self.vw: int | None = None
        self.vh: int | None = None
        self.sums: dict[str, Any] = dict.fromkeys(_SUM_COLUMNS, 0)
        self.context = context
        self._merged = context

    def add(self, row: EventRow, visitor_id: str, context: Context) -> None:
        if context is not self._merged:
            self._merged = context
            self.context = _merge_contexts(self.context, context)
        self.first_ts = min(self.first_ts, row.ts)
        self.last_ts = max(self.last_ts, row.ts)
        self.anon_id = self.anon_id or row.anon_id
        if row.user_id:
            self.user_id = row.user_id
            self.visitor_id = visitor_id
        elif not self.visitor_id:
            self.visitor_id = visitor_id
        if self.vw is None and row.vw is not None:
            self.vw, self.vh = row.vw, row.vh
        sums = self.sums
        sums["events"] += 1
        kind = row.type
        if kind == "pageview":
            sums["pageviews"] += 1
            if self.entry is None or row.ts < self.entry.ts:
                self.entry = row
            if self.exit is None or row.ts >= self.exit.ts:
                self.exit = row
        elif kind == "click":
            sums["clicks"] += 1
            sums["rage_clicks"] += row.rage
            sums["dead_clicks"] += row.dead
        elif kind == "cart":
            sums["cart_adds"] += row.name == "add"
        elif kind == "purchase":
            sums["purchases"] += 1
            sums["revenue"] += row.revenue
        elif kind == "error":
            sums["errors"] += 1

    def row(self) -> dict[str, Any]:
        """This rollup as a new session row (what SQLite's INSERT branch stores)."""
        entry, exit_, context = self.entry, self.exit, self.context
        acquisition = entry.acquisition if entry is not None else None
        row: dict[str, Any] = {
            "site_id": self.site_id, "id": self.id, "visitor_id": self.visitor_id,
            "anon_id": self.anon_id, "user_id": self.user_id, "first_ts": self.first_ts,
            "last_ts": self.last_ts, "duration_ms": self.last_ts - self.first_ts,
            "entry_ts": entry.ts if entry else None, "entry_url": entry.url if entry else None,
            "exit_ts": exit_.ts if exit_ else None, "exit_url": exit_.url if exit_ else None,
            "vw": self.vw, "vh": self.vh,
        }
        for c in _ACQUISITION_COLUMNS:
            row[c] = getattr(acquisition, c) if acquisition is not None else None
        row.update(self.sums)
        for c in _CONTEXT_COLUMNS:
            row[c] = getattr(context, c)
        row["is_bot"] = int(bool(context.is_bot))
        row["has_replay"] = 0
        row["replay_bytes"] = 0
        return row


def _merge_contexts(first: Context, then: Context) -> Context:
    merged = {c: getattr(first, c) if getattr(first, c) is not None else getattr(then, c) for c in _CONTEXT_COLUMNS}
    merged["is_bot"] = first.is_bot or then.is_bot
    return Context(**merged)


def merge_session(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A stored session updated by a group's rollup: SQLite's ON CONFLICT DO UPDATE, field by field."""
    merged = dict(old)
    merged["first_ts"] = min(old["first_ts"], new["first_ts"])
    merged["last_ts"] = max(old["last_ts"], new["last_ts"])
    merged["duration_ms"] = merged["last_ts"] - merged["first_ts"]
    if new["entry_ts"] is not None and (old["entry_ts"] is None or new["entry_ts"] < old["entry_ts"]):
        for c in ("entry_ts", "entry_url", *_ACQUISITION_COLUMNS):
            merged[c] = new[c]
    if new["exit_ts"] is not None and (old["exit_ts"] is None or new["exit_ts"] >= old["exit_ts"]):
        merged["exit_ts"], merged["exit_url"] = new["exit_ts"], new["exit_url"]
    merged["anon_id"] = old["anon_id"] if old["anon_id"] is not None else new["anon_id"]
    merged["user_id"] = new["user_id"] if new["user_id"] is not None else old["user_id"]
    if new["user_id"] is not None:
        merged["visitor_id"] = new["visitor_id"]
    for c in ("vw", "vh"):
        merged[c] = old[c] if old[c] is not None else new[c]
    for c in _SUM_COLUMNS:
        merged[c] = old[c] + new[c]
    for c in _CONTEXT_COLUMNS:
        if c != "is_bot":
            merged[c] = old[c] if old[c] is not None else new[c]
    merged["is_bot"] = max(old["is_bot"], new["is_bot"])
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


def apply_group(db: Db, batches: list[WriteBatch], *, heartbeat: bool = False) -> list[WriteResult]:
    """Store the batches; one result per batch, in order. With `heartbeat` a row of its own is
    written too, so that the group proves the store takes writes (the health probe)."""
    if heartbeat:
        db.conn.insert(db.t("meta"), ("key", "value", "inserted"), [("heartbeat", str(time.time_ns()), 0)])
    fresh = _fresh_events(db, batches)
    identified, person_rows, identity_rows = _identities(db, fresh)
    visitors = _Visitors(db, identified)
    visitors.preload(fresh)
    owners: list[str] = []
    unsessioned: dict[tuple[str, str], list[EventRow]] = defaultdict(list)
    for batch, row in fresh:
        assert batch.site_id is not None, "events always belong to a site"
        visitor = visitors.resolve(batch.site_id, row.anon_id, row.user_id)
        owners.append(visitor)
        if row.session_id is None:
            unsessioned[(batch.site_id, visitor)].append(row)
    _sessionize(db, unsessioned)
    rollups: dict[tuple[str, str], _Session] = {}
    event_rows = []
    seq = VERSIONS.next()
    for index, ((batch, row), visitor) in enumerate(zip(fresh, owners, strict=True)):
        site_id = batch.site_id
        assert site_id is not None and row.session_id is not None
        key = (site_id, row.session_id)
        rollup = rollups.get(key)
        if rollup is None:
            rollup = rollups[key] = _Session(site_id, row.session_id, batch.context)
        rollup.add(row, visitor, batch.context)
        event_rows.append((
            site_id, row.id, row.session_id, row.type, row.ts, row.client_ts, batch.received_at,
            row.anon_id, row.user_id, row.url, row.path, row.route, row.name, row.data.decode(), seq + index,
        ))
    sessions = _upsert_sessions(db, rollups)
    for (site_id, anon_id), user_id in identified.items():
        # UPDATE sessions SET visitor_id = user, user_id = coalesce(user_id, user) WHERE visitor_id = anon
        stored = db.sessions(site_id, f"visitor_id = {lit(anon_id)}")
        for key, row in stored.items():
            sessions.setdefault(key, row)
        for key, row in sessions.items():
            if key[0] == site_id and row["visitor_id"] == anon_id:
                row["visitor_id"] = user_id
                row["user_id"] = row["user_id"] if row["user_id"] is not None else user_id
    chunk_rows, chunks_stored = _chunks(db, batches, sessions)
    dead_rows = _dead_letters(db, batches)
    # Events first: every derived row below can be recomputed from them by a retry.
    db.conn.insert(db.t("events"), (*EVENT_NAMES, "seq"), event_rows)
    db.conn.insert(db.t("identities"), ("site_id", "anon_id", "user_id", "ts"), identity_rows)
    version = VERSIONS.next()
    db.conn.insert(
        db.t("persons"), ("site_id", "user_id", "traits", "first_ts", "last_ts", "version"),
        [(*row, version) for row in person_rows],
    )
    db.conn.insert(
        db.t("sessions"), (*SESSION_NAMES, "version"),
        [(*(row[c] for c in SESSION_NAMES), version) for row in sessions.values()],
    )
    db.conn.insert(db.t("replay_chunks"),
                   ("site_id", "session_id", "seq", "first_ts", "last_ts", "size", "data", "received_at"), chunk_rows)
    db.conn.insert(db.t("dead_letters"), ("id", "site_id", "received_at", "source", "reason", "raw"), dead_rows)
    stored: dict[int, int] = defaultdict(int)
    for batch, _row in fresh:
        stored[id(batch)] += 1
    return [
        WriteResult(stored=stored[id(b)], duplicates=len(b.events) - stored[id(b)], chunks_stored=chunks_stored[id(b)])
        for b in batches
    ]


def _fresh_events(db: Db, batches: list[WriteBatch]) -> list[tuple[WriteBatch, EventRow]]:
    """The events not stored before, nor earlier in this group (ids are the dedup key)."""
    ids_by_site: dict[str, list[str]] = defaultdict(list)
    for batch in batches:
        if batch.site_id is not None:
            ids_by_site[batch.site_id].extend(row.id for row in batch.events)
    seen: set[tuple[str, str]] = set()
    for site_id, ids in ids_by_site.items():
        if ids:
            found = db.rows(
                f"SELECT DISTINCT id FROM {db.t('events')} WHERE site_id = {lit(site_id)} AND id IN {lits(ids)}"
            )
            seen.update((site_id, event_id) for (event_id,) in found)
    fresh = []
    for batch in batches:
        for row in batch.events:
            key = (batch.site_id or "", row.id)
            if key not in seen:
                seen.add(key)
                fresh.append((batch, row))
    return fresh


def _identities(
    db: Db, fresh: Iterable[tuple[WriteBatch, EventRow]]
) -> tuple[dict[tuple[str, str], str], list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Identify events: the anon ids linked in this group, the person rows and identity rows to store."""
    linked: dict[tuple[str, str], str] = {}
    persons: dict[tuple[str, str], dict[str, Any]] = {}
    identities: list[tuple[object, ...]] = []
    for batch, row in fresh:
        if row.type != "identify" or batch.site_id is None or row.user_id is None:
            continue
        key = (batch.site_id, row.user_id)
        if key not in persons:
            found = db.rows(
                f"SELECT traits, first_ts, last_ts FROM {db.t('persons')} FINAL"
                f" WHERE site_id = {lit(key[0])} AND user_id = {lit(key[1])}"
            )
            persons[key] = (
                {"traits": _decode_object.decode(found[0][0]), "first_ts": found[0][1], "last_ts": found[0][2]}
                if found else {"traits": None, "first_ts": row.ts, "last_ts": row.ts}
            )
        person = persons[key]
        traits = _decode_object.decode(row.traits or b"{}")
        person["traits"] = traits if person["traits"] is None else merge_patch(person["traits"], traits)
        person["first_ts"] = min(person["first_ts"], row.ts)
        person["last_ts"] = max(person["last_ts"], row.ts)
        if row.anon_id:
            identities.append((batch.site_id, row.anon_id, row.user_id, row.ts))
            linked[(batch.site_id, row.anon_id)] = row.user_id
    person_rows = [
        (site_id, user_id, msgspec.json.encode(p["traits"]).decode(), p["first_ts"], p["last_ts"])
        for (site_id, user_id), p in persons.items()
    ]
    return linked, person_rows, identities


class _Visitors:
    """Who an event belongs to: its user, the user its anon id was linked to, or the anon id."""

    def __init__(self, db: Db, linked: dict[tuple[str, str], str]) -> None:
        self._db = db
        self._known: dict[tuple[str, str], str | None] = dict(linked)

    def preload(self, fresh: Iterable[tuple[WriteBatch, EventRow]]) -> None:
        """Look up the links of every anonymous event of the group at once (one query per site)."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for batch, row in fresh:
            if not row.user_id and row.anon_id and (batch.site_id or "", row.anon_id) not in self._known:
                wanted[batch.site_id or ""].add(row.anon_id)
        for site_id, anons in wanted.items():
            found = dict(self._db.rows(
                f"SELECT anon_id, user_id FROM {self._db.t('identities')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND anon_id IN {lits(sorted(anons))}"
            ))
            for anon_id in anons:
                self._known[(site_id, anon_id)] = found.get(anon_id)

    def resolve(self, site_id: str, anon_id: str | None, user_id: str | None) -> str:
        if user_id:
            return user_id
        if not anon_id:
            return "anonymous"
        key = (site_id, anon_id)
        if key not in self._known:
            found = self._db.rows(
                f"SELECT user_id FROM {self._db.t('identities')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND anon_id = {lit(anon_id)}"
            )
            self._known[key] = found[0][0] if found else None
        return self._known[key] or anon_id


def _sessionize(db: Db, unsessioned: dict[tuple[str, str], list[EventRow]]) -> None:
    """Give backend events without a session the visitor's session, rolled after 30 min idle."""
    for (site_id, visitor), rows in unsessioned.items():
        rows.sort(key=lambda row: row.ts)
        found = db.rows(
            f"SELECT id, first_ts, last_ts FROM {db.t('sessions')} FINAL"
            f" WHERE site_id = {lit(site_id)} AND visitor_id = {lit(visitor)} ORDER BY last_ts DESC LIMIT 1"
        )
        current, first_ts, last_ts = found[0] if found else (None, 0, 0)
        for row in rows:
            fits = first_ts - SESSION_GAP_MS <= row.ts <= last_ts + SESSION_GAP_MS
            if current is None or not fits:
                current = str(uuid.uuid5(_SESSION_NS, f"{site_id}\n{visitor}\n{row.ts}"))
                first_ts = row.ts
            first_ts, last_ts = min(first_ts, row.ts), max(last_ts, row.ts)
            row.session_id = current


def _upsert_sessions(db: Db, rollups: dict[tuple[str, str], _Session]) -> dict[tuple[str, str], dict[str, Any]]:
    """The group's sessions merged into their stored rows; new ones take any replay already stored."""
    by_site: dict[str, list[str]] = defaultdict(list)
    for site_id, session_id in rollups:
        by_site[site_id].append(session_id)
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    replays: dict[tuple[str, str], int] = {}
    for site_id, ids in by_site.items():
        stored.update(db.sessions(site_id, f"id IN {lits(ids)}"))
        fresh = [i for i in ids if (site_id, i) not in stored]
        if fresh:
            for session_id, size in db.rows(
                f"SELECT session_id, sum(size) FROM {db.t('replay_chunks')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND session_id IN {lits(fresh)} GROUP BY session_id"
            ):
                replays[(site_id, session_id)] = int(size)
    result = {}
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
    db: Db, batches: list[WriteBatch], sessions: dict[tuple[str, str], dict[str, Any]]
) -> tuple[list[tuple[object, ...]], dict[int, int]]:
    """Replay chunks new by (site, session, seq), and their sessions marked as having a replay."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for batch in batches:
        for chunk in batch.chunks:
            wanted[batch.site_id or ""].add(chunk.session_id)
    held: set[tuple[str, str, int]] = set()
    for site_id, ids in wanted.items():
        held.update(
            (site_id, s, int(q)) for s, q in db.rows(
                f"SELECT session_id, seq FROM {db.t('replay_chunks')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND session_id IN {lits(sorted(ids))}"
            )
        )
        missing = [i for i in ids if (site_id, i) not in sessions]
        sessions.update(db.sessions(site_id, f"id IN {lits(sorted(missing))}") if missing else {})
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


def _dead_letters(db: Db, batches: list[WriteBatch]) -> list[tuple[object, ...]]:
    letters = [(b.site_id, b.received_at, d.source, d.reason, d.raw) for b in batches for d in b.dead]
    if not letters:
        return []
    ((top,),) = db.rows(f"SELECT max(id) FROM {db.t('dead_letters')}")
    return [(int(top) + i + 1, *letter) for i, letter in enumerate(letters)]
