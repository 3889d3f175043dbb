"""The ClickHouse writer: the SQLite writer's queue discipline (bounded queue, group commit, 503 on
overload or a store fault, admin writes between groups) around ClickHouse's group apply."""

from __future__ import annotations

import logging
import time
from typing import Any

from collector.store.clickhouse.faults import fault_of
from collector.store.clickhouse.transaction import Applied, Db, apply
from collector.store.sqlite.writer import _NO_BATCH, Writer, _Failed, _Pending

log = logging.getLogger("trailmark.writer")


class ClickHouseWriter(Writer):
    """One thread drains the queue: the requests of many clients go out in one INSERT per table,
    and each is answered only after those inserts return (fsynced, see schema.SETTINGS).

    The trigger scheduler (on_commit) is woken by the writes that can make something due: admin
    writes, and groups that queued a delivery or an absence check. Woken after every group, it
    read the outbox three times per group and held ClickHouse from the writer meanwhile; work
    queued by another collector is found by its periodic look (triggers/service.py, IDLE_S)."""

    def __init__(self, db: Db, max_pending: int) -> None:
        super().__init__(lambda: _Handle(), max_pending)  # type: ignore[arg-type, return-value]
        self._db = db

    def _call(self, conn: Any, pending: _Pending) -> None:
        assert pending.fn is not None
        try:
            result = pending.fn(self._db)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - raised to the caller, the writer goes on
            fault = fault_of(exc)
            if fault is not None:
                self._set_fault(fault)
            pending.done(_Failed(fault or exc))
        else:
            for listener in self.on_commit:
                listener()
            pending.done(result)

    def _apply(self, group: list[_Pending]) -> Applied:
        batches = [p.batch for p in group]
        return apply(self._db, batches, heartbeat=any(b is _NO_BATCH for b in batches))

    def _stored(self, applied: Applied) -> None:
        """What the base writer's `_committed` does, waking the trigger scheduler only when needed."""
        self._last_commit = time.monotonic()
        if applied.triggered:
            for listener in self.on_commit:
                listener()
        if self.fault is not None:
            log.warning("store recovered from: %s", self.fault)
            self.fault = None

    def _commit(self, conn: Any, group: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            applied = self._apply(group)
        except Exception as exc:  # noqa: BLE001 - isolate the batch that fails, keep the others
            self.stats.failures += 1
            fault = fault_of(exc)
            if fault is not None:
                self._fail(group, fault)
                return
            log.exception("group insert failed; retrying its %d batches one by one", len(group))
            self._release(group)
            for pending in group:
                self._commit_alone(conn, pending)
            return
        self._stored(applied)
        self.stats.observe(time.perf_counter() - started)
        self.stats.committed_events += sum(r.stored for r in applied.results)
        self._release(group)
        for pending, result in zip(group, applied.results, strict=True):
            pending.done(result)

    def _commit_alone(self, conn: Any, pending: _Pending) -> None:
        try:
            applied = self._apply([pending])
            (result,) = applied.results
        except Exception as exc:  # noqa: BLE001 - answered to that request as a server error
            fault = fault_of(exc)
            if fault is not None:
                self._set_fault(fault)
                pending.done(fault)
                return
            log.exception("batch for site %s failed alone", pending.batch.site_id)
            pending.done(exc)
        else:
            self._stored(applied)
            self.stats.committed_events += result.stored
            pending.done(result)


class _Handle:
    """What the base writer holds as its connection: the store's own connection outlives the thread."""

    in_transaction = False

    def close(self) -> None:
        pass
