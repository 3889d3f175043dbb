"""One group commit: dedup, identity, sessionizing and the session rollups, in one transaction."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable

from collector.query.definitions import person
from collector.store.model import EventRow, WriteBatch, WriteResult
from collector.store.sessions import (
    ACQUISITION_COLUMNS,
    CONTEXT_COLUMNS,
    SESSION_GAP_MS,
    SESSION_NS,
    SUM_COLUMNS,
    SessionRollup,
    Visitor,
)
from collector.store.sqlite import touches
from collector.store.sqlite.connection import transaction
from collector.store.sqlite.rollups import fold_clicks
from collector.store.sqlite.stored import stored
from collector.store.sqlite.triggers import evaluate_group as evaluate_triggers
from collector.wire import json_encoder

_EVENT_COLUMNS = (
    "site_id", "id", "session_id", "type", "ts", "client_ts", "received_at", "anon_id", "user_id",
    "url", "path", "route", "name", "data", "touchpoint",
)
_INSERT_INTO_EVENTS = f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)})"
# A group's rows in one statement from a JSON array of rows, or (rows holding NUL) one by one.
_INSERT_EVENTS = (
    f"{_INSERT_INTO_EVENTS} SELECT {', '.join(f'value ->> {i}' for i in range(len(_EVENT_COLUMNS)))}"
    " FROM json_each(?)"
)
_INSERT_EVENT = f"{_INSERT_INTO_EVENTS} VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"

_SESSION_COLUMNS = (
    "site_id", "id", "visitor_id", "anon_id", "user_id", "verified_user", "first_ts", "last_ts",
    "duration_ms", "entry_ts", "entry_url", "exit_ts", "exit_url", "vw", "vh",
    *ACQUISITION_COLUMNS, *SUM_COLUMNS, *CONTEXT_COLUMNS,
)


def _upsert_sessions_sql() -> str:
    entry_is_earlier = (
        "excluded.entry_ts IS NOT NULL AND (entry_ts IS NULL OR excluded.entry_ts < entry_ts)"
    )
    exit_is_later = "excluded.exit_ts IS NOT NULL AND (exit_ts IS NULL OR excluded.exit_ts >= exit_ts)"
    updates = [
        "first_ts = min(first_ts, excluded.first_ts)",
        "last_ts = max(last_ts, excluded.last_ts)",
        "duration_ms = max(last_ts, excluded.last_ts) - min(first_ts, excluded.first_ts)",
        f"entry_ts = CASE WHEN {entry_is_earlier} THEN excluded.entry_ts ELSE entry_ts END",
        f"entry_url = CASE WHEN {entry_is_earlier} THEN excluded.entry_url ELSE entry_url END",
        *(
            f"{c} = CASE WHEN {entry_is_earlier} THEN excluded.{c} ELSE {c} END"
            for c in ACQUISITION_COLUMNS
        ),
        f"exit_ts = CASE WHEN {exit_is_later} THEN excluded.exit_ts ELSE exit_ts END",
        f"exit_url = CASE WHEN {exit_is_later} THEN excluded.exit_url ELSE exit_url END",
        "anon_id = coalesce(anon_id, excluded.anon_id)",
        "user_id = coalesce(excluded.user_id, user_id)",
        "verified_user = coalesce(verified_user, excluded.verified_user)",
        "visitor_id = CASE WHEN excluded.user_id IS NOT NULL THEN excluded.visitor_id"
        " ELSE visitor_id END",
        "vw = coalesce(vw, excluded.vw)",
        "vh = coalesce(vh, excluded.vh)",
        *(f"{c} = {c} + excluded.{c}" for c in SUM_COLUMNS),
        # A session first seen from a backend SDK has no device: the browser's request fills it in.
        *(f"{c} = coalesce({c}, excluded.{c})" for c in CONTEXT_COLUMNS if c != "is_bot"),
        "is_bot = max(is_bot, excluded.is_bot)",
    ]
    columns = ", ".join(_SESSION_COLUMNS)
    marks = ", ".join("?" for _ in _SESSION_COLUMNS)
    return (
        f"INSERT INTO sessions ({columns}, has_replay, replay_bytes) VALUES ({marks},"
        " (SELECT count(*) > 0 FROM replay_chunks r WHERE r.site_id = ?1 AND r.session_id = ?2),"
        " (SELECT coalesce(sum(size), 0) FROM replay_chunks r"
        "  WHERE r.site_id = ?1 AND r.session_id = ?2))"
        f" ON CONFLICT (site_id, id) DO UPDATE SET {', '.join(updates)}"
    )


_UPSERT_SESSION = _upsert_sessions_sql()


class _Session(SessionRollup):
    """The rollup of one session's new events within a group, as this engine stores it."""

    __slots__ = ()

    def values(self) -> tuple[object, ...]:
        entry, exit_, context = self.entry, self.exit, self.context
        acquisition = entry.acquisition if entry is not None else None
        return (
            self.site_id, self.id, self.visitor_id, self.anon_id, self.user_id, self.verified_user,
            self.first_ts, self.last_ts, self.last_ts - self.first_ts,
            entry.ts if entry else None, entry.url if entry else None,
            exit_.ts if exit_ else None, exit_.url if exit_ else None,
            self.vw, self.vh,
            *(
                (getattr(acquisition, c) for c in ACQUISITION_COLUMNS)
                if acquisition is not None else (None,) * len(ACQUISITION_COLUMNS)
            ),
            *self.sums.values(),
            *(getattr(context, c) for c in CONTEXT_COLUMNS),
        )


def apply_group(
    conn: sqlite3.Connection, batches: list[WriteBatch], *, heartbeat: bool = False
) -> list[WriteResult]:
    """Store the batches in one transaction; one result per batch, in order.

    With `heartbeat` the transaction also writes a row of its own, so that it proves the store
    writable (a health probe) even when it carries no events.
    """
    with transaction(conn):
        results = _apply(conn, batches)
        if heartbeat:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)",
                (str(int(time.time() * 1000)),),
            )
        return results


def _apply(conn: sqlite3.Connection, batches: list[WriteBatch]) -> list[WriteResult]:
    fresh = _fresh_events(conn, batches)
    identified = _store_identities(conn, fresh)
    # Before sessionizing: a backend event then finds the session its link just vouched for.
    for (site, anon_id), (user_id, verified, previous) in identified.items():
        # The anon id's sessions: still its own, or stitched to the user a browser claimed before.
        # A verified link also vouches for them; a claim never moves sessions a backend vouched for.
        conn.execute(
            "UPDATE sessions SET visitor_id = ?1, user_id = coalesce(user_id, ?1),"
            " verified_user = CASE WHEN ?5 THEN coalesce(verified_user, ?1) ELSE verified_user END"
            " WHERE site_id = ?2 AND (visitor_id = ?3 OR (visitor_id = ?4 AND anon_id = ?3))"
            " AND (?5 OR verified_user IS NULL)",
            (user_id, site, anon_id, previous or anon_id, verified),
        )
    visitors = _Visitors(conn, identified)
    sessions: dict[tuple[str, str], _Session] = {}
    event_rows: list[tuple[object, ...]] = []
    unsessioned: dict[tuple[str, str, str | None], list[tuple[WriteBatch, EventRow]]] = defaultdict(list)
    owners: list[Visitor] = []
    for batch, row in fresh:
        site_id = batch.site_id
        assert site_id is not None, "events always belong to a site"
        visitor = visitors.resolve(site_id, row.anon_id, row.user_id, batch.verified)
        owners.append(visitor)
        if row.session_id is None:
            unsessioned[(site_id, *visitor)].append((batch, row))
    _sessionize(conn, unsessioned)
    for (batch, row), visitor in zip(fresh, owners, strict=True):
        site_id = batch.site_id
        assert site_id is not None and row.session_id is not None
        key = (site_id, row.session_id)
        session = sessions.get(key)
        if session is None:
            session = sessions[key] = _Session(site_id, row.session_id, batch.context)
        session.add(row, visitor, batch.context)
        event_rows.append((
            site_id, row.id, row.session_id, row.type, row.ts, row.client_ts, batch.received_at,
            row.anon_id, row.user_id, row.url, row.path, row.route, row.name, row.data.decode(), row.touchpoint,
        ))
    (since,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
    _insert_events(conn, event_rows)
    group = stored(conn, since, [(str(batch.site_id), row.id) for batch, row in fresh])
    # Before the sessions: a session that turns out to be a bot in this group takes its clicks back.
    if any(s.sums["clicks"] for s in sessions.values()):
        fold_clicks(conn, group)
    conn.executemany(_UPSERT_SESSION, [s.values() for s in sessions.values()])
    if event_rows:  # after the sessions: a new session's row takes its start from them
        touches.keep_stored(conn, group, [(str(batch.site_id), row) for batch, row in fresh])
    # In this transaction: the outbox row of an acknowledged event is as durable as the event.
    evaluate_triggers(conn, fresh, [visitor_id for visitor_id, _vouched in owners])
    _store_dead_letters(conn, batches)
    chunks_stored = _store_chunks(conn, batches)
    counts: dict[int, int] = defaultdict(int)
    for batch, _row in fresh:
        counts[id(batch)] += 1
    return [
        WriteResult(
            stored=counts[id(b)],
            duplicates=len(b.events) - counts[id(b)],
            chunks_stored=chunks_stored[id(b)],
        )
        for b in batches
    ]


def _insert_events(conn: sqlite3.Connection, event_rows: list[tuple[object, ...]]) -> None:
    """Store a group's event rows."""
    rows_json = json_encoder.encode(event_rows)
    if b"\\u0000" in rows_json:  # SQLite's JSON functions end a string at NUL: bind row by row
        conn.executemany(_INSERT_EVENT, event_rows)
    else:  # one statement for the group: no Python per row, the GIL released throughout
        conn.execute(_INSERT_EVENTS, (rows_json,))


def _fresh_events(
    conn: sqlite3.Connection, batches: list[WriteBatch]
) -> list[tuple[WriteBatch, EventRow]]:
    """The events not stored before, nor earlier in this group (ids are the dedup key)."""
    ids_by_site: dict[str, list[str]] = defaultdict(list)
    for batch in batches:
        if batch.site_id is not None:
            ids_by_site[batch.site_id].extend(row.id for row in batch.events)
    seen: set[tuple[str, str]] = set()
    for site_id, ids in ids_by_site.items():
        cursor = conn.execute(
            "SELECT id FROM events WHERE site_id = ? AND id IN (SELECT value FROM json_each(?))",
            (site_id, json_encoder.encode(ids)),
        )
        seen.update((site_id, event_id) for (event_id,) in cursor)
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

_LINK = "SELECT user_id, verified FROM identities WHERE site_id = ? AND anon_id = ?"
# A browser's claim replaces only another claim; the backend's word replaces anything older.
_CLAIM = (
    "INSERT INTO identities (site_id, anon_id, user_id, ts, verified) VALUES (?, ?, ?, ?, 0)"
    " ON CONFLICT (site_id, anon_id) DO UPDATE SET user_id = excluded.user_id, ts = excluded.ts"
    " WHERE identities.verified = 0 AND excluded.ts >= identities.ts"
)
_VOUCH = (
    "INSERT INTO identities (site_id, anon_id, user_id, ts, verified) VALUES (?, ?, ?, ?, 1)"
    " ON CONFLICT (site_id, anon_id) DO UPDATE SET user_id = excluded.user_id, ts = excluded.ts,"
    " verified = 1 WHERE identities.verified = 0 OR excluded.ts >= identities.ts"
)


def _store_identities(conn: sqlite3.Connection, fresh: Iterable[tuple[WriteBatch, EventRow]]) -> Links:
    """Record identify events; returns the anon ids whose link this group changed.

    Only the site's backend (the secret key) sets traits and vouches for a link; an identify sent
    with the public write key is a claim, used for counting visitors only (docs/privacy.md).
    """
    linked: Links = {}
    for batch, row in fresh:
        if row.type != "identify" or batch.site_id is None or row.user_id is None:
            continue
        if batch.verified:
            conn.execute(
                "INSERT INTO persons (site_id, user_id, traits, first_ts, last_ts)"
                " VALUES (?, ?, CAST(? AS TEXT), ?, ?)"
                " ON CONFLICT (site_id, user_id) DO UPDATE SET traits = json_patch(traits, excluded.traits),"
                " first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts)",
                (batch.site_id, row.user_id, row.traits or b"{}", row.ts, row.ts),
            )
        if row.anon_id:
            key = (batch.site_id, row.anon_id)
            before = conn.execute(_LINK, key).fetchone()
            conn.execute(_VOUCH if batch.verified else _CLAIM, (*key, row.user_id, row.ts))
            after = conn.execute(_LINK, key).fetchone()
            if after != before:
                linked[key] = (after[0], bool(after[1]), before[0] if before else None)
    return linked


class _Visitors:
    """Who an event belongs to: its user, the user its anon id was linked to, or the anon id;
    and the user the site's backend vouched for, if any."""

    def __init__(self, conn: sqlite3.Connection, linked: Links) -> None:
        self._conn = conn
        self._known: dict[tuple[str, str], tuple[str, bool] | None] = {
            key: (user_id, verified) for key, (user_id, verified, _previous) in linked.items()
        }

    def _link(self, site_id: str, anon_id: str) -> tuple[str, bool] | None:
        key = (site_id, anon_id)
        if key not in self._known:
            found = self._conn.execute(_LINK, key).fetchone()
            self._known[key] = (found[0], bool(found[1])) if found else None
        return self._known[key]

    def resolve(self, site_id: str, anon_id: str | None, user_id: str | None, verified: bool) -> Visitor:
        return person(anon_id, user_id, verified, self._link(site_id, anon_id) if anon_id else None)


def _sessionize(
    conn: sqlite3.Connection,
    unsessioned: dict[tuple[str, str, str | None], list[tuple[WriteBatch, EventRow]]],
) -> None:
    """Give backend events without a session the visitor's session, rolled after 30 min idle.

    Events the backend vouched for join only sessions vouched for the same user: a browser that
    claims a user id cannot draw that user's orders into a session of its own."""
    for (site_id, visitor, vouched), items in unsessioned.items():
        items.sort(key=lambda item: item[1].ts)
        found = conn.execute(
            "SELECT id, first_ts, last_ts FROM sessions WHERE site_id = ? AND visitor_id = ?"
            " AND verified_user IS ? ORDER BY last_ts DESC LIMIT 1",
            (site_id, visitor, vouched),
        ).fetchone()
        current, first_ts, last_ts = found if found else (None, 0, 0)
        for _batch, row in items:
            fits = first_ts - SESSION_GAP_MS <= row.ts <= last_ts + SESSION_GAP_MS
            if current is None or not fits:
                current = str(uuid.uuid5(SESSION_NS, f"{site_id}\n{visitor}\n{row.ts}"))
                first_ts = row.ts
            first_ts, last_ts = min(first_ts, row.ts), max(last_ts, row.ts)
            row.session_id = current


def _store_dead_letters(conn: sqlite3.Connection, batches: list[WriteBatch]) -> None:
    rows = [
        (b.site_id, b.received_at, d.source, d.reason, d.kind, d.raw) for b in batches for d in b.dead
    ]
    if rows:
        conn.executemany(
            "INSERT INTO dead_letters (site_id, received_at, source, reason, kind, raw)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )


def _store_chunks(conn: sqlite3.Connection, batches: list[WriteBatch]) -> dict[int, int]:
    """Store replay chunks once per (session, seq) and mark their sessions as having a replay."""
    counts: dict[int, int] = defaultdict(int)
    for batch in batches:
        for chunk in batch.chunks:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO replay_chunks"
                " (site_id, session_id, seq, first_ts, last_ts, size, data, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch.site_id, chunk.session_id, chunk.seq, chunk.first_ts, chunk.last_ts,
                 len(chunk.data), chunk.data, batch.received_at),
            )
            if cursor.rowcount:
                counts[id(batch)] += 1
                conn.execute(
                    "UPDATE sessions SET has_replay = 1, replay_bytes = replay_bytes + ?"
                    " WHERE site_id = ? AND id = ?",
                    (len(chunk.data), batch.site_id, chunk.session_id),
                )
    return counts
