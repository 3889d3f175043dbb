"""Builds real MaxMind-format City databases for tests with mmdb-writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Globally routable test networks (documentation ranges are not global, so geo skips them).
LONDON_V4 = "81.2.69.0/24"
BERLIN_V4 = "85.214.0.0/16"
TOKYO_V6 = "2400:4050::/32"
COUNTRY_ONLY_V4 = "41.0.0.0/16"


def city_record(
    country: str,
    country_name: str,
    region: str,
    city: str,
    timezone: str,
    lat: float,
    lon: float,
) -> dict[str, Any]:
    """A record shaped like GeoLite2-City's (the fields geoip2's City model reads)."""
    return {
        "city": {"geoname_id": 1, "names": {"en": city}},
        "country": {"geoname_id": 2, "iso_code": country, "names": {"en": country_name}},
        "subdivisions": [
            {"geoname_id": 3, "iso_code": region[:3].upper(), "names": {"en": region}}
        ],
        "location": {
            "latitude": lat,
            "longitude": lon,
            "time_zone": timezone,
            "accuracy_radius": 20,
        },
    }


DEFAULT_RECORDS: dict[str, dict[str, Any]] = {
    LONDON_V4: city_record(
        "GB", "United Kingdom", "England", "London", "Europe/London", 51.5142, -0.0931
    ),
    BERLIN_V4: city_record("DE", "Germany", "Berlin", "Berlin", "Europe/Berlin", 52.5244, 13.4105),
    TOKYO_V6: city_record("JP", "Japan", "Tokyo", "Tokyo", "Asia/Tokyo", 35.6893, 139.6899),
    COUNTRY_ONLY_V4: {
        "country": {"geoname_id": 4, "iso_code": "ZA", "names": {"en": "South Africa"}}
    },
}


def build_city_mmdb(
    path: Path,
    records: dict[str, dict[str, Any]] | None = None,
    database_type: str = "GeoLite2-City",
) -> Path:
    """Write an IPv6 tree with IPv4 at ::/96 (ipv4_compatible), as MaxMind's City files are."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description="Trailmark test City database",
    )
    for network, record in (DEFAULT_RECORDS if records is None else records).items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path
