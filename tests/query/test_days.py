"""collector/query/days.py: local midnights as UTC spans, offsets as SQL, checked against zoneinfo."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from zoneinfo import ZoneInfo

import pytest

from collector.query.days import DAY_MS, HOUR_MS, Calendar, check_zone


def utc(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(("zone", "date", "hours"), [
    ("UTC", "2024-11-03", 24),
    ("America/New_York", "2024-11-03", 25),  # clocks fall back
    ("America/New_York", "2024-03-10", 23),  # clocks spring forward
    ("Europe/Paris", "2024-10-27", 25),
    ("Asia/Ho_Chi_Minh", "2024-11-03", 24),
    ("Australia/Lord_Howe", "2024-04-07", 24.5),  # a half-hour DST ends
])
def test_a_day_lasts_from_local_midnight_to_local_midnight(zone: str, date: str, hours: float) -> None:
    day = dt.date.fromisoformat(date)
    start, end = Calendar(zone).span(day, day)
    assert (end - start) / HOUR_MS == hours
    assert dt.datetime.fromtimestamp(start / 1000, ZoneInfo(zone)).replace(tzinfo=None) == dt.datetime(
        day.year, day.month, day.day)


def test_a_skipped_midnight_starts_the_day_when_clocks_jump() -> None:
    # Santiago moved clocks from 2024-09-08 00:00 to 01:00: that day began at 01:00 local (04:00Z)
    start, end = Calendar("America/Santiago").span(dt.date(2024, 9, 8), dt.date(2024, 9, 8))
    assert (start, (end - start) / HOUR_MS) == (utc("2024-09-08T04:00:00"), 23)


def test_day_numbers_and_their_edges() -> None:
    ny = Calendar("America/New_York")
    assert ny.day_name(ny.day_of(utc("2024-11-03T03:59:59.999"))) == "2024-11-02"
    assert ny.day_name(ny.day_of(utc("2024-11-03T04:00:00"))) == "2024-11-03"
    assert ny.day_name(ny.day_of(utc("2024-11-04T04:59:59.999"))) == "2024-11-03"
    assert ny.day_name(ny.day_of(utc("2024-11-04T05:00:00"))) == "2024-11-04"
    assert Calendar().day_of(utc("2024-11-03T23:59:59.999")) == utc("2024-11-03T00:00:00") // DAY_MS
    start, end = ny.span(dt.date(2024, 11, 2), dt.date(2024, 11, 4))
    assert ny.whole_days(start, end) and not ny.whole_days(start + 1, end)
    assert [ny.day_name(d) for d in ny.days(start, end)] == ["2024-11-02", "2024-11-03", "2024-11-04"]


def test_the_offset_changes_where_zoneinfo_says() -> None:
    ny = Calendar("America/New_York")
    assert ny.changes(utc("2024-01-01T05:00:00"), utc("2025-01-01T05:00:00")) == [
        (utc("2024-03-10T07:00:00"), -5 * HOUR_MS),
        (utc("2024-11-03T06:00:00"), -4 * HOUR_MS),
        (utc("2025-01-01T05:00:00"), -5 * HOUR_MS),
    ]
    # a change in the range's last hour is found too
    assert ny.changes(utc("2024-11-03T05:00:00"), utc("2024-11-03T06:00:01"))[0] == (
        utc("2024-11-03T06:00:00"), -4 * HOUR_MS)
    assert Calendar("Asia/Ho_Chi_Minh").changes(0, utc("2024-01-01T00:00:00"))[-1] == (
        utc("2024-01-01T00:00:00"), 7 * HOUR_MS)
    assert Calendar("Europe/London").zero_offset(utc("2024-01-01T00:00:00"), utc("2024-02-01T00:00:00"))
    assert not Calendar("Europe/London").zero_offset(utc("2024-01-01T00:00:00"), utc("2024-04-01T00:00:00"))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"])
@pytest.mark.parametrize("width", [DAY_MS, HOUR_MS])
def test_the_sql_offset_buckets_as_python_does(zone: str, width: int) -> None:
    calendar = Calendar(zone)
    start, end = calendar.span(dt.date(2023, 12, 1), dt.date(2024, 12, 1))
    rng = random.Random(5)
    instants = sorted({start, end - 1, *(rng.randrange(start, end) for _ in range(2000)),
                       *(t + d for t, _ in calendar.changes(start, end)[:-1] for d in (-1, 0, 1))})
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (ts INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(t,) for t in instants])
    got = [row[0] for row in conn.execute(f"SELECT {calendar.local_sql('ts', start, end, width)} / {width} FROM t"
                                          " ORDER BY ts")]
    assert got == [calendar.bucket(t, width) for t in instants]
    # and a bucket's label is the local clock at its start
    if width == HOUR_MS:
        for t in instants[:50]:
            label = calendar.bucket_label(calendar.bucket(t, width), width)["hour"]
            local = dt.datetime.fromtimestamp(t / 1000, ZoneInfo(zone))
            assert label.startswith(local.strftime("%Y-%m-%dT%H:")), (t, label, local)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "utc ", "../../etc/passwd", "/etc/localtime", "a" * 65])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        check_zone(name)
