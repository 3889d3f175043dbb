"""The embedded SQLite store: WAL, one writer thread for every write, a pool of read-only connections."""

from __future__ import annotations

import asyncio
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from collector.query.experiments import Counts as ExperimentCounts
from collector.query.experiments import Experiment
from collector.query.funnel import Step
from collector.query.heatmap import Scope as HeatmapScope
from collector.query.journey import EVERYTHING, Reading, Stages, Touch
from collector.query.outcome import Score
from collector.query.params import DAY_MS
from collector.query.paths import WIDTH
from collector.query.scope import Goal, Scope
from collector.query.vitals import report as vitals_report
from collector.store.assets import EngineAssets
from collector.store.model import (
    SECRET_PREFIX,
    Site,
    StoreFault,
    StoreUnusable,
    WriteBatch,
    WriteResult,
    WriterStopped,
    secret_hash,
)
from collector.store.sqlite import assets, maintenance, rights, teams, triggers
from collector.store.sqlite.connection import BUSY_TIMEOUT, connect, rollback, transaction
from collector.store.sqlite.faults import check_files, check_write, fault_of, free_bytes, unwritable
from collector.store.sqlite.migrations import migrate
from collector.store.sqlite.reads import (
    commerce,
    events,
    experiments,
    funnel,
    goals,
    heatmap,
    journey,
    live,
    outcome,
    overview,
    paths,
    persons,
    rejected,
    replay,
    retention,
    segments,
    sessions,
    suggest,
    surveys,
    vitals,
)
from collector.store.sqlite.writer import Writer
from collector.triggers.evaluate import Check, Delivery
from collector.triggers.outbox import Attempt, Outgoing
from collector.triggers.rules import Event, NewRule, Rule
from collector.wire import json_decoder, json_encoder

SITE_CACHE_SECONDS = 10.0
# Below this much free space on the database's file system /healthz reports the disk full:
# a batch of up to 1 MiB may need that much of the WAL, while a small probe would still pass.
MIN_FREE_BYTES = 1024 * 1024
# How long /healthz waits for its probe to pass the writer queue.
HEALTH_TIMEOUT = 5.0
SALT_BYTES = 32
# Today's and yesterday's salts are kept; older ones are deleted, and with them any way to
# recompute an old visitor hash from an IP and a user agent.
SALT_DAYS = 2
T = TypeVar("T")


class SQLiteStore(EngineAssets):
    """Everything Trailmark keeps, in one SQLite file: writes through one writer, reads by question."""

    assets_module = assets  # copies of recorded assets (collector/store/assets.py)

    engine = "sqlite"

    def __init__(
        self, path: str | Path, *, max_pending: int = 100_000, synchronous: str = "FULL",
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        self.path = str(path)
        self._busy_timeout = busy_timeout
        conn = connect(self.path, synchronous=synchronous, busy_timeout=busy_timeout)
        try:
            migrate(Database(conn))
        finally:
            conn.close()
        self.writer = Writer(
            lambda: connect(self.path, synchronous=synchronous, busy_timeout=busy_timeout),
            max_pending, self.path,
        )
        self._started = False
        self._start_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        # Write key -> (site, when it was read): another process (`trailmark sites add`) may
        # change a site's origins or add a key, seen here within SITE_CACHE_SECONDS.
        self._sites_by_key: dict[str, tuple[Site, float]] = {}

    @classmethod
    def for_serving(
        cls, path: str | Path, *, max_pending: int = 100_000, synchronous: str = "FULL"
    ) -> SQLiteStore:
        """The store `serve` runs on, or StoreUnusable saying in a sentence why it cannot write."""
        check_files(path, MIN_FREE_BYTES)
        try:
            store = cls(path, max_pending=max_pending, synchronous=synchronous)
            conn = connect(store.path)
        except sqlite3.Error as exc:
            fault = fault_of(exc, path)
            what = fault.message.removesuffix(", retry later") if fault else "it failed"
            raise StoreUnusable(f"cannot open {path}: {what} ({exc}).") from None
        try:
            check_write(conn, path)
        finally:
            conn.close()
        return store

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (once; admin writes before `start` start it too)."""
        with self._start_lock:
            if not self._started:
                self._started = True
                self.writer.start()

    def close(self) -> None:
        if self._started:
            self.writer.stop()
        while True:
            try:
                self._readers.get_nowait().close()
            except queue.Empty:
                break

    # -- writing -----------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> asyncio.Future[WriteResult]:
        """Queue a batch for the next group commit; resolves once it is durable."""
        return self.writer.submit(batch)

    def write_sync(self, batch: WriteBatch) -> WriteResult:
        """Queue a batch and block until it commits (CLI tools, tests)."""
        self.start()
        return self.writer.write_sync(batch)

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """An admin write, run by the writer thread between group commits."""
        self.start()
        return self.writer.call(fn)

    # -- reading -----------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool (WAL lets readers run beside the writer)."""
        try:
            try:
                conn = self._readers.get_nowait()
            except queue.Empty:
                conn = connect(self.path, readonly=True, busy_timeout=self._busy_timeout)
                conn.row_factory = sqlite3.Row
            try:
                yield conn
            finally:
                rollback(conn)
                self._readers.put(conn)
        except sqlite3.Error as exc:  # engine-neutral past this door: a fault, or our own bug
            fault = fault_of(exc, self.path)
            if fault is None:
                raise
            raise fault from exc

    def _ask(self, question: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.read() as conn:
            return question(conn, *args, **kwargs)

    # -- settings and salts ------------------------------------------------------------------

    def meta(self, key: str, default: str) -> str:
        """A stored setting, set to `default` the first time it is asked for."""

        def get_or_set(conn: sqlite3.Connection) -> str:
            with transaction(conn):
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, default))
                return str(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])

        return self._run(get_or_set)

    def salt(self, day: str) -> bytes:
        """The salt of a UTC day (YYYY-MM-DD), made on first use; salts past SALT_DAYS are deleted."""
        # Read first: a salt already made (by an earlier run or another collector) needs no turn
        # of the writer, and no write lock that another process may be holding.
        found = self._ask(lambda conn: conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone())
        if found is not None:
            return bytes(found[0])
        oldest_kept = (date.fromisoformat(day) - timedelta(days=SALT_DAYS - 1)).isoformat()

        def get_or_make(conn: sqlite3.Connection) -> bytes:
            with transaction(conn):
                # INSERT OR IGNORE then SELECT: two processes racing on a new day agree on one salt.
                conn.execute(
                    "INSERT OR IGNORE INTO salts (day, salt) VALUES (?, ?)",
                    (day, secrets.token_bytes(SALT_BYTES)),
                )
                conn.execute("DELETE FROM salts WHERE day < ?", (oldest_kept,))
                (salt,) = conn.execute("SELECT salt FROM salts WHERE day = ?", (day,)).fetchone()
            return bytes(salt)

        return self._run(get_or_make)

    async def health(self) -> StoreFault | None:
        """None when the store can be read and written now, else the fault that stops it."""
        try:
            # count(*) reads a page of the file, which SELECT 1 never does
            await asyncio.to_thread(self._ask, lambda conn: conn.execute("SELECT count(*) FROM sites").fetchone())
            free = free_bytes(Path(self.path).parent)
            if free < MIN_FREE_BYTES:
                return StoreFault("disk_full", f"{free} bytes free")
            # A read-only database file still takes commits into its WAL for a while, but could
            # not be checkpointed, nor reopened after a restart.
            if blocked := unwritable(self.path):
                return StoreFault("read_only", f"{blocked} cannot be written")
            if not self.writer.wrote_lately():
                self.start()
                await asyncio.wait_for(self.writer.probe(), HEALTH_TIMEOUT)
        except TimeoutError:
            return StoreFault("unresponsive", f"the write probe took over {HEALTH_TIMEOUT:g} s")
        except WriterStopped as exc:
            return StoreFault("unresponsive", str(exc))
        except StoreFault as fault:
            return fault
        return None

    # -- sites -------------------------------------------------------------------------------

    def site_for_key(self, key: str) -> Site | None:
        now = time.monotonic()
        cached = self._sites_by_key.get(key)
        if cached is not None and now - cached[1] < SITE_CACHE_SECONDS:
            return cached[0]
        verified = key.startswith(SECRET_PREFIX)
        with self.read() as conn:
            if verified:
                row = conn.execute("SELECT * FROM sites WHERE secret_hash = ?", (secret_hash(key),)).fetchone()
            else:
                row = conn.execute("SELECT * FROM sites WHERE write_key = ?", (key,)).fetchone()
        if row is None:
            self._sites_by_key.pop(key, None)
            return None
        site = _site(row, verified=verified)
        self._sites_by_key[key] = (site, now)
        return site

    def sites(self) -> list[Site]:
        with self.read() as conn:
            return [_site(r) for r in conn.execute("SELECT * FROM sites ORDER BY created_at, id")]

    def add_site(
        self, site_id: str, name: str, *, origins: tuple[str, ...] = (), key: str | None = None,
        settings: dict[str, object] | None = None,
    ) -> Site:
        """Create a site (or update its origins and settings); returns it with its write key."""

        def upsert(conn: sqlite3.Connection) -> str:
            with transaction(conn):
                existing = conn.execute(
                    "SELECT write_key, created_at FROM sites WHERE id = ?", (site_id,)
                ).fetchone()
                write_key = key or (existing[0] if existing else "wk_" + secrets.token_urlsafe(18))
                kept = settings
                if kept is None and existing:  # re-adding a site to change its origins keeps its settings
                    row = conn.execute("SELECT settings FROM sites WHERE id = ?", (site_id,)).fetchone()
                    kept = json_decoder.decode(row[0])
                Database(conn).table("sites").upsert(
                    {
                        "id": site_id,
                        "name": name,
                        "write_key": write_key,
                        "origins": json_encoder.encode(list(origins)).decode(),
                        "settings": json_encoder.encode(kept or {}).decode(),
                        "created_at": existing[1] if existing else int(time.time() * 1000),
                    },
                    pk="id",
                )
            return str(write_key)

        write_key = self._run(upsert)
        self._sites_by_key.clear()
        found = self.site_for_key(write_key)
        assert found is not None
        return found

    def has_secret(self, site_id: str) -> bool:
        with self.read() as conn:
            row = conn.execute("SELECT secret_hash FROM sites WHERE id = ?", (site_id,)).fetchone()
        return row is not None and row[0] is not None

    def new_secret(self, site_id: str, secret: str | None = None) -> str | None:
        """Give a site a new secret server key (the old one stops working); returns it, shown once.
        None when there is no such site."""
        secret = secret or SECRET_PREFIX + secrets.token_urlsafe(24)
        assert secret.startswith(SECRET_PREFIX), f"a secret server key starts with {SECRET_PREFIX}"
        hashed = secret_hash(secret)
        changed = self._run(lambda conn: conn.execute(
            "UPDATE sites SET secret_hash = ? WHERE id = ?", (hashed, site_id)
        ).rowcount)
        self._sites_by_key.clear()
        return secret if changed else None

    # -- dashboard logins --------------------------------------------------------------------

    def revoke_login(self, login_id: str, expires_at: int) -> None:
        """Remember a logged-out login until its cookie would have expired anyway."""

        def revoke(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("INSERT OR REPLACE INTO revoked_logins (id, expires_at) VALUES (?, ?)",
                             (login_id, expires_at))
                conn.execute("DELETE FROM revoked_logins WHERE expires_at < ?", (int(time.time()),))

        self._run(revoke)

    def login_revoked(self, login_id: str) -> bool:
        with self.read() as conn:
            return conn.execute("SELECT 1 FROM revoked_logins WHERE id = ?", (login_id,)).fetchone() is not None

    # -- accounts, roles, keys, share links, schedules (store/sqlite/teams.py) ---------------

    def create_account(self, email: str) -> int:
        return self._run(lambda conn: teams.create_account(conn, email))

    def account(self, account_id: int) -> dict[str, Any] | None:
        return self._ask(teams.account, account_id=account_id)

    def account_by_email(self, email: str) -> dict[str, Any] | None:
        return self._ask(teams.account, email=email)

    def accounts(self) -> list[dict[str, Any]]:
        return self._ask(teams.accounts)

    def set_password(self, account_id: int, password_hash: str) -> None:
        self._run(lambda conn: teams.set_password(conn, account_id, password_hash))

    def set_role(self, account_id: int, site_id: str, role: str | None) -> None:
        self._run(lambda conn: teams.set_role(conn, account_id, site_id, role))

    def delete_account(self, account_id: int) -> bool:
        return self._run(lambda conn: teams.delete_account(conn, account_id))

    def add_invite(self, token_hash: str, account_id: int, expires_at: int) -> None:
        self._run(lambda conn: teams.add_invite(conn, token_hash, account_id, expires_at))

    def invite_account(self, token_hash: str) -> int | None:
        return self._ask(teams.invite_account, token_hash)

    def take_invite(self, token_hash: str) -> int | None:
        return self._run(lambda conn: teams.take_invite(conn, token_hash))

    def add_api_key(self, name: str, key_hash: str, role: str, site_id: str) -> dict[str, Any]:
        return self._run(lambda conn: teams.add_api_key(conn, name, key_hash, role, site_id))

    def api_key(self, key_hash: str) -> dict[str, Any] | None:
        return self._ask(teams.api_key, key_hash)

    def api_keys(self) -> list[dict[str, Any]]:
        return self._ask(teams.api_keys)

    def revoke_api_key(self, key_id: int) -> bool:
        return self._run(lambda conn: teams.revoke_api_key(conn, key_id))

    def add_share(self, share_id: str, site_id: str, view: str, params: dict[str, str], people: bool,
                  expires_at: int) -> dict[str, Any]:
        return self._run(lambda conn: teams.add_share(conn, share_id, site_id, view, params, people, expires_at))

    def share(self, share_id: str) -> dict[str, Any] | None:
        return self._ask(teams.share, share_id)

    def shares(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(teams.shares, site_id)

    def revoke_share(self, site_id: str, share_id: str) -> bool:
        return self._run(lambda conn: teams.revoke_share(conn, site_id, share_id))

    def add_schedule(self, site_id: str, kind: str, recipients: list[str], settings: dict[str, Any]) -> dict[str, Any]:
        return self._run(lambda conn: teams.add_schedule(conn, site_id, kind, recipients, settings))

    def schedules(self, site_id: str | None = None) -> list[dict[str, Any]]:
        return self._ask(teams.schedules, site_id)

    def delete_schedule(self, site_id: str, schedule_id: int) -> bool:
        return self._run(lambda conn: teams.delete_schedule(conn, site_id, schedule_id))

    def schedule_sent(self, schedule_id: int, sent_at: int) -> None:
        self._run(lambda conn: teams.schedule_sent(conn, schedule_id, sent_at))

    def count_events(self, site_id: str, event_type: str, start: int, end: int) -> int:
        with self.read() as conn:
            return int(conn.execute(
                "SELECT count(*) FROM events WHERE site_id = ? AND type = ? AND ts >= ? AND ts < ?",
                (site_id, event_type, start, end)).fetchone()[0])

    def update_site_settings(self, site_id: str, changes: dict[str, object]) -> Site | None:
        """Merge `changes` into a site's settings (a None value removes the key); None for no such site."""

        def merge(conn: sqlite3.Connection) -> str | None:
            with transaction(conn):  # read and write in one step: two editors never lose a change
                row = conn.execute("SELECT settings, write_key FROM sites WHERE id = ?", (site_id,)).fetchone()
                if row is None:
                    return None
                settings = json_decoder.decode(row[0])
                for name, value in changes.items():
                    if value is None:
                        settings.pop(name, None)
                    else:
                        settings[name] = value
                conn.execute(
                    "UPDATE sites SET settings = ? WHERE id = ?", (json_encoder.encode(settings).decode(), site_id)
                )
                return str(row[1])

        write_key = self._run(merge)
        self._sites_by_key.clear()
        return None if write_key is None else self.site_for_key(write_key)

    # -- questions ---------------------------------------------------------------------------

    def overview(
        self, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
    ) -> dict[str, Any]:
        return self._ask(overview.overview, scope, width=width, goals=goals)

    def suggest(self, scope: Scope, field: str, contains: str, limit: int) -> list[tuple[str, int]]:
        return self._ask(suggest.suggest, scope, field, contains, limit)

    def custom_events(self, scope: Scope, name: str | None) -> dict[str, Any]:
        return self._ask(events.custom_events, scope, name)

    def vitals(self, scope: Scope) -> dict[str, Any]:
        return vitals_report(self._ask(lambda conn: list(vitals.vital_values(conn, scope))))

    def errors(self, scope: Scope) -> list[dict[str, Any]]:
        return self._ask(vitals.errors, scope)

    def live(self, site_id: str, now: int) -> dict[str, Any]:
        return self._ask(live.live, site_id, now)

    def sessions_page(
        self, scope: Scope, *, limit: int, cursor: str | None, sort: str = "time", descending: bool = True,
    ) -> dict[str, Any]:
        return self._ask(sessions.list_in_scope, scope, limit=limit, cursor=cursor, sort=sort, descending=descending)

    def session(self, session_id: str, site_id: str | None) -> dict[str, Any] | None:
        return self._ask(sessions.get_session, session_id, site_id)

    def funnel(self, scope: Scope, steps: list[Step], window_s: int) -> dict[str, Any]:
        return self._ask(funnel.funnel, scope, steps, window_s)

    def top_page(self, scope: Scope) -> str | None:
        return self._ask(paths.top_page, scope)

    def paths(self, scope: Scope, from_url: str, depth: int, width: int = WIDTH) -> dict[str, Any]:
        return self._ask(paths.paths, scope, from_url, depth, width)

    def retention(self, scope: Scope, weeks: int) -> dict[str, Any]:
        return self._ask(retention.retention, scope, weeks)

    def commerce(self, scope: Scope) -> dict[str, Any]:
        return self._ask(commerce.commerce, scope)

    def surveys(self, scope: Scope, survey_id: str | None) -> dict[str, Any]:
        return self._ask(surveys.surveys, scope, survey_id)

    def journey_touches(self, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
        return self._ask(journey.touches, scope, reading)

    def journey_map(self, scope: Scope, stages: Stages) -> dict[str, Any]:
        return self._ask(journey.journey_map, scope, stages)

    def save_outcome(self, site_id: str, report: dict[str, Any], scores: Sequence[Score]) -> None:
        self._run(lambda conn: outcome.save(conn, site_id, report, scores))

    def outcome_report(self, site_id: str) -> dict[str, Any] | None:
        return self._ask(outcome.report, site_id)

    def outcome_scores(self, site_id: str, label: str, limit: int) -> list[dict[str, Any]]:
        return self._ask(outcome.scores, site_id, label, limit)

    def outcome_counts(self, site_id: str) -> dict[str, int]:
        return self._ask(outcome.counts, site_id)

    def outcome_open_sessions(self, site_id: str, since: int, limit: int) -> list[dict[str, Any]]:
        return self._ask(outcome.open_sessions, site_id, since, limit)

    def people(
        self, scope: Scope, *, sort: str, descending: bool, limit: int, offset: int,
    ) -> dict[str, Any]:
        return self._ask(persons.people, scope, sort=sort, descending=descending, limit=limit, offset=offset)

    def person(self, site_id: str, person_id: str) -> dict[str, Any] | None:
        return self._ask(persons.person, site_id, person_id)

    def rejected(
        self, *, site_id: str | None = None, start: int = 0, end: int = 1 << 62, limit: int = 100
    ) -> list[dict[str, Any]]:
        return self._ask(rejected.rejected, site_id=site_id, start=start, end=end, limit=limit)

    def has_events(self, site_id: str) -> bool:
        found = self._ask(
            lambda conn: conn.execute("SELECT 1 FROM events WHERE site_id = ? LIMIT 1", (site_id,)).fetchone()
        )
        return found is not None

    # -- heatmaps ----------------------------------------------------------------------------

    def heatmap_clicks(self, scope: HeatmapScope) -> dict[str, Any]:
        return self._ask(heatmap.clicks, scope)

    def heatmap_scroll(self, scope: HeatmapScope) -> dict[str, Any]:
        return self._ask(heatmap.scroll, scope)

    def heatmap_pages(self, site_id: str, start: int, end: int) -> list[dict[str, Any]]:
        return self._ask(heatmap.pages, site_id, start, end)

    def heatmap_snapshot(self, scope: HeatmapScope) -> dict[str, Any] | None:
        return self._ask(heatmap.snapshot, scope)

    def heatmap_click_moment(self, scope: HeatmapScope, sel: str) -> dict[str, Any] | None:
        return self._ask(heatmap.click_moment, scope, sel)

    # -- replays -----------------------------------------------------------------------------

    def replay_site(self, session_id: str, site_id: str | None) -> str | None:
        return self._ask(replay.replay_site, session_id, site_id)

    def has_replay(self, site_id: str, session_id: str) -> bool:
        return self._ask(replay.has_replay, site_id, session_id)

    def replay_chunks(self, site_id: str, session_id: str) -> Iterator[bytes]:
        """The session's stored chunks (gzipped JSON arrays) in order, read one at a time."""
        with self.read() as conn:
            yield from replay.chunks(conn, site_id, session_id)

    def replay_bytes(self, site_id: str, session_id: str) -> int:
        return self._ask(replay.stored_bytes, site_id, session_id)

    def chunk_held(self, site_id: str, session_id: str, seq: int) -> bool:
        return self._ask(replay.chunk_held, site_id, session_id, seq)

    def replay_bytes_received(self, site_id: str, start: int, end: int) -> int:
        return self._ask(replay.bytes_received, site_id, start, end)

    def replay_extent(self, site_id: str, session_id: str) -> dict[str, int | None]:
        return self._ask(replay.extent, site_id, session_id)

    def replay_chunks_from(
        self, site_id: str, session_id: str, from_seq: int, limit: int
    ) -> Iterator[tuple[int, bytes]]:
        """Up to `limit` chunks from seq `from_seq` on, as (seq, data), read one at a time."""
        with self.read() as conn:
            yield from replay.chunks_from(conn, site_id, session_id, from_seq, limit)

    # -- segments ----------------------------------------------------------------------------

    def segments(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(segments.list_segments, site_id)

    def segment_filters(self, site_id: str, segment_id: int) -> dict[str, str] | None:
        return self._ask(segments.segment_filters, site_id, segment_id)

    def create_segment(self, site_id: str, name: str, filters: dict[str, str]) -> dict[str, Any]:
        return self._run(lambda conn: segments.create_segment(conn, site_id, name, filters))

    def delete_segment(self, site_id: str, segment_id: int) -> bool:
        return self._run(lambda conn: segments.delete_segment(conn, site_id, segment_id))

    # -- journey triggers --------------------------------------------------------------------

    def trigger_rules(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(triggers.list_rules, site_id)

    def trigger_rule(self, site_id: str, rule_id: int) -> dict[str, Any] | None:
        return self._ask(triggers.get_rule, site_id, rule_id)

    def create_trigger_rule(self, site_id: str, rule: NewRule, secret: str) -> dict[str, Any]:
        return self._run(lambda conn: triggers.create_rule(conn, site_id, rule, secret))

    def update_trigger_rule(self, site_id: str, rule_id: int, changes: dict[str, object]) -> dict[str, Any] | None:
        return self._run(lambda conn: triggers.update_rule(conn, site_id, rule_id, changes))

    def delete_trigger_rule(self, site_id: str, rule_id: int) -> bool:
        return self._run(lambda conn: triggers.delete_rule(conn, site_id, rule_id))

    def trigger_deliveries(self, site_id: str, rule_id: int, limit: int) -> list[dict[str, Any]]:
        return self._ask(triggers.deliveries, site_id, rule_id, limit)

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (on the writer thread, briefly) after every commit."""
        self.writer.on_commit.append(listener)

    def queue_trigger_delivery(self, delivery: Delivery, now: int) -> bool:
        return self._run(lambda conn: triggers.queue(conn, delivery, now))

    def triggers_next_due(self) -> int | None:
        return self._ask(triggers.next_due)

    def due_deliveries(self, now: int, limit: int) -> list[Outgoing]:
        return self._ask(triggers.due_deliveries, now, limit)

    def record_delivery_attempt(self, attempt: Attempt) -> None:
        self._run(lambda conn: triggers.record_attempt(conn, attempt))

    def due_trigger_checks(self, now: int, limit: int) -> list[tuple[Check, Rule | None]]:
        return self._ask(triggers.due_checks, now, limit)

    def trigger_check_events(self, check: Check, types: set[str]) -> list[Event]:
        return self._ask(triggers.visitor_events, check, types)

    def settle_trigger_checks(self, settled: list[tuple[Check, bool]], now: int) -> int:
        return self._run(lambda conn: triggers.settle_checks(conn, settled, now))
    # -- experiments -------------------------------------------------------------------------

    def experiments(self, site_id: str) -> list[Experiment]:
        return self._ask(experiments.list_experiments, site_id)

    def experiment(self, site_id: str, key: str) -> Experiment | None:
        return self._ask(experiments.get_experiment, site_id, key)

    def create_experiment(self, site_id: str, experiment: Experiment) -> Experiment | None:
        return self._run(lambda conn: experiments.create_experiment(conn, site_id, experiment))

    def delete_experiment(self, site_id: str, key: str) -> bool:
        return self._run(lambda conn: experiments.delete_experiment(conn, site_id, key))

    def experiment_counts(self, scope: Scope, key: str, goal: Goal) -> ExperimentCounts:
        return self._ask(experiments.counts, scope, key, goal)

    # -- goals -------------------------------------------------------------------------------

    def goals(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(goals.list_goals, site_id)

    def create_goal(
        self, site_id: str, name: str, definition: dict[str, Any], limit: int,
    ) -> dict[str, Any] | None:
        return self._run(lambda conn: goals.create_goal(conn, site_id, name, definition, limit))

    def delete_goal(self, site_id: str, goal_id: int) -> bool:
        return self._run(lambda conn: goals.delete_goal(conn, site_id, goal_id))

    # -- data rights, retention, backup ------------------------------------------------------

    def export_person(self, site_id: str, person_id: str) -> dict[str, Any]:
        return self._ask(rights.export, site_id, person_id)

    def erase_person(self, site_id: str, person_id: str) -> dict[str, int]:
        return self._run(lambda conn: rights.erase(conn, site_id, person_id))

    def count_older(self, cutoff_ms: int) -> int:
        return self._ask(maintenance.count_older, cutoff_ms)

    def purge(self, cutoff_ms: int, progress: Callable[[int], object] | None = None) -> dict[str, int]:
        """Delete rows older than the cutoff, a short transaction at a time; the count per table."""
        counts: dict[str, int] = {}
        for table, _key, _age in maintenance.TABLES:
            counts[table] = 0
            while True:
                deleted = self._run(
                    lambda conn, table=table: maintenance.purge_chunk(conn, table, cutoff_ms)  # type: ignore[misc]
                )
                counts[table] += deleted
                if progress is not None:
                    progress(deleted)
                if deleted < maintenance.CHUNK:
                    break
        counts.update(self._run(lambda conn: maintenance.purge_finish(conn, cutoff_ms)))
        return counts

    def backup(self, target: Path) -> int:
        """A consistent copy of the whole store at `target`; its event count."""
        return maintenance.backup(self.path, target)


def _site(row: sqlite3.Row, *, verified: bool = False) -> Site:
    return Site(
        verified=verified,
        id=row["id"],
        name=row["name"],
        write_key=row["write_key"],
        origins=tuple(json_decoder.decode(row["origins"])),
        settings=json_decoder.decode(row["settings"]),
        created_at=row["created_at"],
    )
