"""The concepts of collector/query/definitions.py as every engine answers them: each engine's SQL
spelling against the cases of docs/metrics.md, and the edge cases through the API."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from collector.store.sqlite.reads import scope as sqlite_scope
from tests.support.analytics_journeys import (
    DATE,
    DAY_MS,
    GOOGLEBOT,
    MIN,
    NEXT_DATE,
    D,
    event,
    mark_bot_if_enrichment_missed,
    send,
)
from tests.support.collector import SECRET, Client, every_adapter
from tests.support.definitions import BOUNCES, CARTS, DAYS, DEVICES

pytestmark = every_adapter


def select(client: Client, expression: str, **columns: object) -> Any:
    """The value of an SQL expression over one row `v` with the given columns, on the client's engine."""
    if client.engine == "sqlite":
        names = ", ".join(f"? AS {name}" for name in columns) or "1 AS one"
        conn = sqlite3.connect(client.db_path)
        try:
            return conn.execute(f"SELECT {expression} FROM (SELECT {names}) v", list(columns.values())).fetchone()[0]
        finally:
            conn.close()
    from collector.store.clickhouse.client import lit

    names = ", ".join(f"{lit(value)} AS {name}" for name, value in columns.items())
    return client.store.db.rows(f"SELECT {expression} FROM (SELECT {names}) AS v")[0][0]  # type: ignore[attr-defined]


def spelling(client: Client) -> Any:
    if client.engine == "sqlite":
        return sqlite_scope
    from collector.store.clickhouse.reads import scope

    return scope


def test_each_engine_spells_the_definitions_as_docs_metrics_md_defines_them(client: Client) -> None:
    sql = spelling(client)
    assert [bool(select(client, sql.human_sql("v"), is_bot=flag)) for flag in (0, 1)] == [True, False]
    assert [
        (bool(select(client, sql.viewed_sql("v"), pageviews=n)),
         bool(select(client, sql.bounced_sql("v"), pageviews=n)))
        for n, _, _ in BOUNCES
    ] == [(viewed, bounced) for _, viewed, bounced in BOUNCES]
    assert [
        (bool(select(client, sql.carted_sql("v"), cart_adds=c, purchases=p)),
         bool(select(client, sql.abandoned_sql("v"), cart_adds=c, purchases=p)))
        for c, p, _, _ in CARTS
    ] == [(carted, abandoned) for _, _, carted, abandoned in CARTS]
    assert [select(client, sql.device_sql("v.vw"), vw=vw) for vw, _ in DEVICES] == [bucket for _, bucket in DEVICES]
    assert [select(client, sql.day_sql("v.ts"), ts=ts) for ts, _ in DAYS] == [day for _, day in DAYS]


def get(client: Client, path: str) -> Any:
    answer = client.http.get(path, headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def metrics(client: Client, query: str) -> dict[str, float]:
    return {k: m["value"] for k, m in get(client, f"/api/overview?site=test&{query}")["metrics"].items()}


def sessions(client: Client, query: str = "") -> list[str]:
    return [s["id"] for s in get(client, f"/api/sessions?site=test&from={DATE}&to={DATE}&{query}")["sessions"]]


T = D + 10 * 60 * MIN  # 10:00 on day D
WHOLE_DAY = f"from={DATE}&to={DATE}"  # read from the day rollups
INSIDE = f"from={D + 1}&to={D + DAY_MS - 1}"  # not whole days: read from the sessions


@pytest.mark.parametrize("period", [WHOLE_DAY, INSIDE])
def test_a_session_with_one_pageview_and_a_click_bounced(client: Client, period: str) -> None:
    send(client, [event("pageview", T, "s1", "a1", "/"), event("click", T + 5_000, "s1", "a1", "/", x=1, y=1, sel="a")])
    send(client, [event("pageview", T, "s2", "a2", "/"), event("pageview", T + 5_000, "s2", "a2", "/p")])
    send(client, [event("click", T, "s3", "a3", "/", x=1, y=1, sel="a")])  # no pageview: not counted
    assert metrics(client, period)["bounce_rate"] == 0.5  # s1 of s1 and s2
    assert metrics(client, period)["sessions"] == 3


@pytest.mark.parametrize("period", [WHOLE_DAY, INSIDE])
def test_a_cart_abandoned_in_one_session_and_bought_in_a_later_one(client: Client, period: str) -> None:
    add = {"action": "add", "item": {"sku": "A", "name": "A", "price": 10.0, "qty": 1}}
    send(client, [event("pageview", T, "s1", "a1", "/"), event("cart", T + 1_000, "s1", "a1", "/", **add)])
    send(client, [event("pageview", T + 120 * MIN, "s2", "a1", "/"),
                  event("purchase", T + 121 * MIN, "s2", "a1", "/", order_id="o1", value=10.0)])
    send(client, [event("cart", T + 30 * MIN, "s3", "a3", "/", **add),  # a cart bought in its own session
                  event("purchase", T + 31 * MIN, "s3", "a3", "/", order_id="o3", value=10.0)])
    # The rate is per session: s1 added to the cart and left; the later purchase is s2's.
    assert (metrics(client, period)["cart_abandonment_rate"], metrics(client, period)["conversion_rate"]) == (0.5, 1.0)
    commerce = get(client, f"/api/commerce?site=test&{period}")
    assert (commerce["cart_sessions"], commerce["abandoned_sessions"], [s["id"] for s in commerce["abandoned"]]) == (
        2, 1, ["s1"])
    assert (sessions(client, "abandoned=1"), sessions(client, "abandoned=0")) == (["s1"], ["s2", "s3"])
    assert sessions(client, "converted=1") == ["s2", "s3"]


def test_a_person_identified_mid_journey_is_one_person_from_their_first_session(client: Client) -> None:
    send(client, [event("pageview", T, "s1", "a1", "/")])  # anonymous
    send(client, [event("pageview", T + 60 * MIN, "s2", "a1", "/")])
    send(client, [event("identify", T + 61 * MIN, "s2", "a1", "/", user_id="u1")], key=SECRET)  # mid-session
    send(client, [event("pageview", T + 62 * MIN, "s2", "a1", "/p")])
    send(client, [event("pageview", T + 180 * MIN, "s3", "a2", "/")])  # another browser, the same user
    send(client, [event("identify", T + 181 * MIN, "s3", "a2", "/", user_id="u1")], key=SECRET)
    assert metrics(client, WHOLE_DAY)["visitors"] == 1
    assert [s["visitor_id"] for s in get(client, f"/api/sessions?site=test&{WHOLE_DAY}")["sessions"]] == ["u1"] * 3
    people = get(client, f"/api/persons?site=test&{WHOLE_DAY}")["people"]
    assert [(p["id"], p["sessions"]) for p in people] == [("u1", 3)]
    person = get(client, "/api/persons/a1?site=test")
    assert (person["id"], person["anon_ids"], [s["id"] for s in person["sessions"]]) == ("u1", ["a1", "a2"],
                                                                                        ["s3", "s2", "s1"])


REPORTS = [
    f"/api/overview?site=test&{WHOLE_DAY}", f"/api/overview?site=test&{INSIDE}",
    f"/api/sessions?site=test&{WHOLE_DAY}", f"/api/commerce?site=test&{WHOLE_DAY}",
    f"/api/persons?site=test&{WHOLE_DAY}", f"/api/surveys?site=test&{WHOLE_DAY}",
    f"/api/paths?site=test&from_url=/&{WHOLE_DAY}", f"/api/events?site=test&{WHOLE_DAY}",
    f"/api/heatmap/pages?site=test&from={DATE}&to={NEXT_DATE}",
    f"/api/heatmap?site=test&url=/&from={DATE}&to={NEXT_DATE}",
    f"/api/sessions?site=test&{WHOLE_DAY}&abandoned=1", f"/api/sessions?site=test&{WHOLE_DAY}&page=/",
]


def journey(session: str, anon: str) -> list[dict[str, Any]]:
    add = {"action": "add", "item": {"sku": "A", "name": "A", "price": 10.0, "qty": 1}}
    return [
        event("pageview", T, session, anon, "/"), event("click", T + 1_000, session, anon, "/", x=1, y=1, sel="a"),
        event("cart", T + 2_000, session, anon, "/", **add), event("track", T + 3_000, session, anon, "/", name="x"),
        event("survey", T + 4_000, session, anon, "/", kind="nps", score=0),
        event("pageview", T + 5_000, session, anon, "/p"),
    ]


def test_a_bots_session_changes_no_report_and_no_filter(client: Client) -> None:
    send(client, journey("s1", "a1"))
    before = {path: get(client, path) for path in REPORTS}
    send(client, journey("sb", "b1"), ua=GOOGLEBOT)  # the same journey, by a crawler
    mark_bot_if_enrichment_missed(client, "sb")
    assert {path: get(client, path) for path in REPORTS} == before
    # The bot's session is stored, and shown when asked for: the reports above left it out.
    assert sessions(client, "bots=1") == ["sb", "s1"]  # the same start: the greater id first
    assert metrics(client, f"{WHOLE_DAY}&bots=1")["sessions"] == 2
