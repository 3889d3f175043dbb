"""Geo lookup in a MaxMind City database, opened once and cached per address."""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache
from pathlib import Path

import geoip2.database
import geoip2.errors
import geoip2.models
import maxminddb
import msgspec

log = logging.getLogger("trailmark.enrich")


class Geo(msgspec.Struct, frozen=True, kw_only=True):
    """Where an address is, as coarse as analytics needs (lat/lon to 0.1 degree, about 11 km)."""

    country: str = ""
    country_name: str = ""
    region: str = ""
    city: str = ""
    timezone: str = ""
    lat: float | None = None
    lon: float | None = None


EMPTY_GEO = Geo()


class GeoReader:
    """Looks up addresses in an optional .mmdb; without one every lookup is empty."""

    def __init__(self, path: str | Path | None, cache_size: int = 65536) -> None:
        self._reader: geoip2.database.Reader | None = None
        self._city = False
        if path is None or str(path) == "":
            log.info("geo: no GeoIP database configured (--geoip / TRAILMARK_GEOIP); geo is empty")
        else:
            self._reader = geoip2.database.Reader(str(path))
            db_type = self._reader.metadata().database_type
            # geoip2 picks the model by a substring of database_type ("GeoLite2-City" has City).
            self._city = "City" in db_type
            assert self._city or "Country" in db_type, (
                f"{path} is a {db_type!r} database; Trailmark needs a City or Country .mmdb"
            )
            log.info("geo: using %s (%s)", path, db_type)
        self.lookup = lru_cache(maxsize=cache_size)(self._lookup)

    @property
    def enabled(self) -> bool:
        return self._reader is not None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    def _lookup(self, ip: str) -> Geo:
        """Geo for one address; private, reserved, unknown or invalid addresses give empty geo."""
        if self._reader is None:
            return EMPTY_GEO
        address = public_address(ip)
        if address is None:
            return EMPTY_GEO
        try:
            if self._city:
                return _from_city(self._reader.city(address))
            return _from_country(self._reader.country(address))
        except geoip2.errors.AddressNotFoundError:
            return EMPTY_GEO
        except (maxminddb.InvalidDatabaseError, ValueError) as error:
            # A damaged database must not fail ingest; geo is best effort.
            log.warning("geo: lookup failed, geo left empty: %s", error)
            return EMPTY_GEO


def public_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if it is globally routable, with IPv4-mapped IPv6 unwrapped; else None."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return None
    return address


def _from_country(record: geoip2.models.Country) -> Geo:
    return Geo(country=record.country.iso_code or "", country_name=record.country.name or "")


def _from_city(record: geoip2.models.City) -> Geo:
    location = record.location
    return Geo(
        country=record.country.iso_code or "",
        country_name=record.country.name or "",
        region=record.subdivisions.most_specific.name or "",
        city=record.city.name or "",
        timezone=location.time_zone or "",
        lat=_coarse(location.latitude),
        lon=_coarse(location.longitude),
    )


def _coarse(degrees: float | None) -> float | None:
    return None if degrees is None else round(degrees, 1)
