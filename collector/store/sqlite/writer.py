"""The single SQLite writer: a bounded queue drained by one thread that commits in groups.

Every request waits for the commit that holds its rows, so an answered request is durable;
throughput comes from many requests sharing one transaction (group commit), never from
answering before the write. Every other write (sites, segments, salts, erasure, purge) is a
function handed to the same thread (datasette's `execute_write_fn`), so one process has one
write connection.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from collector.store.model import Overloaded, StoreFault, WriteBatch, WriteResult, WriterStopped
from collector.store.sqlite.connection import rollback
from collector.store.sqlite.faults import fault_of
from collector.store.sqlite.transaction import apply_group

log = logging.getLogger("trailmark.writer")

# Rows a single transaction takes at most: bounds commit latency for the requests waiting on it.
MAX_GROUP_ROWS = 20_000
# A commit this recent proves the store writable: /healthz need not queue a probe of its own.
WROTE_LATELY_SECONDS = 1.0


T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]


@dataclass
class _Pending:
    batch: WriteBatch
    done: Callable[[Any], None]
    fn: WriteFn | None = None  # an admin write: runs alone, on the write connection


@dataclass
class WriterStats:
    committed_events: int = 0
    commits: int = 0
    commit_seconds: float = 0.0
    failures: int = 0
    buckets: dict[float, int] = field(
        default_factory=lambda: dict.fromkeys((0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0), 0)
    )

    def observe(self, seconds: float) -> None:
        self.commits += 1
        self.commit_seconds += seconds
        for bound in self.buckets:
            if seconds <= bound:
                self.buckets[bound] += 1


class Writer:
    """Owns the only write connection; `submit` is called from the event loop."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], max_pending: int, path: str | None = None
    ) -> None:
        self._connect = connect
        self._path = path  # to name the file behind a fault
        self._max_pending = max_pending
        self._queue: deque[_Pending] = deque()
        self._pending_rows = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.stats = WriterStats()
        # The fault of the last transaction tried, None once one commits again.
        self.fault: StoreFault | None = None
        self._last_commit = float("-inf")
        # Called on the writer thread after each commit (never before): wakes trigger delivery.
        self.on_commit: list[Callable[[], None]] = []

    @property
    def depth(self) -> int:
        return self._pending_rows

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="trailmark-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def wrote_lately(self) -> bool:
        """Whether a transaction committed within WROTE_LATELY_SECONDS, with no fault since."""
        return self.fault is None and time.monotonic() - self._last_commit < WROTE_LATELY_SECONDS

    def probe(self) -> asyncio.Future[WriteResult]:
        """Commit a heartbeat row through the queue; raises the StoreFault that stops writes."""
        return self.submit(_NO_BATCH)

    def submit(self, batch: WriteBatch) -> asyncio.Future[WriteResult]:
        """Queue a batch; the future resolves after its transaction commits."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[WriteResult] = loop.create_future()

        def done(outcome: WriteResult | BaseException) -> None:
            loop.call_soon_threadsafe(_settle, future, outcome)

        self._put(batch, done)
        return future

    def write_sync(self, batch: WriteBatch) -> WriteResult:
        """Queue a batch and block until it commits (CLI tools, tests)."""
        event = threading.Event()
        box: list[WriteResult | BaseException] = []

        def done(outcome: WriteResult | BaseException) -> None:
            box.append(outcome)
            event.set()

        self._put(batch, done)
        event.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the writer thread, between group commits, and return its result.

        `fn` gets the write connection outside any transaction and opens its own (see
        `transaction`); its exception is raised here, a StoreFault when the store stopped it.
        """
        event = threading.Event()
        box: list[Any] = []

        def done(outcome: Any) -> None:
            box.append(outcome)
            event.set()

        self._put(_NO_BATCH, done, fn)
        event.wait()
        if isinstance(box[0], _Failed):
            raise box[0].error
        return box[0]  # type: ignore[no-any-return]

    def _put(
        self, batch: WriteBatch, done: Callable[[Any], None], fn: WriteFn | None = None
    ) -> None:
        with self._cond:
            if self._stopping or self._thread is None or not self._thread.is_alive():
                raise WriterStopped("the writer is not running")
            if self._pending_rows and self._pending_rows + batch.size > self._max_pending:
                raise Overloaded(f"write queue full ({self._pending_rows} rows pending)")
            self._queue.append(_Pending(batch, done, fn))
            self._pending_rows += batch.size
            self._cond.notify()

    def _take_group(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            if self._queue[0].fn is not None:
                return [self._queue.popleft()]
            group: list[_Pending] = []
            rows = 0
            while (
                self._queue and self._queue[0].fn is None
                and (not group or rows + self._queue[0].batch.size <= MAX_GROUP_ROWS)
            ):
                item = self._queue.popleft()
                rows += item.batch.size
                group.append(item)
            return group

    def _release(self, group: list[_Pending]) -> None:
        with self._cond:
            self._pending_rows -= sum(p.batch.size for p in group)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while (group := self._take_group()) is not None:
                if conn is None:
                    try:
                        conn = self._connect()
                    except sqlite3.Error as exc:  # the file or its folder is gone or read-only
                        self._fail(group, fault_of(exc, self._path) or StoreFault("io_error", str(exc)))
                        continue
                if group[0].fn is not None:
                    self._call(conn, group[0])
                else:
                    self._commit(conn, group)
        finally:
            if conn is not None:
                conn.close()

    def _call(self, conn: sqlite3.Connection, pending: _Pending) -> None:
        assert pending.fn is not None
        try:
            result = pending.fn(conn)
        except Exception as exc:  # noqa: BLE001 - raised to the caller, the writer goes on
            rollback(conn)
            fault = fault_of(exc, self._path)
            if fault is not None:
                self._set_fault(fault)
            pending.done(_Failed(fault or exc))
        else:
            for listener in self.on_commit:
                listener()
            pending.done(result)

    def _commit(self, conn: sqlite3.Connection, group: list[_Pending]) -> None:
        started = time.perf_counter()
        batches = [p.batch for p in group]
        try:
            results = apply_group(conn, batches, heartbeat=any(b is _NO_BATCH for b in batches))
        except Exception as exc:  # noqa: BLE001 - isolate the batch that fails, keep the others
            self.stats.failures += 1
            fault = fault_of(exc, self._path)
            if fault is not None:
                self._fail(group, fault)
                return
            log.exception("group commit failed; retrying its %d batches one by one", len(group))
            self._release(group)
            for pending in group:
                self._commit_alone(conn, pending)
            return
        self._committed()
        self.stats.observe(time.perf_counter() - started)
        self.stats.committed_events += sum(r.stored for r in results)
        self._release(group)
        for pending, result in zip(group, results, strict=True):
            pending.done(result)

    def _commit_alone(self, conn: sqlite3.Connection, pending: _Pending) -> None:
        try:
            (result,) = apply_group(conn, [pending.batch], heartbeat=pending.batch is _NO_BATCH)
        except Exception as exc:  # noqa: BLE001 - answered to that request as a server error
            fault = fault_of(exc, self._path)
            if fault is not None:
                self._set_fault(fault)
                pending.done(fault)
                return
            log.exception("batch for site %s failed alone", pending.batch.site_id)
            pending.done(exc)
        else:
            self._committed()
            self.stats.committed_events += result.stored
            pending.done(result)

    def _fail(self, group: list[_Pending], fault: StoreFault) -> None:
        """Answer the group and everything queued behind it with the fault, storing none of it.

        What was queued meanwhile would wait out the same lock or meet the same full disk;
        answered now, no request waits longer than one attempt, and each SDK sends it again.
        """
        with self._cond:
            group = group + list(self._queue)
            self._queue.clear()
        self._release(group)
        self._set_fault(fault)
        for pending in group:
            pending.done(_Failed(fault) if pending.fn is not None else fault)

    def _set_fault(self, fault: StoreFault) -> None:
        if self.fault is None or self.fault.kind != fault.kind:
            log.error("store fault, writes answer 503 until it passes: %s", fault)
        self.fault = fault

    def _committed(self) -> None:
        self._last_commit = time.monotonic()
        for listener in self.on_commit:
            listener()
        if self.fault is not None:
            log.warning("store recovered from: %s", self.fault)
            self.fault = None


@dataclass
class _Failed:
    error: Exception


_NO_BATCH = WriteBatch(site_id=None, received_at=0)


def _settle(future: asyncio.Future[WriteResult], outcome: WriteResult | BaseException) -> None:
    if future.done():  # the request was cancelled (client went away); its rows are stored anyway
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
