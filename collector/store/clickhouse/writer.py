"""The ClickHouse writer: the SQLite writer's queue discipline (bounded queue, group commit, 503 on
overload, admin writes between groups) around ClickHouse's group apply."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from collector.store.clickhouse.transaction import Db, apply_group
from collector.store.sqlite.writer import Writer, _Failed, _Pending

log = logging.getLogger("trailmark.writer")


class ClickHouseWriter(Writer):
    """One thread drains the queue: the requests of many clients go out in one INSERT per table,
    and each is answered only after those inserts return (fsynced, see schema.SETTINGS)."""

    def __init__(self, db: Db, max_pending: int) -> None:
        super().__init__(lambda: _Handle(db), max_pending)  # type: ignore[arg-type, return-value]
        self._db = db

    def _call(self, conn: Any, pending: _Pending) -> None:
        assert pending.fn is not None
        try:
            result = pending.fn(self._db)
        except Exception as exc:  # noqa: BLE001 - raised to the caller, the writer goes on
            pending.done(_Failed(exc))
        else:
            pending.done(result)

    def _commit(self, conn: Any, group: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            results = apply_group(self._db, [p.batch for p in group])
        except Exception:  # noqa: BLE001 - isolate the batch that fails, keep the others
            log.exception("group insert failed; retrying its %d batches one by one", len(group))
            self.stats.failures += 1
            self._release(group)
            for pending in group:
                self._commit_alone(conn, pending)
            return
        self.stats.observe(time.perf_counter() - started)
        self.stats.committed_events += sum(r.stored for r in results)
        self._release(group)
        for pending, result in zip(group, results, strict=True):
            pending.done(result)

    def _commit_alone(self, conn: Any, pending: _Pending) -> None:
        try:
            (result,) = apply_group(self._db, [pending.batch])
        except Exception as exc:  # noqa: BLE001 - answered to that request as a server error
            log.exception("batch for site %s failed alone", pending.batch.site_id)
            pending.done(exc)
        else:
            self.stats.committed_events += result.stored
            pending.done(result)


class _Handle:
    """What the base writer holds as its connection: the store's connection outlives the thread."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self.in_transaction = False

    def close(self) -> None:
        pass


WriteFn = Callable[[Db], Any]
