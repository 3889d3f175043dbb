"""The Client: checks each call, builds its event and queues it without blocking."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Union

from . import assign
from . import events as ev
from .consumer import Consumer
from .errors import EncodeError, ShutdownError
from .request import batch_url
from .sender import OnError, Sender, Stats, encode

log = logging.getLogger("trailmark")

DEFAULT_HOST = "http://127.0.0.1:8000"
# A site's secret server key, which `trailmark sites add` prints under its public write key.
SECRET_PREFIX = "sk_"
MAX_BATCH_EVENTS = 500  # the collector's limit per request
Id = Union[str, int, None]

_clients: weakref.WeakSet[Client] = weakref.WeakSet()


class Client:
    """Sends events to one site of a Trailmark collector from a background thread."""

    _consumer: Consumer | None
    _sync_sender: Sender | None

    def __init__(
        self,
        write_key: str,
        host: str = DEFAULT_HOST,
        *,
        on_error: OnError | None = None,
        batch_size: int = 100,
        max_batch_bytes: int = 500_000,
        flush_interval: float = 0.5,
        max_queue_size: int = 10_000,
        max_retries: int = 10,
        backoff_base: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float = 10.0,
        gzip: bool = True,
        sync_mode: bool = False,
        disabled: bool = False,
        shutdown_timeout: float | None = 30.0,
    ) -> None:
        if not isinstance(write_key, str) or not write_key:
            raise ValueError("write_key must be a non-empty str (`trailmark sites add` prints one)")
        if not disabled and not write_key.startswith(SECRET_PREFIX):
            # The public key works, but the collector then takes identify as a browser's claim.
            log.warning(
                "trailmark: %s... is a public write key; pass the site's secret server key (sk_...)"
                " so identify sets traits and links anon ids (docs/python-sdk.md)", write_key[:6],
            )
        batch_url(host)
        if not 1 <= batch_size <= MAX_BATCH_EVENTS:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_EVENTS}")
        for option, value in (
            ("max_batch_bytes", max_batch_bytes),
            ("max_queue_size", max_queue_size),
        ):
            if value < 1:
                raise ValueError(f"{option} must be positive")
        if max_retries < 0 or flush_interval < 0 or backoff_base < 0 or timeout <= 0:
            raise ValueError("max_retries, flush_interval and backoff_base must be >= 0, timeout > 0")
        if on_error is not None and not callable(on_error):
            raise TypeError("on_error must be callable as on_error(exception, events)")
        self.write_key = write_key
        self.host = host
        self.on_error = on_error
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.flush_interval = flush_interval
        self.max_queue_size = max_queue_size
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.gzip = gzip
        self.sync_mode = sync_mode
        self.disabled = disabled
        self.shutdown_timeout = shutdown_timeout
        self._reset()
        _clients.add(self)

    @property
    def dropped(self) -> int:
        """Events dropped in this process because the queue was full."""
        return self.stats.dropped

    @property
    def delivered(self) -> int:
        """Events the collector accepted, in this process."""
        return self.stats.delivered

    @property
    def failed(self) -> int:
        """Events handed to on_error, in this process."""
        return self.stats.failed

    @property
    def queued(self) -> int:
        """Events waiting for the consumer thread."""
        consumer = self._consumer
        return len(consumer.pending) if consumer is not None else 0

    # -- the event methods ------------------------------------------------------------------

    def track(
        self,
        user_id: Id,
        name: str,
        props: Mapping[str, Any] | None = None,
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
        url: str | None = None,
    ) -> str:
        """Record a named action with free-form props; returns the event id."""
        event = ev.base("track", user_id, anon_id, session_id, timestamp)
        event["name"] = ev.name("name", name)
        event["props"] = ev.props("props", props)
        ev.set_text(event, "url", url, ev.MAX_TEXT)
        return self._enqueue(event)

    def identify(
        self,
        user_id: str | int,
        traits: Mapping[str, Any] | None = None,
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Tie a known user (and the anon_id they had) to traits."""
        if user_id is None:
            raise ValueError("identify needs a user_id")
        event = ev.base("identify", user_id, anon_id, session_id, timestamp)
        event["traits"] = ev.props("traits", traits)
        return self._enqueue(event)

    def page(
        self,
        user_id: Id,
        url: str,
        *,
        title: str | None = None,
        referrer: str | None = None,
        route: str | None = None,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Record a pageview rendered by the server."""
        event = ev.base("pageview", user_id, anon_id, session_id, timestamp)
        event["url"] = ev.name("url", url, ev.MAX_TEXT)
        ev.set_text(event, "title", title)
        ev.set_text(event, "referrer", referrer, ev.MAX_TEXT)
        ev.set_text(event, "route", route)
        return self._enqueue(event)

    def cart_add(
        self,
        user_id: Id,
        item: Mapping[str, Any],
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """An item put in the cart: {sku, name, price, qty, currency, category}."""
        return self._cart("add", item, user_id, anon_id, session_id, timestamp)

    def cart_remove(
        self,
        user_id: Id,
        item: Mapping[str, Any],
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """An item taken out of the cart."""
        return self._cart("remove", item, user_id, anon_id, session_id, timestamp)

    def checkout(
        self,
        user_id: Id,
        items: Sequence[Mapping[str, Any]],
        value: float | None = None,
        currency: str | None = None,
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """The start of a checkout with the cart's items."""
        event = ev.base("checkout", user_id, anon_id, session_id, timestamp)
        event["items"] = ev.items(items)
        if value is not None:
            event["value"] = ev.money("value", value)
        if currency is not None:
            event["currency"] = ev.currency(currency)
        return self._enqueue(event)

    def purchase(
        self,
        user_id: Id,
        order_id: str | int,
        value: float,
        currency: str | None = None,
        items: Sequence[Mapping[str, Any]] | None = None,
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """A completed order; order_id should be your own order number."""
        event = ev.base("purchase", user_id, anon_id, session_id, timestamp)
        event["order_id"] = ev.identifier("order_id", order_id)
        event["value"] = ev.money("value", value)
        if currency is not None:
            event["currency"] = ev.currency(currency)
        event["items"] = ev.items(items) if items is not None else []
        return self._enqueue(event)

    def survey(
        self,
        user_id: Id,
        kind: str,
        score: int,
        *,
        scale: int | None = None,
        comment: str | None = None,
        survey_id: str | None = None,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """A survey answer: nps 0..10, csat 1..scale (5 or 7), ces 1..5 (5 = very easy)."""
        event = ev.base("survey", user_id, anon_id, session_id, timestamp)
        event.update(ev.survey_fields(kind, score, scale))
        ev.set_text(event, "comment", comment, ev.MAX_LONG)
        ev.set_text(event, "survey_id", survey_id)
        return self._enqueue(event)

    def variant(
        self,
        distinct_id: Id,
        key: str,
        variants: Sequence[str],
        weights: Sequence[float] | None = None,
        *,
        pin: str | None = None,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """The visitor's variant of experiment `key` (the same in every SDK), exposure recorded.

        `pin` (a variant name, e.g. from a QA query parameter) overrides the assignment and
        records nothing: QA views stay out of the results. The exposure is recorded once per
        visitor and experiment per 30 minutes in this process.
        """
        ev.name("key", key, ev.MAX_ID)
        who = distinct_id if distinct_id is not None else anon_id
        if who is None:
            raise ValueError("variant needs a distinct_id or an anon_id")
        chosen = assign.assign(key, str(who), variants, weights)
        if pin is not None and pin in variants:
            return pin
        if self._exposures.first(f"{key}:{who}:{chosen}"):
            self.exposure(distinct_id, key, chosen, anon_id=anon_id, session_id=session_id, timestamp=timestamp)
        return chosen

    def exposure(
        self,
        distinct_id: Id,
        key: str,
        variant: str,
        *,
        anon_id: Id = None,
        session_id: Id = None,
        timestamp: datetime | None = None,
    ) -> str:
        """Record that the visitor saw `variant` of experiment `key` (assigned elsewhere)."""
        event = ev.base("exposure", distinct_id, anon_id, session_id, timestamp)
        event["experiment"] = ev.name("key", key, ev.MAX_ID)
        event["variant"] = ev.name("variant", variant, ev.MAX_ID)
        return self._enqueue(event)

    # -- delivery ---------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued event is delivered or handed to on_error; False on timeout."""
        consumer = self._consumer
        return True if consumer is None else consumer.drain(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush (at most `timeout`, default shutdown_timeout), then stop the consumer thread."""
        timeout = self.shutdown_timeout if timeout is None else timeout
        consumer = self._consumer
        done = True if consumer is None else consumer.drain(timeout)
        with self._lock:
            consumer, self._consumer = self._consumer, None
            sync_sender, self._sync_sender = self._sync_sender, None
        if sync_sender is not None:
            sync_sender.transport.close()
        if consumer is None:
            return done
        # Without abort the thread sends what came in meanwhile; with it, it fails it fast.
        consumer.stop(abort=not done, timeout=self.timeout + 1.0)
        leftovers = []
        while consumer.pending:
            leftovers.append(consumer.pending.popleft())
        if leftovers:
            consumer.sender.report(ShutdownError("queued while shutting down"), leftovers)
        return done and not leftovers

    def _cart(
        self,
        action: str,
        item: Mapping[str, Any],
        user_id: Id,
        anon_id: Id,
        session_id: Id,
        timestamp: datetime | None,
    ) -> str:
        event = ev.base("cart", user_id, anon_id, session_id, timestamp)
        event["action"] = action
        event["item"] = ev.item(item)
        return self._enqueue(event)

    def _enqueue(self, event: dict[str, Any]) -> str:
        event_id: str = event["id"]
        if self.disabled:
            return event_id
        if self.sync_mode:
            self._send_now(event)
            return event_id
        consumer = self._consumer or self._start()
        if consumer is None or len(consumer.pending) >= self.max_queue_size:
            self._drop()
            return event_id
        pending = consumer.pending
        pending.append(event)
        if len(pending) >= consumer.wake_at:
            consumer.wake.set()
        return event_id

    def _drop(self) -> None:
        with self._lock:
            self.stats.dropped += 1
            dropped = self.stats.dropped
        if dropped == 1 or dropped % 1000 == 0:
            log.warning(
                "trailmark: queue full (%d events); %d event(s) dropped so far",
                self.max_queue_size,
                dropped,
            )

    def _sender(self) -> Sender:
        return Sender(
            self.write_key,
            self.host,
            on_error=self.on_error,
            stats=self.stats,
            timeout=self.timeout,
            compress=self.gzip,
            max_retries=self.max_retries,
            backoff_base=self.backoff_base,
            max_backoff=self.max_backoff,
        )

    def _start(self) -> Consumer | None:
        with self._lock:
            if self._consumer is None:
                consumer = Consumer(
                    self._sender(),
                    batch_size=self.batch_size,
                    max_batch_bytes=self.max_batch_bytes,
                    interval=self.flush_interval,
                )
                try:
                    consumer.start()
                except RuntimeError:  # "can't create new thread at interpreter shutdown"
                    log.error("trailmark: cannot start the consumer thread; event dropped")
                    return None
                self._consumer = consumer
            return self._consumer

    def _send_now(self, event: dict[str, Any]) -> None:
        with self._sync_lock:
            if self._sync_sender is None:
                self._sync_sender = self._sender()
            sender = self._sync_sender
            try:
                part = encode(event)
            except EncodeError as exc:
                sender.report(exc, [event])
                return
            sender.send([event], [part])

    def _reset(self) -> None:
        """Fresh per-process state: at start, and in a child after os.fork()."""
        self.stats = Stats()
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._consumer = None
        self._sync_sender = None
        self._exposures = assign.Recent()


def _after_fork_in_child() -> None:
    # The parent's thread does not exist in the child and its locks may be held; the
    # parent still delivers what it had queued, so the child starts empty (gunicorn preload).
    for client in list(_clients):
        client._reset()


def _shutdown_all() -> None:
    for client in list(_clients):
        try:
            client.shutdown()
        except Exception:
            log.exception("trailmark: shutdown at exit failed")


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_shutdown_all)
