"""The ClickHouse store: embedded (chdb) or a server/cluster (clickhouse-connect), one writer per process."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from collector.query.experiments import Counts as ExperimentCounts
from collector.query.experiments import Experiment
from collector.query.heatmap import Scope as HeatmapScope
from collector.query.journey import EVERYTHING, Reading, Stages, Touch, read_map
from collector.query.outcome import Score
from collector.query.params import DAY_MS
from collector.query.paths import WIDTH
from collector.query.scope import Goal, Scope
from collector.store.assets import EngineAssets
from collector.store.clickhouse import assets, event_ids, maintenance, rights, schema, teams, triggers, views
from collector.store.clickhouse.client import Connection, Target, connect, lit, parse_url
from collector.store.clickhouse.faults import fault_of
from collector.store.clickhouse.reads import (
    commerce,
    daily,
    experiments,
    funnel,
    heatmap,
    journey,
    journey_map,
    outcome,
    overview,
    paths,
    persons,
    retention,
    sessions,
    surveys,
)
from collector.store.clickhouse.transaction import VERSIONS, Db, recover
from collector.store.clickhouse.writer import ClickHouseWriter
from collector.store.model import (
    SECRET_PREFIX,
    Site,
    StoreFault,
    WriteBatch,
    WriteResult,
    WriterStopped,
    secret_hash,
)
from collector.triggers.evaluate import Check, Delivery
from collector.triggers.outbox import Attempt, Outgoing
from collector.triggers.rules import Event, NewRule, Rule
from collector.wire import json_decoder, json_encoder

SITE_CACHE_SECONDS = 10.0
SALT_BYTES = 32
SALT_DAYS = 2
HEALTH_TIMEOUT = 5.0  # as on SQLite: today's and yesterday's salts are kept
T = TypeVar("T")


class ClickHouseStore(EngineAssets):
    """Everything Trailmark keeps, in ClickHouse tables: writes through one writer, reads by question."""

    assets_module = assets  # copies of recorded assets (collector/store/assets.py)

    engine = "clickhouse"

    def __init__(self, url: str, *, max_pending: int = 100_000, conn: Connection | None = None) -> None:
        """The store at `url`, through `conn` when given (a connection to that store)."""
        self.url = url
        self.target: Target = parse_url(url)
        self.layout = schema.Layout(self.target.database, self.target.cluster)
        self.conn = conn or connect(self.target)
        self.db = Db(self.conn, self.layout)
        try:
            schema.create(self.conn, self.layout)
            event_ids.create(self.conn, self.layout)
            state = self.conn.state
            if state is not None and self.layout.database not in state.recovered:  # its first store here
                recover(self.db)
                state.recovered.add(self.layout.database)
            views.keep(self.conn, self.layout)  # after recover: a killed group's events are no pageviews
            event_ids.keep(self.conn, self.layout)  # after recover: a killed group's events are not stored
        except BaseException:
            self.conn.close()
            raise
        self.writer = ClickHouseWriter(self.db, max_pending)
        self._started = False
        self._start_lock = threading.Lock()
        self._sites_by_key: dict[str, tuple[Site, float]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if not self._started:
                self._started = True
                self.writer.start()

    def close(self) -> None:
        if self._started:
            self.writer.stop()
            self._started = False
        self.conn.close()

    # -- writing -----------------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> asyncio.Future[WriteResult]:
        return self.writer.submit(batch)

    def write_sync(self, batch: WriteBatch) -> WriteResult:
        self.start()
        return self.writer.write_sync(batch)

    def _run(self, fn: Callable[[Db], T]) -> T:
        """An admin write, run by the writer thread between group inserts."""
        self.start()
        return self.writer.call(fn)  # type: ignore[arg-type]

    def _ask(self, question: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return question(self.db, *args, **kwargs)

    async def health(self) -> StoreFault | None:
        """None when the store can be read and written now, else the fault that stops it."""
        try:
            await asyncio.to_thread(self.conn.rows, f"SELECT count() FROM {self.db.t('sites')}")
            if not self.writer.wrote_lately():
                self.start()
                await asyncio.wait_for(self.writer.probe(), HEALTH_TIMEOUT)
        except TimeoutError:
            return StoreFault("unresponsive", f"the write probe took over {HEALTH_TIMEOUT:g} s")
        except WriterStopped as exc:
            return StoreFault("unresponsive", str(exc))
        except Exception as exc:  # noqa: BLE001 - a read that fails is the fault this answers
            return fault_of(exc) or StoreFault("io_error", str(exc)[:300])
        return None

    # -- settings and salts ------------------------------------------------------------------

    def _first(self, table: str, key_column: str, key: str, value: str) -> str | None:
        rows = self.conn.rows(
            f"SELECT {value} FROM {self.db.t(table)} WHERE {key_column} = {lit(key)}"
            f" ORDER BY inserted, {value} LIMIT 1"
        )
        return rows[0][0] if rows else None

    def meta(self, key: str, default: str) -> str:
        """A stored setting, set to `default` the first time it is asked for (the earliest insert wins)."""

        def get_or_set(db: Db) -> str:
            found = self._first("meta", "key", key, "value")
            if found is None:
                db.conn.insert(db.t("meta"), ("key", "value", "inserted"), [(key, default, time.time_ns())])
                found = self._first("meta", "key", key, "value")
            assert found is not None
            return str(found)

        return self._run(get_or_set)

    def salt(self, day: str) -> bytes:
        oldest_kept = (date.fromisoformat(day) - timedelta(days=SALT_DAYS - 1)).isoformat()

        def get_or_make(db: Db) -> bytes:
            found = self._first("salts", "day", day, "hex(salt)")
            if found is None:
                db.conn.insert(db.t("salts"), ("day", "salt", "inserted"),
                               [(day, secrets.token_bytes(SALT_BYTES), time.time_ns())])
                found = self._first("salts", "day", day, "hex(salt)")
            if db.conn.rows(f"SELECT 1 FROM {db.t('salts')} WHERE day < {lit(oldest_kept)} LIMIT 1"):
                db.delete("salts", f"day < {lit(oldest_kept)}")
            assert found is not None
            return bytes.fromhex(found)

        return self._run(get_or_make)

    # -- sites -------------------------------------------------------------------------------

    _SITE = "id, name, write_key, origins, settings, created_at"

    def _site_rows(self, where: str) -> list[Site]:
        rows = self.conn.rows(
            f"SELECT {self._SITE} FROM {self.db.t('sites')} FINAL WHERE {where} ORDER BY created_at, id"
        )
        return [_site(r) for r in rows]

    def site_for_key(self, key: str) -> Site | None:
        now = time.monotonic()
        cached = self._sites_by_key.get(key)
        if cached is not None and now - cached[1] < SITE_CACHE_SECONDS:
            return cached[0]
        verified = key.startswith(SECRET_PREFIX)
        column, value = ("secret_hash", secret_hash(key)) if verified else ("write_key", key)
        found = self._site_rows(f"{column} = {lit(value)}")
        if not found:
            self._sites_by_key.pop(key, None)
            return None
        site = msgspec.structs.replace(found[0], verified=verified)
        self._sites_by_key[key] = (site, now)
        return site

    def sites(self) -> list[Site]:
        return self._site_rows("1")

    def _secret_hash(self, site_id: str) -> str | None:
        rows = self.conn.rows(f"SELECT secret_hash FROM {self.db.t('sites')} FINAL WHERE id = {lit(site_id)}")
        return rows[0][0] if rows else None

    def _put_site(self, db: Db, site: Site, hashed: str | None = None, *, keep_secret: bool = True) -> None:
        """Write a site's row whole; its secret key's hash is kept unless a new one is given."""
        if keep_secret and hashed is None:
            hashed = self._secret_hash(site.id)
        db.conn.insert(
            db.t("sites"), ("id", "name", "write_key", "origins", "settings", "created_at", "secret_hash", "version"),
            [(site.id, site.name, site.write_key, json_encoder.encode(list(site.origins)).decode(),
              json_encoder.encode(site.settings).decode(), site.created_at, hashed, VERSIONS.next())],
        )

    def has_secret(self, site_id: str) -> bool:
        return self._secret_hash(site_id) is not None

    def new_secret(self, site_id: str, secret: str | None = None) -> str | None:
        """Give a site a new secret server key (the old one stops working); returns it, shown once.
        None when there is no such site."""
        secret = secret or SECRET_PREFIX + secrets.token_urlsafe(24)
        assert secret.startswith(SECRET_PREFIX), f"a secret server key starts with {SECRET_PREFIX}"

        def change(db: Db) -> bool:
            existing = self._site_rows(f"id = {lit(site_id)}")
            if existing:
                self._put_site(db, existing[0], secret_hash(secret))
            return bool(existing)

        changed = self._run(change)
        self._sites_by_key.clear()
        return secret if changed else None

    # -- dashboard logins --------------------------------------------------------------------

    def revoke_login(self, login_id: str, expires_at: int) -> None:
        """Remember a logged-out login until its cookie would have expired anyway."""
        self._run(lambda db: db.conn.insert(db.t("revoked_logins"), ("id", "expires_at"), [(login_id, expires_at)]))

    def login_revoked(self, login_id: str) -> bool:
        return bool(self.conn.rows(
            f"SELECT 1 FROM {self.db.t('revoked_logins')} WHERE id = {lit(login_id)}"
            f" AND expires_at >= {int(time.time())} LIMIT 1"
        ))

    # -- accounts, roles, keys, share links, schedules (store/clickhouse/teams.py) -----------
    # In the store like every other row, so collectors sharing a server share their accounts;
    # the same answers as SQLite's (tests/api/test_teams.py and tests/api/test_reports.py run on both).

    def create_account(self, email: str) -> int:
        return self._run(lambda db: teams.create_account(db, email))

    def account(self, account_id: int) -> dict[str, Any] | None:
        return self._ask(teams.account, account_id=account_id)

    def account_by_email(self, email: str) -> dict[str, Any] | None:
        return self._ask(teams.account, email=email)

    def accounts(self) -> list[dict[str, Any]]:
        return self._ask(teams.accounts)

    def set_password(self, account_id: int, password_hash: str) -> None:
        self._run(lambda db: teams.set_password(db, account_id, password_hash))

    def set_role(self, account_id: int, site_id: str, role: str | None) -> None:
        self._run(lambda db: teams.set_role(db, account_id, site_id, role))

    def delete_account(self, account_id: int) -> bool:
        return self._run(lambda db: teams.delete_account(db, account_id))

    def add_invite(self, token_hash: str, account_id: int, expires_at: int) -> None:
        self._run(lambda db: teams.add_invite(db, token_hash, account_id, expires_at))

    def invite_account(self, token_hash: str) -> int | None:
        return self._ask(teams.invite_account, token_hash)

    def take_invite(self, token_hash: str) -> int | None:
        return self._run(lambda db: teams.take_invite(db, token_hash))

    def add_api_key(self, name: str, key_hash: str, role: str, site_id: str) -> dict[str, Any]:
        return self._run(lambda db: teams.add_api_key(db, name, key_hash, role, site_id))

    def api_key(self, key_hash: str) -> dict[str, Any] | None:
        return self._ask(teams.api_key, key_hash)

    def api_keys(self) -> list[dict[str, Any]]:
        return self._ask(teams.api_keys)

    def revoke_api_key(self, key_id: int) -> bool:
        return self._run(lambda db: teams.revoke_api_key(db, key_id))

    def add_share(
        self, share_id: str, site_id: str, view: str, params: dict[str, str], people: bool, expires_at: int,
    ) -> dict[str, Any]:
        return self._run(lambda db: teams.add_share(db, share_id, site_id, view, params, people, expires_at))

    def share(self, share_id: str) -> dict[str, Any] | None:
        return self._ask(teams.share, share_id)

    def shares(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(teams.shares, site_id)

    def revoke_share(self, site_id: str, share_id: str) -> bool:
        return self._run(lambda db: teams.revoke_share(db, site_id, share_id))

    def add_schedule(
        self, site_id: str, kind: str, recipients: list[str], settings: dict[str, Any],
    ) -> dict[str, Any]:
        return self._run(lambda db: teams.add_schedule(db, site_id, kind, recipients, settings))

    def schedules(self, site_id: str | None = None) -> list[dict[str, Any]]:
        return self._ask(teams.schedules, site_id)

    def delete_schedule(self, site_id: str, schedule_id: int) -> bool:
        return self._run(lambda db: teams.delete_schedule(db, site_id, schedule_id))

    def schedule_sent(self, schedule_id: int, sent_at: int) -> None:
        self._run(lambda db: teams.schedule_sent(db, schedule_id, sent_at))

    def count_events(self, site_id: str, event_type: str, start: int, end: int) -> int:
        return self._ask(teams.count_events, site_id, event_type, start, end)

    def add_site(
        self, site_id: str, name: str, *, origins: tuple[str, ...] = (), key: str | None = None,
        settings: dict[str, object] | None = None,
    ) -> Site:
        """Create a site (or update its origins and settings); returns it with its write key."""

        def upsert(db: Db) -> Site:
            existing = self._site_rows(f"id = {lit(site_id)}")
            old = existing[0] if existing else None
            site = Site(
                id=site_id, name=name,
                write_key=key or (old.write_key if old else "wk_" + secrets.token_urlsafe(18)),
                origins=tuple(origins),
                settings=settings if settings is not None else (dict(old.settings) if old else {}),
                created_at=old.created_at if old else int(time.time() * 1000),
            )
            self._put_site(db, site)
            return site

        site = self._run(upsert)
        self._sites_by_key.clear()
        return site

    def update_site_settings(self, site_id: str, changes: dict[str, object]) -> Site | None:
        def merge(db: Db) -> Site | None:
            existing = self._site_rows(f"id = {lit(site_id)}")
            if not existing:
                return None
            settings = dict(existing[0].settings)
            for name, value in changes.items():
                if value is None:
                    settings.pop(name, None)
                else:
                    settings[name] = value
            site = msgspec.structs.replace(existing[0], settings=settings)
            self._put_site(db, site)
            return site

        site = self._run(merge)
        self._sites_by_key.clear()
        return site

    # -- questions ---------------------------------------------------------------------------

    def overview(
        self, scope: Scope, *, width: int = DAY_MS, goals: tuple[tuple[int, str, Goal], ...] = (),
    ) -> dict[str, Any]:
        return self._ask(overview.overview, scope, width=width, goals=goals)

    def suggest(self, scope: Scope, field: str, contains: str, limit: int) -> list[tuple[str, int]]:
        return self._ask(daily.suggest, scope, field, contains, limit)

    def custom_events(self, scope: Scope, name: str | None) -> dict[str, Any]:
        return self._ask(daily.custom_events, scope, name)

    def vitals(self, scope: Scope) -> dict[str, Any]:
        return self._ask(daily.vitals, scope)

    def errors(self, scope: Scope) -> list[dict[str, Any]]:
        return self._ask(daily.errors, scope)

    def live(self, site_id: str, now: int) -> dict[str, Any]:
        return self._ask(daily.live, site_id, now)

    def sessions_page(
        self, scope: Scope, *, limit: int, cursor: str | None, sort: str = "time", descending: bool = True,
    ) -> dict[str, Any]:
        return self._ask(sessions.list_in_scope, scope, limit=limit, cursor=cursor, sort=sort, descending=descending)

    def session(self, session_id: str, site_id: str | None) -> dict[str, Any] | None:
        return self._ask(sessions.get_session, session_id, site_id)

    def funnel(self, scope: Scope, steps: list[Any], window_s: int) -> dict[str, Any]:
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

    def people(self, scope: Scope, *, sort: str, descending: bool, limit: int, offset: int) -> dict[str, Any]:
        return self._ask(persons.people, scope, sort=sort, descending=descending, limit=limit, offset=offset)

    def person(self, site_id: str, person_id: str) -> dict[str, Any] | None:
        return self._ask(persons.person, site_id, person_id)

    def journey_touches(self, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
        return self._ask(journey.touches, scope, reading)

    def journey_map(self, scope: Scope, stages: Stages) -> dict[str, Any]:
        try:
            return self._ask(journey_map.journey_map, scope, stages)
        except journey_map.Collision:  # two names the map shows share a hash: walk the touches
            return read_map(self, scope, stages)

    def has_events(self, site_id: str) -> bool:
        return bool(self.conn.rows(f"SELECT 1 FROM {self.db.t('events')} WHERE site_id = {lit(site_id)} LIMIT 1"))

    # -- heatmaps ----------------------------------------------------------------------------

    def heatmap_clicks(self, scope: HeatmapScope) -> dict[str, Any]:
        return self._ask(heatmap.clicks, scope)

    def heatmap_scroll(self, scope: HeatmapScope) -> dict[str, Any]:
        return self._ask(heatmap.scroll, scope)

    def heatmap_pages(self, site_id: str, start: int, end: int) -> list[dict[str, Any]]:
        return self._ask(heatmap.pages, site_id, start, end)

    def heatmap_snapshot(self, scope: HeatmapScope) -> dict[str, Any] | None:
        return self._ask(heatmap.snapshot, scope, self.replay_chunks)

    def heatmap_click_moment(self, scope: HeatmapScope, sel: str) -> dict[str, Any] | None:
        return self._ask(heatmap.click_moment, scope, sel)

    # -- replays -----------------------------------------------------------------------------

    def _chunks_where(self, site_id: str, session_id: str) -> str:
        return f"site_id = {lit(site_id)} AND session_id = {lit(session_id)}"

    def replay_site(self, session_id: str, site_id: str | None) -> str | None:
        if site_id:
            return site_id
        found = self.conn.rows(f"SELECT site_id FROM {self.db.t('sessions')} WHERE id = {lit(session_id)} LIMIT 1")
        if found:
            return str(found[0][0])
        sites = self.sites()
        return sites[0].id if len(sites) == 1 else None

    def has_replay(self, site_id: str, session_id: str) -> bool:
        return bool(self.conn.rows(
            f"SELECT 1 FROM {self.db.t('replay_chunks')} WHERE {self._chunks_where(site_id, session_id)} LIMIT 1"
        ))

    def replay_chunks(self, site_id: str, session_id: str) -> Iterator[bytes]:
        """The session's stored chunks (gzipped JSON arrays) in order, read one at a time."""
        seqs = self.conn.rows(
            f"SELECT DISTINCT seq FROM {self.db.t('replay_chunks')} WHERE {self._chunks_where(site_id, session_id)}"
            " ORDER BY seq"
        )
        for (seq,) in seqs:
            found = self.conn.rows(
                f"SELECT hex(data) FROM {self.db.t('replay_chunks')}"
                f" WHERE {self._chunks_where(site_id, session_id)} AND seq = {lit(int(seq))} LIMIT 1"
            )
            if found:
                yield bytes.fromhex(found[0][0])

    def replay_bytes(self, site_id: str, session_id: str) -> int:
        ((total,),) = self.conn.rows(
            f"SELECT sum(size) FROM {self.db.t('replay_chunks')} FINAL WHERE {self._chunks_where(site_id, session_id)}"
        )
        return int(total or 0)

    def chunk_held(self, site_id: str, session_id: str, seq: int) -> bool:
        return bool(self.conn.rows(
            f"SELECT 1 FROM {self.db.t('replay_chunks')}"
            f" WHERE {self._chunks_where(site_id, session_id)} AND seq = {lit(int(seq))} LIMIT 1"
        ))

    def replay_bytes_received(self, site_id: str, start: int, end: int) -> int:
        """Compressed replay bytes a site stored from `start` to before `end` (epoch ms)."""
        ((total,),) = self.conn.rows(
            f"SELECT sum(size) FROM {self.db.t('replay_chunks')} FINAL WHERE site_id = {lit(site_id)}"
            f" AND received_at >= {lit(start)} AND received_at < {lit(end)}"
        )
        return int(total or 0)

    def replay_extent(self, site_id: str, session_id: str) -> dict[str, int | None]:
        """How many chunks a recording has, and the first and last rrweb time they cover."""
        ((count, first_ts, last_ts),) = self.conn.rows(
            f"SELECT count(), minOrNull(first_ts), maxOrNull(last_ts) FROM {self.db.t('replay_chunks')} FINAL"
            f" WHERE {self._chunks_where(site_id, session_id)}"
        )
        return {"chunks": int(count), "first_ts": first_ts, "last_ts": last_ts}

    def replay_chunks_from(
        self, site_id: str, session_id: str, from_seq: int, limit: int
    ) -> Iterator[tuple[int, bytes]]:
        """Up to `limit` chunks from seq `from_seq` on, as (seq, data), read one at a time."""
        seqs = self.conn.rows(
            f"SELECT DISTINCT seq FROM {self.db.t('replay_chunks')} WHERE {self._chunks_where(site_id, session_id)}"
            f" AND seq >= {lit(int(from_seq))} ORDER BY seq LIMIT {int(limit)}"
        )
        for (seq,) in seqs:
            found = self.conn.rows(
                f"SELECT hex(data) FROM {self.db.t('replay_chunks')}"
                f" WHERE {self._chunks_where(site_id, session_id)} AND seq = {lit(int(seq))} LIMIT 1"
            )
            if found:
                yield int(seq), bytes.fromhex(found[0][0])

    def rejected(
        self, *, site_id: str | None = None, start: int = 0, end: int = 1 << 62, limit: int = 100
    ) -> list[dict[str, Any]]:
        site = f"site_id = {lit(site_id)} AND " if site_id is not None else ""
        rows = self.conn.rows(
            f"SELECT id, site_id, received_at, source, reason, kind, raw FROM {self.db.t('dead_letters')}"
            f" WHERE {site}received_at >= {lit(start)} AND received_at < {lit(end)}"
            f" ORDER BY id DESC LIMIT {int(limit)}"
        )
        names = ("id", "site_id", "received_at", "source", "reason", "kind", "raw")
        return [dict(zip(names, row, strict=True)) for row in rows]

    # -- data rights, retention, backup ------------------------------------------------------

    def export_person(self, site_id: str, person_id: str) -> dict[str, Any]:
        return self._ask(rights.export, site_id, person_id)

    def erase_person(self, site_id: str, person_id: str) -> dict[str, int]:
        return self._run(lambda db: rights.erase(db, site_id, person_id))

    def count_older(self, cutoff_ms: int) -> int:
        return self._ask(maintenance.count_older, cutoff_ms)

    def purge(self, cutoff_ms: int, progress: Callable[[int], object] | None = None) -> dict[str, int]:
        return self._run(lambda db: maintenance.purge(db, cutoff_ms, progress))

    def backup(self, target: Path) -> int:
        """Not offered on ClickHouse: `trailmark store copy --to sqlite:///FILE` makes a portable copy,
        and a server's own BACKUP command makes a native one (docs/deployment.md)."""
        raise RuntimeError(
            "backup copies SQLite files; for a ClickHouse store use `trailmark store copy --from URL"
            " --to sqlite:///backup.db`, or ClickHouse's BACKUP on a server"
        )

    # -- segments ----------------------------------------------------------------------------

    _SEGMENT = "id, site_id, name, filters, created_at"

    def segments(self, site_id: str) -> list[dict[str, Any]]:
        rows = self.conn.rows(
            f"SELECT {self._SEGMENT} FROM {self.db.t('segments')} FINAL WHERE site_id = {lit(site_id)} ORDER BY id"
        )
        return [_segment(r) for r in rows]

    def segment_filters(self, site_id: str, segment_id: int) -> dict[str, str] | None:
        rows = self.conn.rows(
            f"SELECT filters FROM {self.db.t('segments')} FINAL"
            f" WHERE site_id = {lit(site_id)} AND id = {lit(int(segment_id))}"
        )
        if not rows:
            return None
        filters: dict[str, str] = json_decoder.decode(rows[0][0])
        return filters

    def create_segment(self, site_id: str, name: str, filters: dict[str, str]) -> dict[str, Any]:
        def create(db: Db) -> dict[str, Any]:
            # SQLite's INTEGER PRIMARY KEY rule: one more than the highest id of the rows there now.
            ((top,),) = db.conn.rows(f"SELECT max(id) FROM {db.t('segments')} FINAL")
            row = (int(top) + 1, site_id, name, json_encoder.encode(filters).decode(), int(time.time() * 1000))
            db.conn.insert(db.t("segments"), ("id", "site_id", "name", "filters", "created_at", "version", "deleted"),
                           [(*row, VERSIONS.next(), 0)])
            return _segment(list(row))

        return self._run(create)

    def delete_segment(self, site_id: str, segment_id: int) -> bool:
        def delete(db: Db) -> bool:
            rows = db.conn.rows(
                f"SELECT {self._SEGMENT} FROM {db.t('segments')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND id = {lit(int(segment_id))}"
            )
            if not rows:
                return False
            db.conn.insert(db.t("segments"), ("id", "site_id", "name", "filters", "created_at", "version", "deleted"),
                           [(*rows[0], VERSIONS.next(), 1)])
            return True

        return self._run(delete)

    # -- goals -------------------------------------------------------------------------------

    _GOAL = "id, name, definition, created_at"
    _GOAL_COLUMNS = ("id", "site_id", "name", "definition", "created_at", "version", "deleted")

    def goals(self, site_id: str) -> list[dict[str, Any]]:
        rows = self.conn.rows(
            f"SELECT {self._GOAL} FROM {self.db.t('goals')} FINAL WHERE site_id = {lit(site_id)} ORDER BY id"
        )
        return [_goal(r) for r in rows]

    def create_goal(
        self, site_id: str, name: str, definition: dict[str, Any], limit: int,
    ) -> dict[str, Any] | None:
        """Store a goal; None when the site already has `limit` goals (checked by the one writer)."""
        def create(db: Db) -> dict[str, Any] | None:
            ((count,),) = db.conn.rows(f"SELECT count() FROM {db.t('goals')} FINAL WHERE site_id = {lit(site_id)}")
            if int(count) >= limit:
                return None
            # SQLite's INTEGER PRIMARY KEY rule: one more than the highest id of the rows there now.
            ((top,),) = db.conn.rows(f"SELECT max(id) FROM {db.t('goals')} FINAL")
            row = (int(top) + 1, name, json_encoder.encode(definition).decode(), int(time.time() * 1000))
            db.conn.insert(db.t("goals"), self._GOAL_COLUMNS, [(row[0], site_id, *row[1:], VERSIONS.next(), 0)])
            return _goal(list(row))

        return self._run(create)

    def delete_goal(self, site_id: str, goal_id: int) -> bool:
        def delete(db: Db) -> bool:
            rows = db.conn.rows(
                f"SELECT id, site_id, name, definition, created_at FROM {db.t('goals')} FINAL"
                f" WHERE site_id = {lit(site_id)} AND id = {lit(int(goal_id))}"
            )
            if not rows:
                return False
            db.conn.insert(db.t("goals"), self._GOAL_COLUMNS, [(*rows[0], VERSIONS.next(), 1)])
            return True

        return self._run(delete)

    # -- experiments -------------------------------------------------------------------------

    def experiments(self, site_id: str) -> list[Experiment]:
        return self._ask(experiments.list_experiments, site_id)

    def experiment(self, site_id: str, key: str) -> Experiment | None:
        return self._ask(experiments.get_experiment, site_id, key)

    def create_experiment(self, site_id: str, experiment: Experiment) -> Experiment | None:
        now = int(time.time() * 1000)
        return self._run(lambda db: experiments.create_experiment(db, site_id, experiment, now))

    def delete_experiment(self, site_id: str, key: str) -> bool:
        return self._run(lambda db: experiments.delete_experiment(db, site_id, key))

    def experiment_counts(self, scope: Scope, key: str, goal: Goal) -> ExperimentCounts:
        return self._ask(experiments.counts, scope, key, goal)

    # -- the likely-outcome model ------------------------------------------------------------

    def save_outcome(self, site_id: str, report: dict[str, Any], scores: Sequence[Score]) -> None:
        self._run(lambda db: outcome.save(db, site_id, report, scores))

    def outcome_report(self, site_id: str) -> dict[str, Any] | None:
        return self._ask(outcome.report, site_id)

    def outcome_scores(self, site_id: str, label: str, limit: int) -> list[dict[str, Any]]:
        return self._ask(outcome.scores, site_id, label, limit)

    def outcome_counts(self, site_id: str) -> dict[str, int]:
        return self._ask(outcome.counts, site_id)

    def outcome_open_sessions(self, site_id: str, since: int, limit: int) -> list[dict[str, Any]]:
        return self._ask(outcome.open_sessions, site_id, since, limit)


    # -- journey triggers (collector/store/clickhouse/triggers.py) ---------------------------

    def trigger_rules(self, site_id: str) -> list[dict[str, Any]]:
        return self._ask(triggers.list_rules, site_id)

    def trigger_rule(self, site_id: str, rule_id: int) -> dict[str, Any] | None:
        return self._ask(triggers.get_rule, site_id, rule_id)

    def create_trigger_rule(self, site_id: str, rule: NewRule, secret: str) -> dict[str, Any]:
        return self._run(lambda db: triggers.create_rule(db, site_id, rule, secret))

    def update_trigger_rule(self, site_id: str, rule_id: int, changes: dict[str, object]) -> dict[str, Any] | None:
        return self._run(lambda db: triggers.update_rule(db, site_id, rule_id, changes))

    def delete_trigger_rule(self, site_id: str, rule_id: int) -> bool:
        return self._run(lambda db: triggers.delete_rule(db, site_id, rule_id))

    def trigger_deliveries(self, site_id: str, rule_id: int, limit: int) -> list[dict[str, Any]]:
        return self._ask(triggers.deliveries, site_id, rule_id, limit)

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (on the writer thread, briefly) after every write that may have made a
        trigger delivery or check due (writer.py says which)."""
        self.writer.on_commit.append(listener)

    def queue_trigger_delivery(self, delivery: Delivery, now: int) -> bool:
        return self._run(lambda db: triggers.queue(db, delivery, now))

    def triggers_next_due(self) -> int | None:
        return self._ask(triggers.next_due)

    def due_deliveries(self, now: int, limit: int) -> list[Outgoing]:
        return self._ask(triggers.due_deliveries, now, limit)

    def record_delivery_attempt(self, attempt: Attempt) -> None:
        self._run(lambda db: triggers.record_attempt(db, attempt))

    def due_trigger_checks(self, now: int, limit: int) -> list[tuple[Check, Rule | None]]:
        return self._ask(triggers.due_checks, now, limit)

    def trigger_check_events(self, check: Check, types: set[str]) -> list[Event]:
        return self._ask(triggers.visitor_events, check, types)

    def settle_trigger_checks(self, settled: list[tuple[Check, bool]], now: int) -> int:
        return self._run(lambda db: triggers.settle_checks(db, settled, now))



def _goal(row: Sequence[Any]) -> dict[str, Any]:
    goal_id, name, definition, created_at = row
    return {"id": int(goal_id), "name": name, **json_decoder.decode(definition), "created_at": int(created_at)}


def _site(row: Sequence[Any]) -> Site:
    return Site(
        id=row[0], name=row[1], write_key=row[2], origins=tuple(json_decoder.decode(row[3])),
        settings=json_decoder.decode(row[4]), created_at=int(row[5]),
    )


def _segment(row: Sequence[Any]) -> dict[str, Any]:
    segment_id, site_id, name, filters, created_at = row
    return {"id": int(segment_id), "site": site_id, "name": name,
            "filters": json_decoder.decode(filters), "created_at": int(created_at)}

