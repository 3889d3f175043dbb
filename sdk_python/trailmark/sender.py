"""Delivery of one batch: post, retry what may succeed later, report the rest to on_error."""

from __future__ import annotations

import http.client
import json
import logging
import random
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable
from uuid import UUID

from .errors import APIError, EncodeError, RejectedError, ShutdownError
from .request import Transport, envelope

log = logging.getLogger("trailmark")

OnError = Callable[[Exception, list[dict[str, Any]]], Any]

# The collector's limit on one encoded event (collector/wire.py MAX_EVENT_BYTES).
MAX_EVENT_BYTES = 32 * 1024
# 408 and 429 say "later"; every 5xx may be a restart or an overload.
RETRY_4XX = frozenset((408, 429))


def _default(value: object) -> object:
    # Types backends commonly put in props; anything else is a programmer error for on_error.
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


_encoder = json.JSONEncoder(separators=(",", ":"), default=_default, allow_nan=False)


def encode(event: dict[str, Any]) -> bytes:
    """One event as compact JSON; EncodeError if it cannot be sent at all."""
    try:
        data = _encoder.encode(event).encode()
    except Exception as exc:  # TypeError, ValueError (NaN, cycles), RecursionError
        raise EncodeError(f"event {event.get('id')} cannot be encoded: {exc}") from exc
    if len(data) > MAX_EVENT_BYTES:
        raise EncodeError(f"event {event.get('id')} is {len(data)} bytes, over {MAX_EVENT_BYTES}")
    return data


class Stats:
    """Event counts of one client in this process."""

    __slots__ = ("delivered", "failed", "retries", "dropped")

    def __init__(self) -> None:
        self.delivered = 0
        self.failed = 0
        self.retries = 0
        self.dropped = 0


class Sender:
    """Sends batches with retries; used by the consumer thread, or by the caller in sync mode."""

    def __init__(
        self,
        write_key: str,
        host: str,
        *,
        on_error: OnError | None,
        stats: Stats,
        timeout: float,
        compress: bool,
        max_retries: int,
        backoff_base: float,
        max_backoff: float,
    ) -> None:
        self.write_key = write_key
        self.transport = Transport(host, timeout, compress)
        self.on_error = on_error
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        # Set by shutdown() when time is up: cuts backoff waits short and fails the batch.
        self.abort = threading.Event()
        self.stats = stats

    def send(self, events: list[dict[str, Any]], parts: list[bytes]) -> None:
        """Deliver one batch or report it; never raises."""
        try:
            self._send(events, parts)
        except Exception as exc:  # a bug here must not kill the consumer thread or the caller
            log.exception("trailmark: unexpected error while sending %d event(s)", len(events))
            self.report(exc, events)

    def report(self, exc: Exception, events: list[dict[str, Any]]) -> None:
        """Log a delivery failure and hand it to on_error."""
        self.stats.failed += len(events)
        log.error("trailmark: %d event(s) not delivered: %s", len(events), exc)
        if self.on_error is not None:
            try:
                self.on_error(exc, events)
            except Exception:
                log.exception("trailmark: on_error raised")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: half fixed, half random, so clients spread out."""
        delay = min(self.max_backoff, self.backoff_base * 2.0**attempt)
        return delay / 2 + random.uniform(0, delay / 2)

    def _send(self, events: list[dict[str, Any]], parts: list[bytes]) -> None:
        attempt = 0
        while True:
            wait: float | None = None
            try:
                # Encoded per attempt so that sent_at is the time of this attempt (clock skew).
                answer = self.transport.post(envelope(self.write_key, parts))
            except (OSError, http.client.HTTPException) as exc:
                error: Exception = exc
            else:
                if 200 <= answer.status < 300:
                    self._accepted(events, answer.body)
                    return
                message = answer.body.get("error") if isinstance(answer.body, dict) else None
                error = APIError(answer.status, str(message or "no reason given"), answer.retry_after)
                if answer.status < 500 and answer.status not in RETRY_4XX:
                    self.report(error, events)
                    return
                wait = answer.retry_after
            if attempt >= self.max_retries:
                self.report(error, events)
                return
            if not wait:
                wait = self.backoff(attempt)
            attempt += 1
            self.stats.retries += 1
            log.info("trailmark: %s; retry %d/%d in %.2fs", error, attempt, self.max_retries, wait)
            if self.abort.wait(wait):
                self.report(ShutdownError(f"shut down while retrying after: {error}"), events)
                return

    def _accepted(self, events: list[dict[str, Any]], body: Any) -> None:
        rejected = body.get("rejected") if isinstance(body, dict) else None
        bad: dict[int, str] = {}
        for entry in rejected or ():
            index = entry.get("index") if isinstance(entry, dict) else None
            if isinstance(index, int) and 0 <= index < len(events):
                bad[index] = str(entry.get("error", "rejected"))
        self.stats.delivered += len(events) - len(bad)
        if bad:
            # Retrying cannot help: the same event would be rejected for the same reason.
            order = sorted(bad)
            self.report(RejectedError([bad[i] for i in order]), [events[i] for i in order])
