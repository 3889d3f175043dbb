"""The analyst's daily tools on journeys with known answers (tests/support/daily_journeys.py): drill-down
filters and breakdowns, suggestions, hourly and previous series, goals, custom events, Web
Vitals, errors, the live view and exports."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from typing import Any

import pytest

from collector.api import export
from collector.query import vitals
from tests.support.analytics_journeys import (
    DATE,
    DAY_MS,
    GOOGLEBOT,
    NEXT_DATE,
    PREVIOUS_DATE,
    SHOP,
    D,
    event,
    send,
    stamp_session_context,
)
from tests.support.collector import Client, every_adapter
from tests.support.daily_journeys import REFERENCE_ERROR, T2, TYPE_ERROR, build_daily

DAY = f"site=test&from={DATE}&to={DATE}"


def get(client: Client, path: str, query: str = DAY, status: int = 200) -> Any:
    answer = client.http.get(f"{path}?{query}", headers=client.admin)
    assert answer.status_code == status, answer.text
    return answer.json()


def session_ids(client: Client, query: str) -> list[str]:
    return sorted(s["id"] for s in get(client, "/api/sessions", f"{DAY}&{query}")["sessions"])


# -- drill-down ----------------------------------------------------------------------------


@every_adapter
def test_new_breakdowns_on_the_overview(client: Client) -> None:
    build_daily(client)
    result = get(client, "/api/overview")
    assert result["referrers"] == [
        {"name": "(none)", "sessions": 2, "previous": 1},  # s3, s5; s6 the day before
        {"name": "news.example", "sessions": 2, "previous": 0},
        {"name": "google.com", "sessions": 1, "previous": 0},  # www. is dropped
    ]
    assert result["entry_pages"] == [
        {"name": "/", "sessions": 3, "previous": 1},
        {"name": "/checkout", "sessions": 1, "previous": 0},
        {"name": "/product/2", "sessions": 1, "previous": 0},
    ]
    assert result["exit_pages"] == [  # s6 left from /cart the day before: not a row of this period
        {"name": "/product/1", "sessions": 2, "previous": 0},
        {"name": "/", "sessions": 1, "previous": 0},
        {"name": "/checkout", "sessions": 1, "previous": 0},
        {"name": "/product/2", "sessions": 1, "previous": 0},
    ]
    assert result["regions"] == [
        {"name": "DE/BY", "sessions": 2, "previous": 0, "country": "DE", "region": "BY"},
        {"name": "(none)", "sessions": 1, "previous": 1, "country": None, "region": None},
        {"name": "DE/BE", "sessions": 1, "previous": 0, "country": "DE", "region": "BE"},
        {"name": "FR/IDF", "sessions": 1, "previous": 0, "country": "FR", "region": "IDF"},
    ]


@every_adapter
def test_the_sources_of_whole_days_follow_the_sessions_as_they_change(client: Client) -> None:
    """Whole UTC days read SQLite's source_days rollup, other ranges the sessions themselves: both
    give the same rows after an entry page, a region and a bot flag change and a person is erased."""
    build_daily(client)
    send(client, [event("pageview", T2 - 60_000, "s2", "a2", "/product/9")])  # s2's first view, late
    stamp_session_context(client, "s3", region="BW")
    stamp_session_context(client, "s4", is_bot=1)
    erased = client.http.delete("/api/persons/a5?site=test", headers=client.admin)
    assert erased.status_code == 200, erased.text
    whole = get(client, "/api/overview")
    exact = get(client, "/api/overview", f"site=test&from={D}&to={D + DAY_MS - 2}")  # not whole days
    for name in ("referrers", "entry_pages", "exit_pages", "regions"):
        assert whole[name] == exact[name], name
    # s1, s2 and s3 are left; s2's session now begins with a view that came without a referrer
    assert whole["referrers"] == [
        {"name": "(none)", "sessions": 2, "previous": 1},  # s2, s3; s6 the day before
        {"name": "google.com", "sessions": 1, "previous": 0},
    ]
    assert whole["entry_pages"] == [
        {"name": "/", "sessions": 1, "previous": 1},
        {"name": "/product/2", "sessions": 1, "previous": 0},
        {"name": "/product/9", "sessions": 1, "previous": 0},
    ]
    assert whole["regions"] == [
        {"name": "DE/BY", "sessions": 2, "previous": 0, "country": "DE", "region": "BY"},
        {"name": "DE/BW", "sessions": 1, "previous": 0, "country": "DE", "region": "BW"},
    ]


@pytest.mark.parametrize(("query", "expected"), [
    ("referrer=news.example", ["s2", "s4"]),
    ("referrer=https://www.google.com/anything", ["s1"]),  # a whole URL filters by its host
    ("referrer=google.com", ["s1"]),
    ("referrer=(none)", ["s3", "s5"]),
    ("entry=/", ["s1", "s2", "s4"]),
    ("exit=/product/1", ["s1", "s4"]),
    ("exit=/product/*", ["s1", "s3", "s4"]),
    ("entry=/product/1", []),  # viewed, but never first
    ("country=DE&region=BY", ["s1", "s2"]),
    ("country=(none)", ["s5"]),  # the (none) row of a breakdown
    ("campaign=(none)", ["s1", "s2", "s3"]),
    ("clicked=button.buy", ["s1", "s3"]),
    # a hotspot of one page: the click must be on it, not merely in a session that viewed it
    ("clicked=button.buy&page=/product/2", ["s3"]),
    ("clicked=button.buy&page=/", []),
    ("clicked=button.buy&page=/product/*", ["s1", "s3"]),
    ("clicked=a.nothing", []),
    ("error=TypeError: x is undefined", ["s1", "s3"]),
    ("error=ReferenceError: y is not defined", ["s2"]),
])
@every_adapter
def test_every_breakdown_row_is_a_filter(client: Client, query: str, expected: list[str]) -> None:
    build_daily(client)
    assert session_ids(client, query) == expected
    # ...of the whole dashboard: the overview counts the same sessions
    assert get(client, "/api/overview", f"{DAY}&{query}")["metrics"]["sessions"]["value"] == len(expected)


@every_adapter
def test_a_drilled_row_narrows_every_breakdown(client: Client) -> None:
    build_daily(client)
    # the drill-down of a referrer row narrows every other breakdown to those sessions
    result = get(client, "/api/overview", f"{DAY}&referrer=news.example")
    assert result["entry_pages"] == [{"name": "/", "sessions": 2, "previous": 0}]
    assert result["countries"] == [{"name": "DE", "sessions": 1, "previous": 0},
                                   {"name": "FR", "sessions": 1, "previous": 0}]


@every_adapter
def test_suggestions(client: Client) -> None:
    build_daily(client)
    assert get(client, "/api/suggest", f"{DAY}&field=country")["values"] == [
        {"value": "DE", "sessions": 3}, {"value": "FR", "sessions": 1},
    ]
    assert get(client, "/api/suggest", f"{DAY}&field=country&q=f")["values"] == [{"value": "FR", "sessions": 1}]
    assert get(client, "/api/suggest", f"{DAY}&field=page")["values"] == [
        {"value": "/", "sessions": 3}, {"value": "/product/1", "sessions": 2},
        {"value": "/checkout", "sessions": 1}, {"value": "/product/2", "sessions": 1},
    ]
    assert get(client, "/api/suggest", f"{DAY}&field=referrer&q=NEWS")["values"] == [
        {"value": "news.example", "sessions": 2},
    ]
    assert get(client, "/api/suggest", f"{DAY}&field=exit&q=product")["values"] == [
        {"value": "/product/1", "sessions": 2}, {"value": "/product/2", "sessions": 1},
    ]
    # within the other filters, but never narrowed by its own
    devices = get(client, "/api/suggest", f"{DAY}&field=device&device=mobile")["values"]
    assert sorted((v["value"], v["sessions"]) for v in devices) == [("desktop", 2), ("mobile", 2), ("tablet", 1)]
    assert get(client, "/api/suggest", f"{DAY}&field=device&country=FR")["values"] == [
        {"value": "tablet", "sessions": 1},
    ]
    assert get(client, "/api/suggest", f"{DAY}&field=page&q=PRODUCT")["values"] == [
        {"value": "/product/1", "sessions": 2}, {"value": "/product/2", "sessions": 1},
    ]
    # LIKE's own wildcards are plain text here
    assert get(client, "/api/suggest", f"{DAY}&field=page&q=%25")["values"] == []
    assert get(client, "/api/suggest", f"{DAY}&field=page&q=_")["values"] == []
    assert get(client, "/api/suggest", f"{DAY}&field=colour", 400) == {
        "error": "field must be one of country, region, device, browser, os, channel, campaign, source, page,"
                 " entry, exit, referrer",
    }


# -- time ----------------------------------------------------------------------------------


@every_adapter
def test_hourly_series_with_the_previous_period(client: Client) -> None:
    build_daily(client)
    result = get(client, "/api/overview", f"{DAY}&interval=auto")
    assert result["interval"] == "hour"
    series = result["series"]
    assert [p["hour"] for p in series[:2]] == [f"{DATE}T00:00Z", f"{DATE}T01:00Z"]
    assert len(series) == 24
    assert {i: p["sessions"] for i, p in enumerate(series) if p["sessions"]} == {10: 1, 11: 1, 12: 1, 14: 1, 23: 1}
    assert series[23]["pageviews"] == 2 and series[23]["visitors"] == 1  # s4 runs over midnight
    previous = result["previous_series"]
    assert previous[0]["hour"] == f"{PREVIOUS_DATE}T00:00Z"
    assert {i: p["sessions"] for i, p in enumerate(previous) if p["sessions"]} == {9: 1}  # s6
    # two days are still hours; three are days
    assert len(get(client, "/api/overview", f"site=test&from={DATE}&to={NEXT_DATE}&interval=auto")["series"]) == 48
    days = get(client, "/api/overview", f"site=test&from={PREVIOUS_DATE}&to={NEXT_DATE}&interval=auto")
    assert days["interval"] == "day"
    assert [(p["date"], p["sessions"]) for p in days["series"]] == [(PREVIOUS_DATE, 1), (DATE, 5), (NEXT_DATE, 0)]
    assert [p["sessions"] for p in days["previous_series"]] == [0, 0, 0]
    # the default stays daily: a one-day range is one point
    assert [p["date"] for p in get(client, "/api/overview")["series"]] == [DATE]
    assert get(client, "/api/overview", f"{DAY}&interval=week", 400) == {
        "error": "interval must be day, hour or auto, not 'week'",
    }


# -- goals and custom events ---------------------------------------------------------------


def make_goal(client: Client, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    answer = client.http.post("/api/goals", headers=client.admin, json={"site": "test", **body})
    assert answer.status_code == status, answer.text
    result: dict[str, Any] = answer.json()
    return result


@every_adapter
def test_goals_count_conversions_and_drive_the_rate(client: Client) -> None:
    build_daily(client)
    pro = make_goal(client, {"name": "Pro signup", "kind": "custom", "value": "signup",
                             "property": {"key": "plan", "value": "pro"}})
    product = make_goal(client, {"name": "Saw a product", "kind": "pageview", "value": "/product/*"})
    cart = make_goal(client, {"name": "Cart", "kind": "event", "value": "cart"})
    assert (pro["name"], pro["kind"], pro["value"], pro["property"]) == ("Pro signup", "custom", "signup",
                                                                         {"key": "plan", "value": "pro"})
    listed = get(client, "/api/goals", "site=test")["goals"]
    assert [g["id"] for g in listed] == [pro["id"], product["id"], cart["id"]]
    result = get(client, "/api/overview")
    goals = [(g["name"], g["visitors"], g["sessions"], g["conversion_rate"], g["previous"]) for g in result["goals"]]
    assert goals == [
        ("Pro signup", 2, 2, 0.5, 0),  # a1 (s1) and u1 (s2); s3's signup was on the free plan
        ("Saw a product", 3, 3, 0.75, 0),  # s1, s3, s4
        ("Cart", 2, 2, 0.5, 0),  # s1, s3
    ]
    assert result["metrics"]["conversion_rate"]["value"] == 0.5  # the purchase default: a1 and a5
    chosen = get(client, "/api/overview", f"{DAY}&goal={product['id']}")
    assert chosen["metrics"]["conversion_rate"]["value"] == 0.75
    assert chosen["goal"] == str(product["id"])
    # the `converted` filter follows the chosen goal too
    assert session_ids(client, f"converted=1&goal={product['id']}") == ["s1", "s3", "s4"]
    assert session_ids(client, f"converted=0&goal={pro['id']}") == ["s3", "s4", "s5"]
    deleted = client.http.delete(f"/api/goals/{cart['id']}?site=test", headers=client.admin)
    assert deleted.json() == {"deleted": cart["id"]}
    assert [g["name"] for g in get(client, "/api/overview")["goals"]] == ["Pro signup", "Saw a product"]
    assert get(client, "/api/overview", f"{DAY}&goal={cart['id']}", 404) == {
        "error": f"no goal {cart['id']} for this site (see /api/goals)",
    }


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"name": "x", "kind": "event", "value": "nope"}, 400, "an event goal names an event type: "),
    ({"name": "x", "kind": "pageview", "value": "/a", "property": {"key": "k", "value": "v"}}, 400,
     "only a custom event goal takes a property condition"),
    ({"name": "x", "kind": "custom", "value": "s", "property": {"key": "a\"b", "value": "v"}}, 400,
     "invalid request: Expected `str` matching regex"),
    ({"name": "", "kind": "custom", "value": "s"}, 400, "invalid request: Expected `str` of length >= 1"),
    ({"name": "x", "kind": "funnel", "value": "s"}, 400, "invalid request: Invalid enum value 'funnel' - at `$.kind`"),
    ({"name": "x", "kind": "custom", "value": "s", "colour": 1}, 400,
     "invalid request: Object contains unknown field"),
    ({"name": "x", "kind": "custom", "value": "s", "site": "nope"}, 404, "no site 'nope'"),
])
@every_adapter
def test_bad_goals_are_clear_4xx(client: Client, body: dict[str, Any], status: int, message: str) -> None:
    answer = client.http.post("/api/goals", headers=client.admin, json={"site": "test", **body})
    assert answer.status_code == status
    assert answer.json()["error"].startswith(message)
    assert get(client, "/api/goals", "site=test") == {"goals": []}


@every_adapter
def test_goal_ids_and_limits(client: Client) -> None:
    assert get(client, "/api/overview", f"{DAY}&goal=abc", 400) == {"error": "a goal id is a number (see /api/goals)"}
    assert client.http.delete("/api/goals/7?site=test", headers=client.admin).status_code == 404
    assert client.http.delete("/api/goals/x?site=test", headers=client.admin).status_code == 400
    for i in range(50):
        make_goal(client, {"name": f"g{i}", "kind": "custom", "value": f"e{i}"})
    assert make_goal(client, {"name": "one more", "kind": "custom", "value": "e"}, 409) == {
        "error": "a site has at most 50 goals; delete one first",
    }


@every_adapter
def test_custom_events_report(client: Client) -> None:
    build_daily(client)
    assert get(client, "/api/events") == {"events": [
        {"name": "signup", "count": 3, "visitors": 2},  # a1 and u1 (who signed up twice)
        {"name": "video_play", "count": 1, "visitors": 1},
    ]}
    assert get(client, "/api/events", f"{DAY}&name=signup")["properties"] == [
        {"key": "plan", "value": "pro", "count": 2, "visitors": 2},
        {"key": "plan", "value": "free", "count": 1, "visitors": 1},
    ]
    assert get(client, "/api/events", f"{DAY}&name=signup&device=mobile") == {
        "events": [{"name": "signup", "count": 1, "visitors": 1}, {"name": "video_play", "count": 1, "visitors": 1}],
        "name": "signup", "properties": [{"key": "plan", "value": "free", "count": 1, "visitors": 1}],
    }


# -- Web Vitals and errors -------------------------------------------------------------------


@pytest.mark.parametrize(("values", "expected"), [
    ([], None), ([7.0], 7.0), ([1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 3.0), ([1.0, 2.0, 3.0, 4.0, 5.0], 4.0),
])
def test_p75_is_nearest_rank(values: list[float], expected: float | None) -> None:
    assert vitals.p75(values) == expected


@pytest.mark.parametrize(("metric", "value", "band"), [
    ("LCP", 2500, "good"), ("LCP", 2501, "needs_improvement"), ("LCP", 4000, "needs_improvement"),
    ("LCP", 4001, "poor"), ("INP", 200, "good"), ("INP", 500.5, "poor"), ("CLS", 0.1, "good"),
    ("CLS", 0.25, "needs_improvement"), ("CLS", 0.26, "poor"), ("FCP", 1800, "good"), ("FCP", 3001, "poor"),
    ("TTFB", 800, "good"), ("TTFB", 1800, "needs_improvement"),
])
def test_web_dev_thresholds(metric: str, value: float, band: str) -> None:
    assert vitals.rating(metric, value) == band


@every_adapter
def test_vitals_report(client: Client) -> None:
    build_daily(client)
    result = get(client, "/api/vitals")
    assert result["metrics"]["LCP"] == {
        "p75": 4500.0, "rating": "poor", "count": 5, "good": 0.4, "needs_improvement": 0.2, "poor": 0.4,
    }
    assert result["metrics"]["CLS"] == {
        "p75": 0.3, "rating": "poor", "count": 2, "good": 0.5, "needs_improvement": 0.0, "poor": 0.5,
    }
    assert result["metrics"]["INP"] == {
        "p75": None, "rating": None, "count": 0, "good": 0.0, "needs_improvement": 0.0, "poor": 0.0,
    }
    assert [(p["page"], p["count"], p["LCP"]["p75"], p["LCP"]["rating"]) for p in result["pages"]] == [
        ("/", 4, 3000.0, "needs_improvement"), ("/product/2", 3, 4500.0, "poor"),
    ]
    assert "CLS" not in result["pages"][0]
    assert [(d["device"], d["LCP"]["p75"]) for d in result["devices"]] == [("desktop", 3000.0), ("mobile", 4500.0)]
    assert result["thresholds"]["INP"] == {"good": 200, "poor": 500}
    # filters apply: the mobile session only
    assert get(client, "/api/vitals", f"{DAY}&device=mobile")["metrics"]["LCP"]["count"] == 1


@every_adapter
def test_errors_report(client: Client) -> None:
    build_daily(client)
    errors = get(client, "/api/errors")["errors"]
    assert [(e["message"], e["source"], e["count"], e["sessions"], e["visitors"]) for e in errors] == [
        (TYPE_ERROR, "https://shop.example/app.js", 3, 2, 2),
        (REFERENCE_ERROR, "https://shop.example/vendor.js", 1, 1, 1),
    ]
    # sessions with a replay first, then the latest
    assert [(x["session_id"], x["replay"]) for x in errors[0]["examples"]] == [("s3", False), ("s1", False)]
    assert [(x["session_id"], x["replay"]) for x in errors[1]["examples"]] == [("s2", True)]
    assert errors[0]["first_seen"] < errors[0]["last_seen"]
    assert get(client, "/api/errors", f"{DAY}&device=mobile")["errors"][0]["count"] == 1


# -- live ----------------------------------------------------------------------------------


@every_adapter
def test_live_view(client: Client) -> None:
    build_daily(client)  # days ago: not live
    now = int(time.time() * 1000)
    minute = 60_000

    def view(ts: int, session: str, anon: str, path: str) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "type": "pageview", "ts": ts, "session_id": session, "anon_id": anon,
                "url": SHOP + path}

    # half minutes: the server's clock reads a little later than ours, never across a minute
    send(client, [view(now - 20 * minute - minute // 2, "l1", "v1", "/"),
                  view(now - 2 * minute - minute // 2, "l1", "v1", "/pricing")])
    send(client, [view(now - minute - minute // 2, "l2", "v2", "/")])
    send(client, [view(now - 10 * minute - minute // 2, "l3", "v3", "/blog")])
    send(client, [view(now - minute, "lb", "b9", "/")], ua=GOOGLEBOT)
    result = get(client, "/api/live", "site=test")
    assert (result["visitors_5m"], result["visitors_30m"]) == (2, 3)
    assert result["pages"] == [{"path": "/", "visitors": 1}, {"path": "/pricing", "visitors": 1}]
    assert [(e["session_id"], e["path"]) for e in result["events"]] == [
        ("l2", "/"), ("l1", "/pricing"), ("l3", "/blog"), ("l1", "/"),
    ]
    assert {i: n for i, n in enumerate(result["minutes"]) if n} == {9: 1, 19: 1, 27: 1, 28: 1}
    assert len(result["minutes"]) == 30


# -- export --------------------------------------------------------------------------------


@every_adapter
def test_any_report_table_as_csv_and_json_download(client: Client) -> None:
    build_daily(client)
    answer = client.http.get(f"/api/overview?{DAY}&format=csv&table=channels", headers=client.admin)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="overview-channels.csv"'
    assert answer.text == "name,sessions,previous\r\ndirect,2,1\r\nemail,1,0\r\norganic,1,0\r\npaid,1,0\r\n"
    vitals_csv = client.http.get(f"/api/vitals?{DAY}&format=csv&table=devices", headers=client.admin).text
    rows = list(csv.DictReader(io.StringIO(vitals_csv)))
    assert [(r["device"], r["LCP.p75"], r["CLS.p75"]) for r in rows] == [
        ("desktop", "3000.0", ""), ("mobile", "4500.0", "0.3"),
    ]
    # one table needs no name
    errors_csv = client.http.get(f"/api/errors?{DAY}&format=csv", headers=client.admin).text
    assert errors_csv.splitlines()[0] == "message,source,count,sessions,visitors,first_seen,last_seen,examples"
    first = next(csv.DictReader(io.StringIO(errors_csv)))
    assert [e["session_id"] for e in json.loads(first["examples"])] == ["s3", "s1"]
    # lists of numbers become numbered columns
    cohorts = client.http.get(f"/api/retention?{DAY}&weeks=2&format=csv&table=cohorts", headers=client.admin).text
    assert cohorts.splitlines()[0] == "week,visitors,retained.0,retained.1,rates.0,rates.1"
    download = client.http.get(f"/api/events?{DAY}&download=1", headers=client.admin)
    assert download.headers["content-disposition"] == 'attachment; filename="events.json"'
    assert download.json()["events"][0]["name"] == "signup"
    unnamed = get(client, "/api/overview", f"{DAY}&format=csv", 400)["error"]
    assert unnamed == (
        "name the table to export: table=series or previous_series or pages or channels or campaigns or devices"
        " or browsers or countries or referrers or entry_pages or exit_pages or regions or goals"
    )
    assert get(client, "/api/overview", f"{DAY}&format=csv&table=metrics", 400)["error"].startswith(
        "no table 'metrics' in this report; tables: series, previous_series, pages,")
    assert client.http.get(f"/api/overview?{DAY}&format=csv&table=goals", headers=client.admin).text == ""
    assert get(client, "/api/overview", f"{DAY}&format=xml", 400) == {"error": "format must be json or csv, not 'xml'"}


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("@me", "'@me"), ("-x", "'-x"),
    (-1.5, -1.5), (None, ""), (True, 1), ("plain", "plain"),
])
def test_csv_cells_never_run_as_formulas(value: Any, cell: Any) -> None:
    assert export.cell(value) == cell


@every_adapter
def test_sessions_export_streams_every_session_once(client: Client) -> None:
    start = int(time.time() * 1000) - 3_600_000
    count = 1203  # more than one export page of 1000
    for batch in range(0, count, 500):
        send(client, [
            {"id": str(uuid.uuid4()), "type": "pageview", "ts": start + i * 10, "session_id": f"x{i:05d}",
             "anon_id": f"v{i}", "url": SHOP + "/"} for i in range(batch, min(batch + 500, count))
        ])
    with client.http.stream("GET", "/api/export/sessions?site=test", headers=client.admin) as answer:
        assert answer.status_code == 200
        assert answer.headers["x-total-count"] == str(count)
        text = "".join(answer.iter_text())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    assert [r["id"] for r in rows[:2]] == ["x01202", "x01201"]  # newest first
    assert {r["id"] for r in rows} == {f"x{i:05d}" for i in range(count)}
    assert rows[0]["entry_url"] == SHOP + "/"
    filtered = client.http.get("/api/export/sessions?site=test&entry=/nope", headers=client.admin)
    assert (filtered.headers["x-total-count"], filtered.text.count("\r\n")) == ("0", 1)
    assert client.http.get("/api/export/sessions?site=test").status_code == 401
