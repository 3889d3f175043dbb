"""From a validated wire event to the row the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from collector import wire
from collector.enrich.clock import correct_ts, ts_problem
from collector.store.model import Acquisition, Context, EventRow


class TooOld(ValueError):
    """An event whose corrected time lies beyond enrich.clock.MAX_AGE_MS in the past."""


@dataclass(slots=True)
class Facts:
    """What every event of one request shares."""

    site_id: str
    received_at: int
    sent_at: int | None
    context: Context = field(default_factory=Context)
    anon_id: str | None = None  # derived for cookieless visitors
    clock_guessed: bool = False  # no sent_at and a clock far off: sent_at stood in by guess_sent_at


@lru_cache(maxsize=8192)  # a visit repeats its page URL on every event
def path_of(url: str | None) -> str | None:
    """The URL's path; a hash router's route (`#/active`, `#!/inbox`) is part of it, a `#section` anchor is not."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path = parts.path or "/"
    fragment = parts.fragment
    if fragment.startswith(("/", "!/")):
        path += "#" + fragment.partition("?")[0]
    return path


# Fields with a column of their own; all others go to the `data` JSON.
_COLUMNS = frozenset({"id", "ts", "anon_id", "session_id", "user_id", "url", "route", "touchpoint"})

# The column `name` holds the field analysts group by for each type.
_NAME_FIELD = {
    "track": "name", "vital": "name", "cart": "action", "survey": "kind", "click": "sel",
    "purchase": "order_id", "error": "message", "exposure": "experiment",
}


# Per event class: its tag, the fields that go to `data`, and the field behind `name`.
_LAYOUT = {
    cls: (
        cls.__struct_config__.tag,
        tuple(f for f in cls.__struct_fields__ if f not in _COLUMNS),
        _NAME_FIELD.get(cls.__struct_config__.tag),
    )
    for cls in wire.Event.__args__
}


def default_touchpoint(url: str | None) -> str:
    """An event that names no touchpoint: `web` when it happened on a page, else `server`.

    The browser SDK never sends one (its core has no bytes to spare) and always sends the page
    URL; a backend event without a URL (a track from a job) is the site's server speaking.
    """
    return "web" if url else "server"


def to_row(event: wire.Event, facts: Facts) -> EventRow:
    """The stored row of one event; raises TooOld for events past the retention of ingest."""
    kind, data_fields, name_field = _LAYOUT[type(event)]
    ts = correct_ts(event.ts, facts.sent_at, facts.received_at)
    problem = ts_problem(ts, facts.received_at)
    if problem:
        raise TooOld(problem)
    data = {}
    for data_field in data_fields:
        value = getattr(event, data_field)
        if value is not None:
            data[data_field] = value
    if facts.clock_guessed:  # the client's own time stays in client_ts
        data["clock_guessed"] = True
    name = getattr(event, name_field) if name_field else None
    row = EventRow(
        id=event.id,
        type=kind,
        ts=ts,
        client_ts=event.ts,
        anon_id=event.anon_id or facts.anon_id,
        user_id=event.user_id,
        session_id=event.session_id,
        url=event.url,
        path=path_of(event.url),
        route=getattr(event, "route", None),
        name=name[:256] if isinstance(name, str) else None,
        data=wire.json_encoder.encode(data),
        touchpoint=event.touchpoint or default_touchpoint(event.url),
        vw=event.vw,
        vh=event.vh,
    )
    if isinstance(event, wire.Pageview):
        row.acquisition = Acquisition(referrer=event.referrer)
    elif isinstance(event, wire.Click):
        row.rage, row.dead = event.rage, event.dead
    elif isinstance(event, wire.Purchase):
        row.revenue = event.value
    elif isinstance(event, wire.Identify):
        row.traits = wire.json_encoder.encode(event.traits)
    return row
