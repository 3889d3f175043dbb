from __future__ import annotations

import logging
from pathlib import Path

import geoip2.database
import pytest

from collector.enrich import EMPTY_GEO, Geo, GeoReader
from tests.support.geo_fixture import build_city_mmdb

LONDON = Geo(
    country="GB",
    country_name="United Kingdom",
    region="England",
    city="London",
    timezone="Europe/London",
    lat=51.5,
    lon=-0.1,
)
BERLIN = Geo(
    country="DE",
    country_name="Germany",
    region="Berlin",
    city="Berlin",
    timezone="Europe/Berlin",
    lat=52.5,
    lon=13.4,
)
TOKYO = Geo(
    country="JP",
    country_name="Japan",
    region="Tokyo",
    city="Tokyo",
    timezone="Asia/Tokyo",
    lat=35.7,
    lon=139.7,
)


@pytest.fixture(scope="module")
def mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_city_mmdb(tmp_path_factory.mktemp("geo") / "city.mmdb")


@pytest.fixture
def reader(mmdb: Path) -> GeoReader:
    return GeoReader(mmdb)


def test_fixture_is_a_city_database_geoip2_reads(mmdb: Path) -> None:
    with geoip2.database.Reader(str(mmdb)) as db:
        assert db.metadata().database_type == "GeoLite2-City"
        assert db.metadata().ip_version == 6
        assert db.city("81.2.69.142").city.name == "London"


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("81.2.69.142", LONDON),
        ("81.2.69.0", LONDON),
        ("::ffff:81.2.69.142", LONDON),
        ("85.214.132.117", BERLIN),
        ("2400:4050::1", TOKYO),
        ("2400:4050:ffff:ffff::1", TOKYO),
        ("41.0.3.4", Geo(country="ZA", country_name="South Africa")),
    ],
)
def test_public_addresses_are_located_coarsely(reader: GeoReader, ip: str, expected: Geo) -> None:
    assert reader.lookup(ip) == expected


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",  # private
        "192.168.0.10",
        "172.16.5.4",
        "127.0.0.1",  # loopback
        "::1",
        "fe80::1",  # link-local
        "fd00::1",  # unique local
        "100.64.0.1",  # carrier-grade NAT
        "203.0.113.7",  # documentation
        "2001:db8::1",
        "224.0.0.1",  # multicast
        "0.0.0.0",
        "8.8.8.8",  # public but not in the database
        "2a00:1450::1",
        "not an ip",
        "",
        "81.2.69.142:443",
    ],
)
def test_private_reserved_unknown_and_invalid_give_empty_geo(reader: GeoReader, ip: str) -> None:
    assert reader.lookup(ip) == EMPTY_GEO


def test_lookups_are_cached(reader: GeoReader) -> None:
    first = reader.lookup("85.214.1.1")
    assert reader.lookup("85.214.1.1") is first
    assert reader.lookup.cache_info().hits == 1


def test_without_a_database_geo_is_empty_and_one_line_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="trailmark.enrich"):
        reader = GeoReader(None)
        assert reader.lookup("81.2.69.142") == EMPTY_GEO
        assert reader.lookup("2400:4050::1") == EMPTY_GEO
    assert not reader.enabled
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", "geo: no GeoIP database configured (--geoip / TRAILMARK_GEOIP); geo is empty")
    ]


def test_a_database_that_is_not_city_or_country_is_refused(tmp_path: Path) -> None:
    path = build_city_mmdb(tmp_path / "asn.mmdb", database_type="GeoLite2-ASN")
    with pytest.raises(AssertionError, match="needs a City or Country"):
        GeoReader(path)


def test_a_country_database_gives_country_only(tmp_path: Path) -> None:
    path = build_city_mmdb(tmp_path / "country.mmdb", database_type="GeoLite2-Country")
    assert GeoReader(path).lookup("81.2.69.142") == Geo(country="GB", country_name="United Kingdom")


def test_a_damaged_database_gives_empty_geo_not_an_error(
    tmp_path: Path, mmdb: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "damaged.mmdb"
    data = bytearray(mmdb.read_bytes())
    # Overwrite the search tree; the metadata at the end stays readable, so it opens.
    data[:64] = b"\xff" * 64
    damaged.write_bytes(bytes(data))
    assert GeoReader(damaged).lookup("81.2.69.142") == EMPTY_GEO
    assert [r.levelname for r in caplog.records if "lookup failed" in r.getMessage()] == ["WARNING"]
