"""Enrichment glue: applies the pure functions of `collector.enrich` once per request and per event."""

from __future__ import annotations

from functools import lru_cache

import msgspec
from starlette.requests import Request

from collector.config import Settings
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
from collector.ingest.pipeline import Facts
from collector.ingest.proxy_alarm import ProxyAlarm
from collector.store import Site, Store
from collector.store.model import Acquisition, Context, EventRow

# Longer user agents are junk or attacks; the prefix classifies just as well and bounds the cache.
MAX_UA = 512
_json = msgspec.json.Decoder(dict)
_encode = msgspec.json.Encoder().encode


class Enricher:
    """Holds what enrichment opens once (GeoIP reader, trusted proxies, salts, caches)."""

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

    def client_ip(self, request: Request) -> str:
        """The socket peer, or X-Forwarded-For's client when the peer is a trusted proxy."""
        return self.client(request)[0]

    def client(self, request: Request) -> tuple[str, bool]:
        """(client IP, whether that IP is a proxy's we cannot see through rather than the visitor's)."""
        peer = request.client.host if request.client else None
        hidden = self.proxy_alarm.check(peer, request.headers)
        return self._client_ip(peer, request.headers.get("x-forwarded-for")), hidden

    def _resolve_ip(self, peer: str | None, forwarded_for: str | None) -> str:
        return client_ip(peer, forwarded_for, self.trusted)

    def facts(self, request: Request, site: Site, received_at: int, sent_at: int | None) -> Facts:
        """What all events of one request share: device, geo and the cookieless visitor id."""
        ip = getattr(request.state, "client_ip", None)
        if ip is None:
            ip = self.client_ip(request)
        ua = request.headers.get("user-agent", "")[:MAX_UA]
        device = parse_device(ua)
        if device.device == "server":
            # A backend SDK's address and UA are the site's servers, not the visitor: no device,
            # no geo, and no derived visitor (backend events carry user_id or anon_id).
            return Facts(site_id=site.id, received_at=received_at, sent_at=sent_at)
        salt = self.salts.salt_for(utc_day(received_at))
        return Facts(
            site_id=site.id,
            received_at=received_at,
            sent_at=sent_at,
            context=_context(device, self.geo.lookup(ip)),
            anon_id=visitor_hash(salt, site.id, ip, ua),
        )

    def row(self, row: EventRow, facts: Facts, site: Site) -> EventRow:
        """Per-event enrichment: secrets out of URLs, route template, acquisition on pageviews."""
        names, templates = self._site_config(site)
        if row.url:
            row.url = strip_sensitive(row.url, names)
        if row.route is None and row.path is not None:
            row.route = route_for(row.path, templates)
        referrer_changed = True  # unknown unless this is a pageview
        if row.acquisition is not None:
            raw = row.acquisition.referrer
            referrer = strip_sensitive(raw, names) if raw else raw
            referrer_changed = referrer != raw
            row.acquisition = _acquisition(row.url, referrer)
        if referrer_changed and b'"referrer"' in row.data:
            # to_row already copied the raw referrer into the data JSON; replace it there too.
            data = _json.decode(row.data)
            if isinstance(data.get("referrer"), str):
                data["referrer"] = strip_sensitive(data["referrer"], names)
                row.data = _encode(data)
        return row

    def sensitive_names(self, site: Site) -> frozenset[str]:
        """The query parameters removed from a site's URLs: its own list, else the collector's."""
        return self._site_config(site)[0]

    def _site_config(self, site: Site) -> tuple[frozenset[str], tuple[str, ...]]:
        """A site's sensitive names and route templates, parsed once per Site object."""
        cached = self._sites.get(site.id)
        if cached is None or cached[0] is not site:  # the store hands out a new Site on change
            names = _sensitive_names(_setting(site, "sensitive_params")) or self.sensitive
            cached = self._sites[site.id] = (site, names, _setting(site, "route_templates"))
        return cached[1], cached[2]


def _setting(site: Site, name: str) -> tuple[str, ...]:
    """A per-site list setting (site.settings[name]) as a hashable tuple; () when unset."""
    value = site.settings.get(name)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def _sensitive_names(configured: tuple[str, ...]) -> frozenset[str]:
    """A site's own list replaces the collector's (TRAILMARK_SENSITIVE_PARAMS or the default)."""
    return frozenset(n.lower() for n in configured)


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


def _acquisition(url: str | None, referrer: str | None) -> Acquisition:
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
