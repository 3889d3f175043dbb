"""The demo seeder: deterministic journeys that go through the real ingest path and its enrichment."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from collector.cli import main
from collector.demo.journeys import HOUR_MS, Plan
from collector.demo.places import GEO_DB, PLACES
from collector.demo.seed import plan_for, seed
from collector.enrich.geo import GeoReader
from tests.support.collector import read_rows

VISITORS = 120
# one end for every run in this module: the plan's times are relative to it
END_MS = int(time.time() * 1000) // HOUR_MS * HOUR_MS


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    db = tmp_path_factory.mktemp("seed") / "demo.db"
    stored = seed(db, VISITORS, 7, end_ms=END_MS)
    plan = plan_for(VISITORS, 7, end_ms=END_MS)
    assert stored == plan.events
    return db, plan


def _grouped(db: Path, column: str) -> dict[str, int]:
    rows = read_rows(db, f"SELECT {column} AS k, count(*) AS n FROM sessions WHERE site_id = 'demo' GROUP BY 1")
    return {r["k"]: r["n"] for r in rows}


@pytest.mark.parametrize("attr", ["channel", "device", "country"])
def test_sessions_by_channel_device_country_match_the_plan(seeded: tuple[Path, Plan], attr: str) -> None:
    db, plan = seeded
    assert _grouped(db, attr) == dict(plan.count(attr))


def test_every_event_is_stored_once_and_none_rejected(seeded: tuple[Path, Plan]) -> None:
    db, plan = seeded
    assert read_rows(db, "SELECT count(*) AS n FROM events WHERE site_id = 'demo'")[0]["n"] == plan.events
    assert read_rows(db, "SELECT count(*) AS n FROM dead_letters")[0]["n"] == 0
    by_type = {r["type"]: r["n"] for r in read_rows(db, "SELECT type, count(*) AS n FROM events GROUP BY 1")}
    for kind in ("pageview", "click", "cart", "checkout", "purchase", "survey", "identify", "vital"):
        assert by_type[kind] == plan.total(kind), kind
    assert plan.total("purchase") > 0 and plan.total("survey") > 0 and plan.total("error") > 0


def test_rollups_count_carts_purchases_and_rage_clicks(seeded: tuple[Path, Plan]) -> None:
    db, plan = seeded
    totals = read_rows(db, "SELECT sum(cart_adds) AS adds, sum(purchases) AS purchases, round(sum(revenue), 2)"
                           " AS revenue, sum(rage_clicks) AS rage FROM sessions")[0]
    revenue = round(sum(e["value"] for v in plan.visits for e in v.events if e["type"] == "purchase"), 2)
    rage = sum(1 for v in plan.visits for e in v.events if e.get("rage"))
    assert totals == {"adds": plan.total("cart", "add"), "purchases": plan.total("purchase"),
                      "revenue": revenue, "rage": rage}
    assert rage > 0


def test_ingest_enriched_the_rows(seeded: tuple[Path, Plan]) -> None:
    """Device from the user agent, geo from X-Forwarded-For via the demo GeoIP, campaign from the URL."""
    db, plan = seeded
    cities = {p.country: p.city for p in PLACES}
    sessions = read_rows(db, "SELECT id, country, city, browser, os, device, utm_campaign, channel FROM sessions")
    by_id = {v.session_id: v for v in plan.visits}
    for s in sessions:
        visit = by_id[s["id"]]
        assert s["country"] == visit.country and s["city"] == cities[visit.country]
        assert s["browser"] and s["os"]
        if s["channel"] in ("email", "paid_search", "paid_social"):
            assert s["utm_campaign"], s
    assert {s["utm_campaign"] for s in sessions} >= {"october-newsletter", "rain-jackets"}


def test_same_seed_same_rows(seeded: tuple[Path, Plan], tmp_path: Path) -> None:
    db, _ = seeded
    again = tmp_path / "again.db"
    seed(again, VISITORS, 7, end_ms=END_MS)
    events = "SELECT * FROM events ORDER BY rowid"
    strip = lambda rows: [{k: v for k, v in r.items() if k != "received_at"} for r in rows]  # noqa: E731
    assert strip(read_rows(again, events)) == strip(read_rows(db, events))
    sessions = "SELECT * FROM sessions ORDER BY id"
    assert read_rows(again, sessions) == read_rows(db, sessions)


def test_another_seed_other_journeys() -> None:
    one, other = plan_for(30, 1, end_ms=END_MS), plan_for(30, 2, end_ms=END_MS)
    assert [v.session_id for v in one.visits] != [v.session_id for v in other.visits]


def test_visits_stay_inside_the_window() -> None:
    plan = plan_for(200, 3, days=3, end_ms=END_MS)
    times = [e["ts"] for v in plan.visits for e in v.events]
    assert END_MS - 3 * 24 * HOUR_MS < min(times) and max(times) < END_MS


def test_days_beyond_ingest_window_is_refused() -> None:
    with pytest.raises(ValueError, match="days must be 1..7"):
        plan_for(10, 1, days=30)


def test_demo_geoip_resolves_every_place() -> None:
    reader = GeoReader(GEO_DB)
    try:
        for index, place in enumerate(PLACES):
            geo = reader.lookup(place.address(index * 1000))
            assert (geo.country, geo.city, geo.timezone) == (place.country, place.city, place.timezone)
        assert reader.lookup("8.8.8.8").country == ""
    finally:
        reader.close()


def test_cli_seeds_and_reports(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    result = CliRunner().invoke(main, ["demo", "seed", "--visitors", "15", "--seed", "4", "--db", str(db)])
    assert result.exit_code == 0, result.output
    stored = read_rows(db, "SELECT count(*) AS n FROM events WHERE site_id = 'demo'")[0]["n"]
    assert f"{stored} events in " in result.output and stored > 0
    result = CliRunner().invoke(main, ["demo", "seed", "--days", "30", "--db", str(db)])
    assert result.exit_code == 2 and "30 is not in the range 1<=x<=7" in result.output


def test_the_shops_backend_vouches_for_every_customer(seeded: tuple[Path, Plan]) -> None:
    """Identify comes from the shop's backend with the secret key: each buyer is a vouched person with traits."""
    db, plan = seeded
    buyers = {e["user_id"] for v in plan.visits for e in v.events if e["type"] == "identify"}
    persons = read_rows(db, "SELECT user_id, traits FROM persons WHERE site_id = 'demo'")
    assert {p["user_id"] for p in persons} == buyers
    assert {p["traits"] for p in persons} == {'{"orders":1}'}
    links = read_rows(db, "SELECT DISTINCT user_id, verified FROM identities WHERE site_id = 'demo'")
    assert {r["user_id"] for r in links} == buyers and {r["verified"] for r in links} == {1}
