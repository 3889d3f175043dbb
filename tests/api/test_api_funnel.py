"""POST /api/funnel on journeys with known answers."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from collector.query.funnel import Step
from collector.query.scope import Scope
from collector.store.sqlite.reads import funnel as sqlite_funnel
from tests.support.analytics_journeys import DATE, DAY_MS, MIN, D, build, event, send
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter

STEPS = [
    {"type": "pageview", "url": "/"},
    {"type": "pageview", "url": "/product/*"},
    {"type": "purchase"},
]


def funnel(client: Client, **body: Any) -> dict[str, Any]:
    answer = client.http.post("/api/funnel", json={"site": "test", "from": DATE, "to": DATE, **body},
                              headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def summary(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (s["visitors"], s["conversion"], s["median_s_from_previous"], s["dropped"],
         [d["id"] for d in s["dropped_sessions"]])
        for s in result["steps"]
    ]


def test_three_steps_merge_identities_and_count_the_window_edge(client: Client) -> None:
    build(client)
    result = funnel(client, steps=STEPS, window_s=3600)
    # a1 buys; u1 sees / in s2 (as a2) and /product/2 in s3 (as a3) exactly 3600 s later:
    # one visitor, within the window; a4 reaches /product/1 after midnight; a5 never sees /.
    assert summary(result) == [
        (3, 1.0, None, 0, []),
        (3, 1.0, 1800.0, 2, ["s3", "s4"]),
        (1, 1 / 3, 90.0, 0, []),
    ]
    assert result["overall_conversion"] == 1 / 3
    assert [s["conversion_from_start"] for s in result["steps"]] == [1.0, 1.0, 1 / 3]
    dropped = result["steps"][1]["dropped_sessions"]
    assert dropped == [
        {"id": "s3", "visitor_id": "u1", "has_replay": False},
        {"id": "s4", "visitor_id": "a4", "has_replay": False},
    ]


def test_shorter_window_drops_the_merged_visitor_at_step_one(client: Client) -> None:
    build(client)
    result = funnel(client, steps=STEPS, window_s=1800)
    assert summary(result) == [
        (3, 1.0, None, 1, ["s2"]),
        (2, 2 / 3, 930.0, 1, ["s4"]),
        (1, 1 / 2, 90.0, 0, []),
    ]
    assert result["steps"][0]["dropped_sessions"][0]["has_replay"] is True


def test_route_template_names_and_filters(client: Client) -> None:
    build(client)
    steps = [{"type": "pageview", "url": "/product/:id"}, {"type": "cart", "name": "add"}]
    assert summary(funnel(client, steps=steps, window_s=600)) == [
        (3, 1.0, None, 1, ["s4"]),  # a1, u1 and a4 saw a product; a4 added nothing
        (2, 2 / 3, 25.0, 0, []),    # a1 after 30 s, u1 after 20 s
    ]
    mobile = funnel(client, steps=steps, window_s=600, filters={"device": "mobile"})
    assert summary(mobile) == [(1, 1.0, None, 0, []), (1, 1.0, 20.0, 0, [])]


def test_bots_are_left_out_unless_asked(client: Client) -> None:
    build(client)
    steps = [{"type": "pageview", "url": "https://shop.example/"}, {"type": "purchase"}]
    assert [s["visitors"] for s in funnel(client, steps=steps)["steps"]] == [3, 1]
    assert [s["visitors"] for s in funnel(client, steps=steps, bots=True)["steps"]] == [4, 2]


def test_empty_range(client: Client) -> None:
    build(client)
    result = funnel(client, steps=STEPS, **{"from": "2020-01-01", "to": "2020-01-01"})
    assert summary(result) == [(0, 0.0, None, 0, [])] * 3
    assert result["overall_conversion"] == 0.0


def test_steps_that_test_only_their_type_beside_steps_of_that_type_that_test_more(client: Client) -> None:
    build(client)
    # Any pageview, then a product page, then any survey answer twice: a product view is steps 1
    # and 2 at once, every survey answer steps 3 and 4 at once.
    steps = [{"type": "pageview"}, {"type": "pageview", "url": "/product/*"}, {"type": "survey"}, {"type": "survey"}]
    result = funnel(client, steps=steps, window_s=3600)
    # a1: /, /product/1 60 s later, surveys 10, 15 and 20 s after that (of attempts with one
    # start, the last to reach a step is kept: steps 3 and 4 are the last two surveys). u1: / in
    # s2, /product/2 in s3 exactly 3600 s later, its surveys past the window. a4: /, /product/1
    # 30 min later (its survey came between). a5: /checkout, surveys with no product page before.
    assert summary(result) == [
        (4, 1.0, None, 1, ["s5"]),
        (3, 3 / 4, 1800.0, 2, ["s3", "s4"]),
        (1, 1 / 3, 15.0, 0, []),
        (1, 1.0, 5.0, 0, []),
    ]
    assert [d["visitor_id"] for d in result["steps"][1]["dropped_sessions"]] == ["u1", "a4"]


def test_ids_of_any_characters_and_a_step_without_events(client: Client) -> None:
    # Session, anonymous and user ids with quotes, backslashes, separators, control and non-ASCII
    # characters come back exactly as sent; a step type of which the range holds no event at all
    # is reached by no one.
    t = D + 9 * 60 * MIN
    merged = 'ü "ser"'
    for events in (
        [event("pageview", t, 'x "1"', 'a "q"\\', "/"), event("pageview", t + 10_000, 'x "1"', 'a "q"\\', "/product/1"),
         event("purchase", t + 20_000, 'x "1"', 'a "q"\\', "/checkout", order_id="o1", value=1.0)],
        [event("pageview", t + 1000, "x\\2", "a\\b", "/"), event("pageview", t + 31_000, "x\\2", "a\\b", "/product/2")],
        [event("pageview", t + 2000, "x é", "a é", "/"),
         event("identify", t + 2000, "x é", "a é", "/", user_id=merged)],
        [event("pageview", t + 62_000, "x\t4", "a\t4", "/product/1"),
         event("identify", t + 62_000, "x\t4", "a\t4", "/", user_id=merged)],
        [event("pageview", t + 3000, "x,5 ", "a,d\u2028", "/")],
        [event("purchase", t + 4000, "x\x1f 6", "a 6", "/checkout", order_id="o2", value=1.0)],
    ):
        send(client, events)
    result = funnel(client, steps=[*STEPS, {"type": "error"}], window_s=3600)
    assert summary(result) == [
        (4, 1.0, None, 1, ["x,5 "]),
        (3, 3 / 4, 30.0, 2, ["x\t4", "x\\2"]),
        (1, 1 / 3, 10.0, 1, ['x "1"']),
        (0, 0.0, None, 0, []),
    ]
    assert [[d["visitor_id"] for d in s["dropped_sessions"]] for s in result["steps"]] == [
        ["a,d\u2028"], [merged, "a\\b"], ['a "q"\\'], [],
    ]


@pytest.mark.sqlite_only
def test_reads_too_long_for_one_sqlite_string_come_in_halves(client: Client) -> None:
    # Each read answers in one row of strings; past SQLite's length limit (a billion bytes unless
    # built otherwise, lowered here to 1,000) its range of times is halved until the parts fit.
    batch: list[dict[str, Any]] = []
    for n in range(240):  # 160 visitors, 80 of them with two sessions
        session, anon, t = f"h{n:03d}", f"v{n % 160:03d}", D + 9 * 60 * MIN + n * 90_000
        batch.append(event("pageview", t, session, anon, "/"))
        if n % 3:
            batch.append(event("pageview", t + 60_000, session, anon, "/product/1"))
        if n % 5 == 1:
            batch.append(event("purchase", t + 61_000, session, anon, "/checkout", order_id=f"o{n}", value=1.0))
    for at in range(0, len(batch), 250):
        send(client, batch[at:at + 250])
    scope = Scope("test", D, D + DAY_MS)
    steps = [Step(**step) for step in STEPS]
    with client.store.read() as conn:  # type: ignore[attr-defined]
        whole = sqlite_funnel.funnel(conn, scope, steps, 3600)
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
        try:
            with pytest.raises(sqlite3.DataError):  # the sessions' ids alone are longer
                conn.execute("SELECT json_group_array(s.id) FROM sessions s WHERE s.site_id = 'test'").fetchone()
            halved = sqlite_funnel.funnel(conn, scope, steps, 3600)
        finally:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
    assert halved == whole
    # A visitor's two sessions lie 4 hours apart: each attempt stays in one session. A product page
    # in every session but n % 3 == 0 (27 visitors with one session have none), a purchase after
    # it in the 32 sessions with n % 5 == 1 and n % 3 != 0, 6 visitors buying in both sessions.
    assert [s["visitors"] for s in whole["steps"]] == [160, 160 - 27, 32 - 6]
