"""A filtered overview on every engine against the whole days' answer: SQLite reads a filtered
scope in one pass over its sessions, with each session's pageview paths from its own row
(collector/store/sqlite/paths.py), and whole UTC days from its rollups; both must agree to the
digit after sessions change under them."""

from __future__ import annotations

from typing import Any

from tests.support.analytics_journeys import DATE, DAY_MS, MIN, D, build, event, send, stamp_session_context
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter

# A filter that every session passes (no session lasts less than 0 s): no rollup can answer it.
KEEP_ALL = "min_duration=0"


def overview(client: Client, query: str) -> dict[str, Any]:
    answer = client.http.get(f"/api/overview?site=test&{query}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_filter_keeping_every_session_answers_as_the_whole_days_after_they_change(client: Client) -> None:
    build(client)
    t1, t2 = D + 10 * 60 * MIN, D + 11 * 60 * MIN
    # s2's pageviews arrive late: one before its first (its start moves), one after
    send(client, [event("pageview", t2 - 5 * MIN, "s2", "a2", "/product/9")])
    send(client, [event("pageview", t2 + 5 * MIN, "s2", "a2", "/cart")])
    stamp_session_context(client, "s3", is_bot=1)  # s3 turns out to be a bot
    # a5's event inside s1 (a session id it named) is erased alone with a5; s1 stays
    send(client, [event("pageview", t1 + 6 * MIN, "s1", "a5", "/product/5")])
    erased = client.http.delete("/api/persons/a5?site=test", headers=client.admin)
    assert erased.status_code == 200, erased.text

    whole = overview(client, f"from={DATE}&to={DATE}")
    kept = overview(client, f"from={DATE}&to={DATE}&{KEEP_ALL}")
    assert kept == whole
    # s1, s2 and s4 (its "/" on D, its next view past midnight), s6 the day before
    assert kept["pages"] == [
        {"name": "/", "pageviews": 3, "previous": 1},
        {"name": "/cart", "pageviews": 1, "previous": 1},
        {"name": "/product/1", "pageviews": 1, "previous": 0},
        {"name": "/product/9", "pageviews": 1, "previous": 0},
    ]
    assert kept["metrics"]["sessions"]["value"] == 3
    assert kept["entry_pages"][0] == {"name": "/", "sessions": 2, "previous": 1}
    # a later view moves a session's exit: s2 now leaves from /cart (s1's from the erased view)
    assert {row["name"]: row["sessions"] for row in kept["exit_pages"]} == {
        "/product/5": 1, "/cart": 1, "/product/1": 1,
    }


def test_a_filter_counts_its_sessions_by_every_breakdown_as_the_filtered_days(client: Client) -> None:
    """Each breakdown of a filtered overview is the count of the filter's sessions by that value:
    drilling into each row of a breakdown gives as many sessions as the row showed."""
    build(client)
    filtered = overview(client, f"from={DATE}&to={DATE}&{KEEP_ALL}")
    for breakdown, parameter in (("devices", "device"), ("browsers", "browser"), ("countries", "country"),
                                 ("channels", "channel"), ("referrers", "referrer")):
        for row in filtered[breakdown]:
            drilled = overview(client, f"from={DATE}&to={DATE}&{KEEP_ALL}&{parameter}={row['name']}")
            assert drilled["metrics"]["sessions"]["value"] == row["sessions"], (breakdown, row)


def test_a_session_open_for_days_before_the_range_has_its_pageviews_in_it_counted(client: Client) -> None:
    """A session that began three days before the range (its id kept by the client) and went on
    into it: a filtered overview counts its pageviews of the range, as the whole days do. The
    reads of such sessions look back as far as the site's longest session, which grew when the
    session's later view arrived."""
    build(client)
    send(client, [event("pageview", D - 3 * DAY_MS + 60 * MIN, "long", "a9", "/product/7")])
    send(client, [event("pageview", D + 30 * MIN, "long", "a9", "/product/8")])
    session = client.http.get("/api/sessions/long?site=test", headers=client.admin).json()
    assert (session["first_ts"], session["last_ts"]) == (D - 3 * DAY_MS + 60 * MIN, D + 30 * MIN)
    whole = overview(client, f"from={DATE}&to={DATE}")
    kept = overview(client, f"from={DATE}&to={DATE}&{KEEP_ALL}")
    assert kept == whole
    assert {"name": "/product/8", "pageviews": 1, "previous": 0} in kept["pages"]
    assert all(row["name"] != "/product/7" for row in kept["pages"])
