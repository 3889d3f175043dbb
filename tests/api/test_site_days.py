"""A site's time zone: every day the API bounds or groups by runs from local midnight to local
midnight, on every engine, across the days clocks fall back (25 hours) and spring forward (23).

The journeys (written through the store's writer: they lie past ingest's 7-day window), with
their local times in New York (EDT -04:00 until 2024-11-03 06:00Z, EST -05:00 after) and in
Ho Chi Minh City (+07:00, no DST):

| session | visitor | UTC                      | New York            | Ho Chi Minh         | also         |
|---------|---------|--------------------------|---------------------|---------------------|--------------|
| p       | v7      | 2024-10-31 12:00         | 10-31 08:00         | 10-31 19:00         |              |
| a       | v1      | 2024-11-03 03:59         | 11-02 23:59 EDT     | 11-03 10:59         | purchase 10  |
| b       | v2      | 2024-11-03 04:00:30      | 11-03 00:00:30 EDT  | 11-03 11:00:30      |              |
| e       | v3      | 2024-11-03 05:30         | 11-03 01:30 EDT     | 11-03 12:30         | nps 9        |
| f       | v4      | 2024-11-03 06:30         | 11-03 01:30 EST     | 11-03 13:30         | purchase 20  |
| h1      | v8      | 2024-11-03 16:59:59.999  | 11-03 11:59 EST     | 11-03 23:59:59.999  |              |
| h2      | v9      | 2024-11-03 17:00         | 11-03 12:00 EST     | 11-04 00:00         |              |
| c       | v5      | 2024-11-04 04:59         | 11-03 23:59 EST     | 11-04 11:59         | nps 3        |
| d       | v6      | 2024-11-04 05:00:30      | 11-04 00:00:30 EST  | 11-04 12:00:30      | purchase 40  |
| b2      | v2      | 2024-11-05 12:00         | 11-05 07:00 EST     | 11-05 19:00         | v2 returns   |

Spring forward (New York, EST until 2024-03-10 07:00Z, EDT after): s1 at 03-09 23:59:59.999 EST,
s2 at 03-10 00:00 EST, s3 at 03-10 23:59:59.999 EDT, s4 at 03-11 00:00 EDT.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from collector.store.model import Context, EventRow, WriteBatch
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter
SHOP = "https://shop.example"
NY, HCM = "America/New_York", "Asia/Ho_Chi_Minh"


def utc(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp() * 1000)


FALL = [  # session, visitor, start, (type, name, revenue, data) of a second event
    ("p", "v7", "2024-10-31T12:00:00", None),
    ("a", "v1", "2024-11-03T03:59:00", ("purchase", "o-a", 10.0, b'{"value": 10}')),
    ("b", "v2", "2024-11-03T04:00:30", None),
    ("e", "v3", "2024-11-03T05:30:00", ("survey", "nps", 0.0, b'{"score": 9}')),
    ("f", "v4", "2024-11-03T06:30:00", ("purchase", "o-f", 20.0, b'{"value": 20}')),
    ("h1", "v8", "2024-11-03T16:59:59.999", None),
    ("h2", "v9", "2024-11-03T17:00:00", None),
    ("c", "v5", "2024-11-04T04:59:00", ("survey", "nps", 0.0, b'{"score": 3}')),
    ("d", "v6", "2024-11-04T05:00:30", ("purchase", "o-d", 40.0, b'{"value": 40}')),
    ("b2", "v2", "2024-11-05T12:00:00", None),
]
SPRING = [
    ("s1", "w1", "2024-03-10T04:59:59.999", None),
    ("s2", "w2", "2024-03-10T05:00:00", None),
    ("s3", "w3", "2024-03-11T03:59:59.999", None),
    ("s4", "w4", "2024-03-11T04:00:00", None),
]


def write(client: Client, journeys: list[tuple[str, str, str, Any]]) -> None:
    rows = []
    for sid, visitor, start, extra in journeys:
        ts = utc(start)
        rows.append(EventRow(id=f"{sid}-pv", type="pageview", ts=ts, client_ts=ts, anon_id=visitor, user_id=None,
                             session_id=sid, url=SHOP + "/", path="/", route=None, name=None, data=b"{}"))
        if extra:
            kind, name, revenue, data = extra
            rows.append(EventRow(id=f"{sid}-x", type=kind, ts=ts + 1, client_ts=ts + 1, anon_id=visitor,
                                 user_id=None, session_id=sid, url=SHOP + "/", path="/", route=None, name=name,
                                 data=data, revenue=revenue))
    client.store.write_sync(WriteBatch(site_id="test", received_at=max(r.ts for r in rows),
                                       context=Context(device="desktop"), events=rows))


def zone(client: Client, name: str) -> None:
    answer = client.http.patch("/api/sites/test", json={"timezone": name}, headers=client.admin)
    assert answer.status_code == 200, answer.text


def get(client: Client, path: str, query: str) -> Any:
    answer = client.http.get(f"{path}?site=test&{query}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def sessions_by_day(result: dict[str, Any], series: str = "series") -> list[tuple[str, int]]:
    return [(point.get("date") or point["hour"], point["sessions"]) for point in result[series]]


@pytest.fixture
def fall(client: Client) -> Client:
    write(client, FALL)
    return client


RANGE = "from=2024-11-02&to=2024-11-04"


def test_the_overview_series_follows_local_midnights(fall: Client) -> None:
    utc_days = get(fall, "/api/overview", RANGE)
    assert sessions_by_day(utc_days) == [("2024-11-02", 0), ("2024-11-03", 6), ("2024-11-04", 2)]
    assert utc_days["range"] == {"from": utc("2024-11-02T00:00:00"), "to": utc("2024-11-05T00:00:00")}

    zone(fall, NY)
    result = get(fall, "/api/overview", RANGE)
    # a (23:59 EDT) is on the 2nd; c (23:59 EST, 04:59Z on the 4th) on the 3rd, a 25-hour day
    assert sessions_by_day(result) == [("2024-11-02", 1), ("2024-11-03", 6), ("2024-11-04", 1)]
    assert [p["visitors"] for p in result["series"]] == [1, 6, 1]
    assert [p["revenue"] for p in result["series"]] == [10.0, 20.0, 40.0]
    assert result["range"] == {"from": utc("2024-11-02T04:00:00"), "to": utc("2024-11-05T05:00:00")}
    # the period before is the three local days before, midnight to midnight
    assert result["previous_range"] == {"from": utc("2024-10-30T04:00:00"), "to": utc("2024-11-02T04:00:00")}
    assert sessions_by_day(result, "previous_series") == [("2024-10-30", 0), ("2024-10-31", 1), ("2024-11-01", 0)]
    assert result["metrics"]["sessions"] == {"value": 8, "previous": 1, "change": 7.0}
    assert result["metrics"]["revenue"]["value"] == 70.0
    assert result["pages"] == [{"name": "/", "pageviews": 8, "previous": 1}]

    zone(fall, HCM)
    result = get(fall, "/api/overview", RANGE)
    # h1 at 23:59:59.999 on the 3rd, h2 at midnight on the 4th
    assert sessions_by_day(result) == [("2024-11-02", 0), ("2024-11-03", 5), ("2024-11-04", 3)]
    assert result["range"] == {"from": utc("2024-11-01T17:00:00"), "to": utc("2024-11-04T17:00:00")}
    assert result["metrics"]["sessions"]["value"] == 8


def test_a_25_hour_day_has_25_hours(fall: Client) -> None:
    zone(fall, NY)
    result = get(fall, "/api/overview", "from=2024-11-03&to=2024-11-03&interval=auto")
    assert result["interval"] == "hour"
    hours = sessions_by_day(result)
    assert len(hours) == 25
    assert hours[:4] == [("2024-11-03T00:00-04:00", 1), ("2024-11-03T01:00-04:00", 1),
                         ("2024-11-03T01:00-05:00", 1), ("2024-11-03T02:00-05:00", 0)]
    assert hours[12:14] == [("2024-11-03T11:00-05:00", 1), ("2024-11-03T12:00-05:00", 1)]
    assert hours[-1] == ("2024-11-03T23:00-05:00", 1)
    assert sum(n for _, n in hours) == 6
    # the day before is compared hour for hour: 24 of them, from its own midnight
    assert [p["hour"] for p in result["previous_series"]][:1] == ["2024-11-02T00:00-04:00"]
    assert len(result["previous_series"]) == 24


def test_a_23_hour_day_has_23_hours(client: Client) -> None:
    write(client, SPRING)
    zone(client, NY)
    days = get(client, "/api/overview", "from=2024-03-09&to=2024-03-11")
    assert sessions_by_day(days) == [("2024-03-09", 1), ("2024-03-10", 2), ("2024-03-11", 1)]
    result = get(client, "/api/overview", "from=2024-03-10&to=2024-03-10&interval=hour")
    hours = sessions_by_day(result)
    assert len(hours) == 23
    assert [h for h, _ in hours[:3]] == ["2024-03-10T00:00-05:00", "2024-03-10T01:00-05:00", "2024-03-10T03:00-04:00"]
    assert (hours[0], hours[-1]) == (("2024-03-10T00:00-05:00", 1), ("2024-03-10T23:00-04:00", 1))
    assert sum(n for _, n in hours) == 2
    ids = sorted(s["id"] for s in get(client, "/api/sessions", "from=2024-03-10&to=2024-03-10")["sessions"])
    assert ids == ["s2", "s3"]


def test_date_parameters_bound_local_days(fall: Client) -> None:
    def ids(query: str) -> list[str]:
        return sorted(s["id"] for s in get(fall, "/api/sessions", query)["sessions"])

    assert ids("from=2024-11-03&to=2024-11-03") == ["a", "b", "e", "f", "h1", "h2"]
    zone(fall, NY)
    assert ids("from=2024-11-03&to=2024-11-03") == ["b", "c", "e", "f", "h1", "h2"]
    assert ids("from=2024-11-04") == ["b2", "d"]
    # epoch ms stay instants, whatever the zone
    assert ids(f"from={utc('2024-11-03T03:59:00')}&to={utc('2024-11-03T04:00:30')}") == ["a", "b"]
    zone(fall, HCM)
    assert ids("from=2024-11-03&to=2024-11-03") == ["a", "b", "e", "f", "h1"]
    assert ids("to=2024-11-03") == ["a", "b", "e", "f", "h1", "p"]


def test_commerce_and_surveys_by_local_day(fall: Client) -> None:
    commerce = get(fall, "/api/commerce", RANGE)
    assert [(p["date"], p["revenue"]) for p in commerce["series"]] == [
        ("2024-11-02", 0.0), ("2024-11-03", 30.0), ("2024-11-04", 40.0)]
    trend = get(fall, "/api/surveys", RANGE)["trend"]
    assert [(p["date"], p["nps"]["responses"], p["nps"]["score"]) for p in trend] == [
        ("2024-11-02", 0, 0.0), ("2024-11-03", 1, 100.0), ("2024-11-04", 1, -100.0)]
    zone(fall, NY)
    commerce = get(fall, "/api/commerce", RANGE)
    assert [(p["date"], p["revenue"], p["orders"]) for p in commerce["series"]] == [
        ("2024-11-02", 10.0, 1), ("2024-11-03", 20.0, 1), ("2024-11-04", 40.0, 1)]
    trend = get(fall, "/api/surveys", RANGE)["trend"]
    assert [(p["date"], p["nps"]["responses"], p["nps"]["score"]) for p in trend] == [
        ("2024-11-02", 0, 0.0), ("2024-11-03", 2, 0.0), ("2024-11-04", 0, 0.0)]


def test_retention_weeks_start_on_local_mondays(fall: Client) -> None:
    # 2024-11-04 is a Monday: c began on Sunday night in New York, on Monday in UTC
    def cohorts() -> list[tuple[str, int, list[int | None]]]:
        result = get(fall, "/api/retention", "from=2024-11-03&to=2024-11-04&weeks=2")
        return [(c["week"], c["visitors"], c["retained"]) for c in result["cohorts"]]

    assert cohorts() == [("2024-10-28", 6, [6, 1]), ("2024-11-04", 2, [2, 0])]
    zone(fall, NY)
    assert cohorts() == [("2024-10-28", 6, [6, 1]), ("2024-11-04", 1, [1, 0])]


def test_exports_and_the_default_range_follow_the_zone(fall: Client) -> None:
    zone(fall, NY)
    answer = fall.http.get(f"/api/overview?site=test&{RANGE}&format=csv&table=series", headers=fall.admin)
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["date"], r["sessions"]) for r in rows] == [("2024-11-02", "1"), ("2024-11-03", "6"), ("2024-11-04", "1")]
    # without from/to: the last 30 local days, ending at the site's next midnight
    result = get(fall, "/api/overview", "")
    bounds = [dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(NY)) for ms in result["range"].values()]
    today = dt.datetime.now(ZoneInfo(NY)).date()
    assert bounds == [dt.datetime.combine(today - dt.timedelta(days=29), dt.time(0), ZoneInfo(NY)),
                      dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), ZoneInfo(NY))]
    assert len(result["series"]) == 30


def test_an_unknown_zone_is_a_400_and_changes_nothing(fall: Client) -> None:
    zone(fall, NY)
    answer = fall.http.patch("/api/sites/test", json={"timezone": "America/Gotham"}, headers=fall.admin)
    assert (answer.status_code, answer.json()) == (
        400, {"error": "invalid request: unknown time zone 'America/Gotham': use an IANA name such as Europe/Paris"})
    days = sessions_by_day(get(fall, "/api/overview", RANGE))
    assert days == [("2024-11-02", 1), ("2024-11-03", 6), ("2024-11-04", 1)]
    assert json.loads(fall.http.get("/api/sites", headers=fall.admin).text)["sites"][0]["settings"]["timezone"] == NY


def test_heatmaps_count_the_sites_days(client: Client) -> None:
    """The heatmap rollups count whole UTC days: a site's own midnights are read from the events."""
    clicks = [("#a", "2024-11-03T03:59:00"), ("#b", "2024-11-03T04:00:30"),
              ("#c", "2024-11-04T04:59:00"), ("#d", "2024-11-04T05:00:30")]
    rows = []
    for n, (sel, when) in enumerate(clicks):
        ts = utc(when)
        rows.append(EventRow(id=f"k{n}", type="click", ts=ts, client_ts=ts, anon_id=f"k{n}", user_id=None,
                             session_id=f"k{n}", url=SHOP + "/product/1", path="/product/1", route="/product/:id",
                             name=sel, data=b'{"x": 10, "y": 20, "rx": 0.5, "ry": 0.5, "vw": 1280}'))
    client.store.write_sync(WriteBatch(site_id="test", received_at=max(r.ts for r in rows),
                                       context=Context(device="desktop"), events=rows))

    def sels(url: str) -> dict[str, int]:
        answer = get(client, "/api/heatmap", f"url={url}&from=2024-11-03&to=2024-11-03")
        return {e["sel"]: e["count"] for e in answer["elements"]}

    assert sels("/product/:id") == sels("/product/1") == {"#a": 1, "#b": 1}
    zone(client, NY)
    assert sels("/product/:id") == sels("/product/1") == {"#b": 1, "#c": 1}
    zone(client, HCM)  # 2024-11-03 in Ho Chi Minh City: 11-02 17:00Z to 11-03 17:00Z
    assert sels("/product/:id") == sels("/product/1") == {"#a": 1, "#b": 1}
