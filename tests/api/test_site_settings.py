"""A site's goal, currency and shop flag: set from the CLI and the API, used by the overview."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from click.testing import CliRunner

from collector.cli import main
from tests.support.collector import Client

# The settings added after the first three, at their defaults.
LATER = {"timezone": "UTC", "replay_assets": True}

NOW = int(time.time() * 1000)
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _send(client: Client, *events: dict[str, Any]) -> None:
    answer = client.http.post("/v1/batch", json={"key": client.key, "events": list(events)},
                              headers={"User-Agent": UA})
    assert answer.json() == {"accepted": len(events), "rejected": []}


def _event(type_: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": f"{type_}-{n}", "ts": NOW - 60_000 + n, "anon_id": f"a-{n}",
            "session_id": f"s-{n}", "url": "https://shop.example/", **fields}


def _settings(client: Client) -> dict[str, Any]:
    (site,) = client.http.get("/api/sites", headers=client.admin).json()["sites"]
    return site["settings"]


def _overview(client: Client) -> dict[str, Any]:
    answer = client.http.get("/api/overview", params={"site": "test"}, headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_settings_default_then_change_and_reset(client: Client) -> None:
    assert _settings(client) == {"goal": "purchase", "currency": None, "shop": None, **LATER}
    answer = client.http.patch("/api/sites/test", json={"goal": "signup", "currency": "EUR"}, headers=client.admin)
    assert answer.json() == {"id": "test", "name": "Test site",
                             "settings": {"goal": "signup", "currency": "EUR", "shop": None, **LATER}}
    # POST works too (a plain form), and a field left out is kept.
    answer = client.http.post("/api/sites/test", json={"shop": False}, headers=client.admin)
    assert answer.json()["settings"] == {"goal": "signup", "currency": "EUR", "shop": False, **LATER}
    answer = client.http.patch("/api/sites/test", json={"goal": "purchase", "currency": None, "shop": None},
                               headers=client.admin)
    assert answer.json()["settings"] == {"goal": "purchase", "currency": None, "shop": None, **LATER}
    # Stored as the site's settings JSON, other settings untouched; the default goal is no setting.
    assert client.rows("SELECT settings FROM sites") == [{"settings": "{}"}]


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"currency": "euro"}, 400, "Expected `str` matching regex '^[A-Z]{3}$' - at `$.currency`"),
    ({"goal": ""}, 400, "Expected `str` of length >= 1 - at `$.goal`"),
    ({"shop": "yes"}, 400, "Expected `bool | null`, got `str` - at `$.shop`"),
    ({"colour": "red"}, 400, "Object contains unknown field `colour`"),
    ({}, 400, "nothing to change: send one of goal, currency, shop, timezone"),
    ({"timezone": "Mars/Olympus_Mons"}, 400,
     "unknown time zone 'Mars/Olympus_Mons': use an IANA name such as Europe/Paris"),
    ({"timezone": "../../etc/passwd"}, 400, "unknown time zone '../../etc/passwd'"),
    ({"timezone": "/etc/localtime"}, 400, "unknown time zone '/etc/localtime'"),
    ({"timezone": ""}, 400, "unknown time zone ''"),
    ({"timezone": "x" * 65}, 400, "Expected `str` of length <= 64 - at `$.timezone`"),
    ({"timezone": 7}, 400, "Expected `str | null`, got `int` - at `$.timezone`"),
])
def test_bad_settings_are_a_clear_400_and_change_nothing(client: Client, body: dict[str, Any], status: int,
                                                          error: str) -> None:
    answer = client.http.patch("/api/sites/test", json=body, headers=client.admin)
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert _settings(client) == {"goal": "purchase", "currency": None, "shop": None, **LATER}


def test_settings_need_the_admin_and_an_existing_site(client: Client) -> None:
    assert client.http.patch("/api/sites/test", json={"shop": True}).status_code == 401
    missing = client.http.patch("/api/sites/nope", json={"shop": True}, headers=client.admin)
    assert (missing.status_code, missing.json()) == (404, {"error": "no site 'nope'"})
    assert client.http.request("PATCH", "/api/sites/test", content=b"{", headers=client.admin).status_code == 400


def test_a_site_without_carts_or_orders_is_not_a_shop_until_told(client: Client) -> None:
    _send(client, _event("pageview", 1), _event("pageview", 2))
    assert _overview(client)["shop"] is False
    client.http.patch("/api/sites/test", json={"shop": True, "currency": "EUR"}, headers=client.admin)
    overview = _overview(client)
    assert (overview["shop"], overview["currency"]) == (True, "EUR")


def test_a_site_with_cart_adds_is_a_shop_unless_told_otherwise(client: Client) -> None:
    _send(client, _event("pageview", 1),
          _event("cart", 1, action="add", item={"sku": "a", "name": "A", "price": 5.0, "qty": 1}))
    assert _overview(client)["shop"] is True
    client.http.patch("/api/sites/test", json={"shop": False}, headers=client.admin)
    assert _overview(client)["shop"] is False


def test_the_goal_decides_the_conversion_rate(client: Client) -> None:
    _send(client, _event("pageview", 1), _event("pageview", 2), _event("track", 2, name="signup"))
    assert _overview(client)["metrics"]["conversion_rate"]["value"] == 0.0  # goal: purchase
    client.http.patch("/api/sites/test", json={"goal": "signup"}, headers=client.admin)
    assert _overview(client)["metrics"]["conversion_rate"]["value"] == 0.5


def test_sites_set_from_the_cli(client: Client) -> None:
    db = str(client.db_path)
    runner = CliRunner()
    result = runner.invoke(main, ["sites", "set", "test", "--goal", "signup", "--currency", "eur", "--db", db])
    assert (result.exit_code, json.loads(result.output)) == (
        0, {"goal": "signup", "currency": "EUR", "shop": None, **LATER})
    result = runner.invoke(main, ["sites", "set", "test", "--shop", "no", "--db", db])
    assert json.loads(result.output) == {"goal": "signup", "currency": "EUR", "shop": False, **LATER}
    # Re-adding the site to change its origins keeps these settings.
    assert runner.invoke(main, ["sites", "add", "Test site", "--id", "test", "--db", db]).exit_code == 0
    assert json.loads(client.rows("SELECT settings FROM sites")[0]["settings"]) == {
        "goal": "signup", "currency": "EUR", "shop": False}
    result = runner.invoke(main, ["sites", "set", "test", "--currency", "none", "--shop", "auto", "--db", db])
    assert json.loads(result.output) == {"goal": "signup", "currency": None, "shop": None, **LATER}
    # Copies of recorded assets are on by default; off is stored, on again is the default (no setting).
    result = runner.invoke(main, ["sites", "set", "test", "--replay-assets", "off", "--db", db])
    assert json.loads(result.output) == {
        "goal": "signup", "currency": None, "shop": None, **LATER, "replay_assets": False}
    assert json.loads(client.rows("SELECT settings FROM sites")[0]["settings"])["replay_assets"] is False
    result = runner.invoke(main, ["sites", "set", "test", "--replay-assets", "on", "--db", db])
    assert json.loads(result.output)["replay_assets"] is True
    assert "replay_assets" not in json.loads(client.rows("SELECT settings FROM sites")[0]["settings"])

    bad = runner.invoke(main, ["sites", "set", "test", "--currency", "euro", "--db", db])
    assert bad.exit_code == 2 and "Expected `str` matching regex '^[A-Z]{3}$' - at `$.currency`" in bad.output
    missing = runner.invoke(main, ["sites", "set", "nope", "--goal", "x", "--db", db])
    assert missing.exit_code == 2 and "no site 'nope'" in missing.output
    empty = runner.invoke(main, ["sites", "set", "test", "--db", db])
    assert empty.exit_code == 2 and (
        "nothing to set: give --goal, --currency, --shop, --timezone or --replay-assets" in empty.output)


def test_the_time_zone_is_set_shown_and_reset(client: Client) -> None:
    answer = client.http.patch("/api/sites/test", json={"timezone": "America/New_York"}, headers=client.admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["timezone"] == "America/New_York"
    assert _settings(client)["timezone"] == "America/New_York"
    # UTC is the default, kept as no setting, as is null.
    client.http.patch("/api/sites/test", json={"timezone": "UTC"}, headers=client.admin)
    assert _settings(client)["timezone"] == "UTC"
    client.http.patch("/api/sites/test", json={"timezone": "Asia/Ho_Chi_Minh"}, headers=client.admin)
    client.http.patch("/api/sites/test", json={"timezone": None}, headers=client.admin)
    assert _settings(client)["timezone"] == "UTC"


def test_sites_set_timezone_from_the_cli(client: Client) -> None:
    db = str(client.db_path)
    runner = CliRunner()
    result = runner.invoke(main, ["sites", "set", "test", "--timezone", "Asia/Ho_Chi_Minh", "--db", db])
    assert (result.exit_code, json.loads(result.output)["timezone"]) == (0, "Asia/Ho_Chi_Minh")
    assert json.loads(client.rows("SELECT settings FROM sites")[0]["settings"]) == {"timezone": "Asia/Ho_Chi_Minh"}
    bad = runner.invoke(main, ["sites", "set", "test", "--timezone", "Asia/Atlantis", "--db", db])
    assert bad.exit_code == 2 and "unknown time zone 'Asia/Atlantis'" in bad.output
    assert _settings(client)["timezone"] == "Asia/Ho_Chi_Minh"
