"""The path of one event from the wire to the row the store keeps, one named step after another:

    decode -> clock -> scrub URLs -> route -> acquisition -> context and visitor -> row

`Pipeline` holds what the steps open once (the GeoIP reader, trusted proxies, the daily salts,
per-site settings); the steps themselves are the pure functions of `collector.enrich`. What every
event of one request shares (device, place, the cookieless visitor) is worked out once per request
as `Facts`. An event that cannot be stored raises `Rejected` with one of a closed set of kinds,
which the dead letters and /metrics both read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import msgspec
from starlette.datastructures import Headers

from collector import wire
from collector.config import Settings
from collector.depth import MAX_DEPTH, deeper_than
from collector.enrich import (
    Device,
    Geo,
    GeoReader,
    Salts,
    classify,
    client_ip,
    parse_device,
    parse_param_names,
    parse_trusted_proxies,
    route_for,
    strip_sensitive,
    utc_day,
    visitor_hash,
)
from collector.enrich.clock import correct_ts, ts_problem
from collector.ingest.proxy_alarm import ProxyAlarm
from collector.store import Site, Store
from collector.store.model import Acquisition, Context, EventRow, RejectKind

# Longer user agents are junk or attacks; the prefix classifies just as well and bounds the cache.
MAX_UA = 512
# Stands in for an event nested too deep for msgspec to skip (see ingest.batch): refused as too_deep.
TOO_DEEP_MARK = b'"\\u0000too deep"'


class Rejected(ValueError):
    """An event that is not stored: its kind (closed set) and the sentence its sender reads."""

    def __init__(self, kind: RejectKind, message: str) -> None:
        super().__init__(message)
        self.kind: RejectKind = kind
        self.message = message


@dataclass(slots=True)
class Facts:
    """What every event of one request shares."""

    site_id: str
    received_at: int
    sent_at: int | None
    context: Context = field(default_factory=Context)
    anon_id: str | None = None  # derived for cookieless visitors
    clock_guessed: bool = False  # no sent_at and a clock far off: sent_at stood in by guess_sent_at


# ---- decode ------------------------------------------------------------------------------------

def decode(raw: bytes) -> wire.Event:
    """One event of a batch decoded alone, or Rejected naming what is wrong with it."""
    if len(raw) > wire.MAX_EVENT_BYTES:
        raise Rejected("too_large", f"event is larger than {wire.MAX_EVENT_BYTES} bytes")
    if raw == TOO_DEEP_MARK or deeper_than(raw, MAX_DEPTH):
        raise Rejected("too_deep", f"nested deeper than {MAX_DEPTH} levels")
    try:
        event: wire.Event = wire.event_decoder.decode(raw)
        return event
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise Rejected("invalid", str(exc)) from None
    except UnicodeDecodeError:
        raise Rejected("invalid", "event is not valid UTF-8") from None


# ---- clock -------------------------------------------------------------------------------------

def clock(event: wire.Event, facts: Facts) -> int:
    """The event's time on the collector's clock; Rejected when that lies past ingest's retention."""
    ts = correct_ts(event.ts, facts.sent_at, facts.received_at)
    problem = ts_problem(ts, facts.received_at)
    if problem:
        raise Rejected("too_old", problem)
    return ts


# ---- route -------------------------------------------------------------------------------------

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


# ---- acquisition -------------------------------------------------------------------------------

def acquisition(url: str | None, referrer: str | None) -> Acquisition:
    """Where the visit came from, classified from its landing URL and (scrubbed) referrer."""
    found = classify(url, referrer)
    return Acquisition(
        channel=found.channel,
        referrer=referrer or None,
        utm_source=found.utm_source or None,
        utm_medium=found.utm_medium or None,
        utm_campaign=found.utm_campaign or None,
        utm_term=found.utm_term or None,
        utm_content=found.utm_content or None,
    )


# ---- row ---------------------------------------------------------------------------------------

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


def to_row(
    event: wire.Event, facts: Facts, names: frozenset[str] = frozenset(), templates: tuple[str, ...] = (),
) -> EventRow:
    """The stored row of one event: clock, URLs without the `names` parameters, route from the
    site's `templates`, acquisition on pageviews, and last the `data` JSON, encoded once."""
    kind, data_fields, name_field = _LAYOUT[type(event)]
    ts = clock(event, facts)
    url = strip_sensitive(event.url, names) if event.url else event.url
    path = path_of(url)
    route = getattr(event, "route", None)
    if route is None and path is not None:
        route = route_for(path, templates)
    data: dict[str, Any] = {}
    for data_field in data_fields:
        value = getattr(event, data_field)
        if value is not None:
            data[data_field] = value
    if facts.clock_guessed:  # the client's own time stays in client_ts
        data["clock_guessed"] = True
    name = getattr(event, name_field) if name_field else None
    row = EventRow(
        id=event.id, type=kind, ts=ts, client_ts=event.ts,
        anon_id=event.anon_id or facts.anon_id, user_id=event.user_id, session_id=event.session_id,
        url=url, path=path, route=route,
        name=name[:256] if isinstance(name, str) else None,
        touchpoint=event.touchpoint or default_touchpoint(url),
        vw=event.vw, vh=event.vh,
    )
    match event:
        case wire.Pageview(referrer=referrer):
            if referrer is not None:
                data["referrer"] = referrer = strip_sensitive(referrer, names)
            row.acquisition = acquisition(url, referrer)
        case wire.Click(rage=rage, dead=dead):
            row.rage, row.dead = rage, dead
        case wire.Purchase(value=value):
            row.revenue = value
        case wire.Identify(traits=traits):
            row.traits = wire.json_encoder.encode(traits)
    row.data = wire.json_encoder.encode(data)  # last: the steps above may still change a field
    return row


# ---- the steps that need what is opened once ----------------------------------------------------

class Pipeline:
    """Holds what the steps open once (GeoIP reader, trusted proxies, salts, per-site settings)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.trusted = parse_trusted_proxies(",".join(settings.trusted_proxies))
        self.proxy_alarm = ProxyAlarm(self.trusted)
        self.geo = GeoReader(settings.geoip)
        # ipaddress parsing costs more than the rest of a request's enrichment; repeat visitors
        # send the same (peer, header) pair.
        self._client_ip = lru_cache(maxsize=65536)(self._resolve_ip)
        self._sites: dict[str, tuple[Site, frozenset[str], tuple[str, ...]]] = {}
        self.sensitive = parse_param_names(",".join(settings.sensitive_params))
        # The daily salts live in the store, so every collector sharing it derives the same ids.
        self.salts = Salts(store.salt)

    def close(self) -> None:
        self.geo.close()

    def client(self, peer: str | None, headers: Headers) -> tuple[str, bool]:
        """(client IP, whether that IP is a proxy's we cannot see through rather than the visitor's):
        the socket peer, or X-Forwarded-For's client when the peer is a trusted proxy."""
        hidden = self.proxy_alarm.check(peer, headers)
        return self._client_ip(peer, headers.get("x-forwarded-for")), hidden

    def _resolve_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        return client_ip(peer, forwarded_for, self.trusted)

    def facts(self, ip: str, user_agent: str, site: Site, received_at: int, sent_at: int | None) -> Facts:
        """Context and visitor: what all events of one request share (device, place, the
        cookieless visitor id). The IP is used here and never stored."""
        device = parse_device(user_agent[:MAX_UA])
        if device.device == "server":
            # A backend SDK's address and UA are the site's servers, not the visitor: no device,
            # no geo, and no derived visitor (backend events carry user_id or anon_id).
            return Facts(site_id=site.id, received_at=received_at, sent_at=sent_at)
        salt = self.salts.salt_for(utc_day(received_at))
        return Facts(
            site_id=site.id, received_at=received_at, sent_at=sent_at,
            context=_context(device, self.geo.lookup(ip)),
            anon_id=visitor_hash(salt, site.id, ip, user_agent[:MAX_UA]),
        )

    def row(self, event: wire.Event, facts: Facts, site: Site) -> EventRow:
        """The row of one event with the site's sensitive names and route templates."""
        names, templates = self._site_config(site)
        return to_row(event, facts, names, templates)

    def sensitive_names(self, site: Site) -> frozenset[str]:
        """The query parameters removed from a site's URLs: its own list, else the collector's."""
        return self._site_config(site)[0]

    def _site_config(self, site: Site) -> tuple[frozenset[str], tuple[str, ...]]:
        """A site's sensitive names and route templates, parsed once per Site object."""
        cached = self._sites.get(site.id)
        if cached is None or cached[0] is not site:  # the store hands out a new Site on change
            own = frozenset(n.lower() for n in _setting(site, "sensitive_params"))
            # A site's own list replaces the collector's (TRAILMARK_SENSITIVE_PARAMS or the default).
            cached = self._sites[site.id] = (site, own or self.sensitive, _setting(site, "route_templates"))
        return cached[1], cached[2]


def _setting(site: Site, name: str) -> tuple[str, ...]:
    """A per-site list setting (site.settings[name]) as a hashable tuple; () when unset."""
    value = site.settings.get(name)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def _context(device: Device, geo: Geo) -> Context:
    return Context(
        browser=device.browser or None,
        browser_version=device.browser_version or None,
        os=device.os or None,
        os_version=device.os_version or None,
        device=device.device,
        device_brand=device.brand or None,
        device_model=device.model or None,
        is_bot=device.is_bot,
        country=geo.country or None,
        country_name=geo.country_name or None,
        region=geo.region or None,
        city=geo.city or None,
        timezone=geo.timezone or None,
        lat=geo.lat,
        lon=geo.lon,
    )
