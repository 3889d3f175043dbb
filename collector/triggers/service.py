"""The trigger service: one scheduler thread that settles due absence checks and hands due
deliveries to a few sender threads, each attempt's outcome written back through the store.

It sleeps until the earliest due time the store knows (an indexed minimum, never a scan) and
is woken by every commit, so a rule that becomes true is posted within milliseconds.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from collector.query.definitions import yes_no
from collector.triggers import sender
from collector.triggers.evaluate import absent_seen
from collector.triggers.outbox import Attempt, Outgoing

if TYPE_CHECKING:
    from collector.store import Store, TriggerStore

log = logging.getLogger("trailmark.triggers")

# The scheduler looks again at least this often (another process may have queued work).
IDLE_S = 5.0
BATCH = 500


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Delivery settings (docs/triggers.md; TRAILMARK_WEBHOOK_* variables set them)."""

    allow_private: bool = False
    timeout_s: float = 10.0
    max_attempts: int = 10
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 3600.0
    disable_after: int = 20  # consecutive failed attempts of one rule
    senders: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Policy:
        """TRAILMARK_WEBHOOK_ALLOW_PRIVATE, _TIMEOUT, _MAX_ATTEMPTS, _BACKOFF_BASE, _BACKOFF_CAP, _DISABLE_AFTER."""
        def number(name: str, default: float) -> float:
            value = env.get(name)
            return float(value) if value not in (None, "") else default

        policy = cls(
            allow_private=yes_no(env.get("TRAILMARK_WEBHOOK_ALLOW_PRIVATE", "")) is True,
            timeout_s=number("TRAILMARK_WEBHOOK_TIMEOUT", cls.timeout_s),
            max_attempts=int(number("TRAILMARK_WEBHOOK_MAX_ATTEMPTS", cls.max_attempts)),
            backoff_base_s=number("TRAILMARK_WEBHOOK_BACKOFF_BASE", cls.backoff_base_s),
            backoff_cap_s=number("TRAILMARK_WEBHOOK_BACKOFF_CAP", cls.backoff_cap_s),
            disable_after=int(number("TRAILMARK_WEBHOOK_DISABLE_AFTER", cls.disable_after)),
        )
        assert policy.timeout_s > 0 and policy.max_attempts >= 1 and policy.disable_after >= 1, (
            "TRAILMARK_WEBHOOK_TIMEOUT must be positive, _MAX_ATTEMPTS and _DISABLE_AFTER at least 1"
        )
        return policy

    def backoff_s(self, attempts: int) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(n-1))]."""
        return random.uniform(0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempts - 1)))


def _now() -> int:
    return int(time.time() * 1000)


def supported(store: object) -> bool:
    """Whether a store engine keeps triggers: an engine without them still serves everything else."""
    from collector.store import TriggerStore  # the store imports this package's types

    return isinstance(store, TriggerStore)


def retryable(outcome: sender.Outcome) -> bool:
    """Network errors, 5xx and 429 are tried again; other answers are final."""
    if outcome.refused:
        return False
    return outcome.code is None or outcome.code >= 500 or outcome.code == 429


class Triggers:
    """Runs beside the collector (the app's lifespan starts and stops it)."""

    def __init__(self, store: Store, policy: Policy, base_url: str) -> None:
        # start() checks that the engine keeps triggers before anything asks it for them.
        self.store = cast("TriggerStore", store)
        self.policy = policy
        self.base_url = base_url.rstrip("/")
        self._wake = threading.Event()
        self._stopping = False
        self._in_flight: set[str] = set()
        # Attempts recorded per delivery: a due list read just before an attempt was recorded
        # must not send that delivery again.
        self._recorded: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if not supported(self.store):
            log.warning("the %s store does not keep journey triggers: none will fire", self.store.engine)
            return
        self.store.on_commit(self._wake.set)
        self._pool = ThreadPoolExecutor(self.policy.senders, thread_name_prefix="trailmark-webhook")
        self._thread = threading.Thread(target=self._run, name="trailmark-triggers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling and wait for the attempts under way (each bounded by the timeout)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            progressed = False
            try:
                now = _now()
                progressed = self._settle_checks(now) | self._dispatch(now)
                due = self.store.triggers_next_due()
            except Exception:  # noqa: BLE001 - a store fault passes; the loop must not die
                log.exception("trigger scheduling failed; trying again shortly")
                due = None
            wait = IDLE_S if due is None else max(0.0, (due - _now()) / 1000)
            if wait == 0 and not progressed:
                # What is due is being sent already: its outcome, once recorded, wakes the loop.
                wait = IDLE_S
            self._wake.wait(min(wait, IDLE_S))

    def _settle_checks(self, now: int) -> bool:
        """Fire each due absence check whose absent event did not happen; drop the others."""
        settled_any = False
        while not self._stopping:
            due = self.store.due_trigger_checks(now, BATCH)
            settled = []
            for check, rule in due:
                send = False
                if rule is not None and rule.spec.absent is not None:
                    later = self.store.trigger_check_events(check, {rule.spec.absent.type})
                    send = not absent_seen(rule, check, later)
                settled.append((check, send))
            if settled:  # one transaction for the lot: a wave of carts coming due is not a commit each
                self.store.settle_trigger_checks(settled, now)
                settled_any = True
            if len(due) < BATCH:
                return settled_any
        return settled_any

    def _dispatch(self, now: int) -> bool:
        """Hand due deliveries not under way to the senders; whether any was handed."""
        assert self._pool is not None
        handed = False
        for item in self.store.due_deliveries(now, BATCH):
            with self._lock:
                if item.id in self._in_flight or item.attempts < self._recorded.get(item.id, 0):
                    continue
                self._in_flight.add(item.id)
            self._pool.submit(self._deliver, item)
            handed = True
        return handed

    def _deliver(self, item: Outgoing) -> None:
        try:
            started = _now()
            outcome = sender.post(
                item, base_url=self.base_url, allow_private=self.policy.allow_private, timeout=self.policy.timeout_s
            )
            attempts = item.attempts + 1
            delivered = outcome.code is not None and 200 <= outcome.code < 300
            retry_at = None
            if not delivered and retryable(outcome) and attempts < self.policy.max_attempts:
                delay = self.policy.backoff_s(attempts)
                if outcome.retry_after is not None:  # the receiver said when: not before that
                    delay = max(delay, min(outcome.retry_after, self.policy.backoff_cap_s))
                retry_at = _now() + int(delay * 1000)
            self.store.record_delivery_attempt(Attempt(
                item.id, item.rule_id, started, delivered, outcome.code, outcome.error, outcome.latency_ms,
                retry_at, self.policy.disable_after,
            ))
            with self._lock:
                if len(self._recorded) > 10_000:
                    self._recorded.clear()
                self._recorded[item.id] = attempts
        except Exception:  # noqa: BLE001 - the delivery stays due and is tried again
            log.exception("delivery %s failed before its outcome was recorded", item.id)
        finally:
            with self._lock:
                self._in_flight.discard(item.id)
            self._wake.set()
