"""The daemon thread that takes queued events in batches (by count, bytes and time) to a Sender."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import Any

from .errors import EncodeError, ShutdownError
from .sender import Sender, encode

log = logging.getLogger("trailmark")

# Room for {"key":...,"sent_at":...,"events":[]} around the events.
ENVELOPE_BYTES = 256
NEVER = sys.maxsize


class Consumer(threading.Thread):
    """Owns the queue of one client in one process and drains it through its Sender."""

    def __init__(self, sender: Sender, *, batch_size: int, max_batch_bytes: int, interval: float) -> None:
        super().__init__(name="trailmark-consumer", daemon=True)
        self.sender = sender
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.interval = interval
        # Callers append without a lock (deque appends are atomic) and set `wake` only once
        # len(pending) reaches `wake_at`, so a track() call costs an append and a compare.
        self.pending: deque[dict[str, Any]] = deque()
        self.wake_at = NEVER
        self.wake = threading.Event()
        self.progress = threading.Condition()
        self.busy = False
        self.flushing = False
        self.stopping = False

    def run(self) -> None:
        """Batch and send until stopped with nothing left."""
        try:
            while True:
                if self.sender.abort.is_set():
                    self._fail_pending()
                    break
                if not self.pending:
                    if self.stopping:
                        break
                    self._sleep(1, None)
                    continue
                if len(self.pending) < self.batch_size and not (self.flushing or self.stopping):
                    self._sleep(self.batch_size, self.interval)
                self._send_batch()
        finally:
            with self.progress:
                self.busy = False
                self.progress.notify_all()

    def drain(self, timeout: float | None) -> bool:
        """Send what is pending now, without waiting for a full batch; False on timeout."""
        if threading.current_thread() is self:
            return False  # flush() from inside on_error would wait for itself forever
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.progress:
            self.flushing = True
            self.wake.set()
            while self.pending or self.busy:
                if not self.is_alive():
                    return not self.pending
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                # Bounded so that a consumer that died is noticed instead of waited on forever.
                self.progress.wait(0.5 if remaining is None else min(remaining, 0.5))
        return True

    def stop(self, abort: bool, timeout: float | None) -> None:
        """Finish (or, with abort, fail) what is pending, then end the thread."""
        self.stopping = True
        if abort:
            self.sender.abort.set()
        self.wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)
        self.sender.transport.close()

    def _sleep(self, threshold: int, timeout: float | None) -> None:
        # Clear before checking: a set() that lands after the check still wakes the wait.
        self.wake.clear()
        self.wake_at = threshold
        if len(self.pending) < threshold and not (self.flushing or self.stopping):
            self.wake.wait(timeout)
        self.wake_at = NEVER

    def _send_batch(self) -> None:
        self.busy = True
        events: list[dict[str, Any]] = []
        parts: list[bytes] = []
        size = ENVELOPE_BYTES
        pending = self.pending
        while pending and len(events) < self.batch_size:
            event = pending[0]
            try:
                part = encode(event)
            except EncodeError as exc:
                pending.popleft()
                self.sender.report(exc, [event])
                continue
            if events and size + len(part) + 1 > self.max_batch_bytes:
                break
            pending.popleft()
            events.append(event)
            parts.append(part)
            size += len(part) + 1
        if events:
            self.sender.send(events, parts)
        with self.progress:
            if not pending:
                self.flushing = False
            self.busy = False
            self.progress.notify_all()

    def _fail_pending(self) -> None:
        events = []
        while self.pending:  # popleft, not clear(): a caller may append meanwhile
            events.append(self.pending.popleft())
        if events:
            self.sender.report(ShutdownError("shut down before these events were sent"), events)
