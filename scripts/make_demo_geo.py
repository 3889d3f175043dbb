"""Build collector/demo/geo-demo.mmdb, the small City database the demo seeder's addresses resolve in.

    .venv/bin/python scripts/make_demo_geo.py

A MaxMind-format file (mmdb-writer, a test dependency) holding only the blocks of
collector/demo/places.py, shaped like GeoLite2-City so geoip2's City reader (the collector's
GeoReader) reads it. It is not real geo data: use a MaxMind database in production.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.demo.places import GEO_DB, PLACES, Place  # noqa: E402


def record(place: Place, geoname_id: int) -> dict[str, object]:
    return {
        "city": {"geoname_id": geoname_id * 10 + 1, "names": {"en": place.city}},
        "country": {"geoname_id": geoname_id * 10 + 2, "iso_code": place.country,
                    "names": {"en": place.country_name}},
        "subdivisions": [{"geoname_id": geoname_id * 10 + 3, "names": {"en": place.region}}],
        "location": {"latitude": place.lat, "longitude": place.lon, "time_zone": place.timezone,
                     "accuracy_radius": 50},
    }


def build(path: Path = GEO_DB) -> Path:
    # an IPv6 tree with IPv4 mapped at ::/96, as MaxMind's own City files are laid out
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City",
                        languages=["en"], description="Trailmark demo City database (not real data)")
    for number, place in enumerate(PLACES, start=1):
        writer.insert_network(IPSet([place.network]), record(place, number))
    writer.to_db_file(str(path))
    return path


if __name__ == "__main__":
    print(f"wrote {build()}")
