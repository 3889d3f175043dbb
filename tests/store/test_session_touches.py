"""The sessions' touches kept on write (collector/store/sqlite/touches.py) give the journey map of
the events themselves: after late events, identity stitching, bots found late, replays, and on
scopes read from the kept rows alone or joined to the sessions; a deleted event leaves its
session unknown (the map then reads the events) until a purge or an erasure packs it again, and
the kinds only erased events had go with them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import msgspec
import numpy as np

from collector.query import journey, journey_columns
from collector.query.journey import DEFAULT_STAGES, Stages
from collector.query.scope import Filters, Scope
from collector.store.sqlite import touches
from collector.store.sqlite.reads.journey import kept
from tests.support.analytics_journeys import CHROME, DAY_MS, MIN, D, event, send, stamp_session_context
from tests.support.collector import Client
from tests.support.journey_traffic import generate

ROUTES = msgspec.convert({"stages": [
    {"key": "product", "label": "Product", "match": [{"type": "pageview", "page": "/product/:id"},
                                                     {"page": "/p/:n/b"}]},
    {"key": "bought", "label": "Bought", "match": [{"type": "purchase"}, {"type": "survey", "min_score": 3}]},
    {"key": "back", "label": "Back", "match": [{"new_visit": True, "type": "pageview"},
                                               {"type": "click", "nth": 2}]},
]}, Stages)
CHANNEL = msgspec.convert({"stages": [
    {"key": "paid", "label": "Paid", "match": [{"type": "pageview", "channel": "paid"}, {"touchpoint": "email"}]},
    {"key": "cart", "label": "Cart", "match": [{"type": "cart", "name": "add"}, {"type": "checkout"}]},
]}, Stages)
SCOPE = Scope("test", D, D + 2 * DAY_MS)
FILTERED = Scope("test", D, D + 2 * DAY_MS, filters=Filters(min_duration_ms=(1.0,)))


def _kept_map(client: Client, scope: Scope, stages: Stages) -> tuple[int, list[journey.StageTally]] | None:
    with client.store.read() as conn:  # type: ignore[attr-defined]
        found = kept(conn, scope, journey.reading_of(stages))
    return None if found is None else journey_columns.tally(stages, found)


def _walked(client: Client, scope: Scope, stages: Stages) -> tuple[int, list[journey.StageTally]]:
    return journey.tally(stages, client.store.journey_touches(scope))


def _rows(client: Client, sql: str) -> list[tuple[object, ...]]:
    with client.store.read() as conn:  # type: ignore[attr-defined]
        return [tuple(row) for row in conn.execute(sql)]


def _write(client: Client, change: Callable[[sqlite3.Connection], object]) -> None:
    """Change the store's file as another part of the store would (a purge's delete, a repack)."""
    conn = sqlite3.connect(client.store.path)  # type: ignore[attr-defined]
    try:
        with conn:
            change(conn)
    finally:
        conn.close()


def _stitched_late_and_bot(client: Client) -> None:
    """Traffic that changes stored sessions after their touches are kept."""
    generate(client, 4)
    # a person who signs in: the anonymous sessions move to the user, their rows' visitor with them
    send(client, [event("pageview", D + 60 * MIN, "w-1", "w", "/"), event("click", D + 61 * MIN, "w-1", "w", "/")])
    send(client, [event("identify", D + 62 * MIN, "w-2", "w", "/", user_id="user-w")])
    # a late event before a session's start moves the start, and one after its later events comes last
    send(client, [event("pageview", D + 50 * MIN, "w-1", "w", "/product/1"),
                  event("purchase", D + 61 * MIN, "w-1", "w", "/cart", order_id="o-w", value=5.0)])
    # a session found to be a bot after its touches were kept
    send(client, [event("pageview", D + 70 * MIN, "b-1", "b", "/")])
    stamp_session_context(client, "b-1", is_bot=1)


def test_the_kept_touches_give_the_map_of_the_events(client: Client) -> None:
    _stitched_late_and_bot(client)
    assert _rows(client, "SELECT visitor_id, first_ts FROM sessions WHERE id = 'w-1'") == [("user-w", D + 50 * MIN)]
    # every session has its row, with the sessions' own facts, and a record per event
    facts = "site_id, first_ts, {}, visitor_id, is_bot, has_replay FROM {} ORDER BY 1, 2, 3"
    assert _rows(client, "SELECT " + facts.format("id", "sessions")) == _rows(
        client, "SELECT " + facts.format("session_id", "session_touches"))
    assert _rows(client, "SELECT count(*) FROM sessions WHERE has_replay = 1 OR is_bot = 1")[0][0] > 20
    assert _rows(client, f"SELECT sum(length(touches)) / {touches.RECORD.itemsize} FROM session_touches") == _rows(
        client, "SELECT count(*) FROM events")
    for scope in (SCOPE, FILTERED):
        for stages in (DEFAULT_STAGES, ROUTES, CHANNEL):
            walked = _walked(client, scope, stages)
            assert _kept_map(client, scope, stages) == walked, (scope, stages)
            assert client.store.journey_map(scope, stages) == journey.journey_map(
                stages, client.store.journey_touches(scope))
    people, tallies = _walked(client, SCOPE, DEFAULT_STAGES)
    assert people == 91 and all(t.people for t in tallies)  # generated 90, and the signed-in one


def test_a_deleted_event_leaves_its_session_unknown_until_it_is_packed_again(client: Client) -> None:
    _stitched_late_and_bot(client)
    walked = _walked(client, SCOPE, DEFAULT_STAGES)
    _write(client, lambda conn: conn.execute(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE session_id = 'w-1' LIMIT 1)"))
    assert _rows(client, "SELECT touches FROM session_touches WHERE session_id = 'w-1'") == [(None,)]
    send(client, [event("click", D + 63 * MIN, "w-1", "w", "/")])  # an unknown session stays unknown
    assert _rows(client, "SELECT touches FROM session_touches WHERE session_id = 'w-1'") == [(None,)]
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) is None
    walked = _walked(client, SCOPE, DEFAULT_STAGES)
    assert client.store.journey_map(SCOPE, DEFAULT_STAGES) == journey.journey_map(
        DEFAULT_STAGES, client.store.journey_touches(SCOPE))
    _write(client, touches.repack)
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == walked


def test_an_erasure_packs_what_is_left_and_drops_the_kinds_only_its_events_had(client: Client) -> None:
    generate(client, 5)
    send(client, [event("pageview", D + 60 * MIN, "e-1", "e", "/only-erased"),
                  event("pageview", D + 61 * MIN, "e-1", "e", "/")], ua=CHROME)
    send(client, [event("identify", D + 62 * MIN, "e-1", "e", "/", user_id="erase-me")])
    kinds = [key for (key,) in _rows(client, "SELECT key FROM touch_kinds")]
    assert any("/only-erased" in key for key in kinds)
    client.store.erase_person("test", "erase-me")
    left = [key for (key,) in _rows(client, "SELECT key FROM touch_kinds")]
    assert not any("/only-erased" in key for key in left)
    assert set(left) < set(kinds)
    with client.store.read() as conn:  # type: ignore[attr-defined]
        used = {int(k) for (blob,) in conn.execute("SELECT touches FROM session_touches")
                for k in np.frombuffer(blob, dtype=touches.RECORD)["kind"]}
        assert used == {k for (k,) in conn.execute("SELECT id FROM touch_kinds")}
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == _walked(client, SCOPE, DEFAULT_STAGES)


def test_a_purge_packs_the_sessions_that_kept_some_of_their_events(client: Client) -> None:
    generate(client, 6)
    # a moment within a session of the middle of the traffic: it keeps its later events
    ((cutoff,),) = _rows(client, "SELECT first_ts + 1 FROM sessions WHERE last_ts > first_ts + 1"
                                 " ORDER BY first_ts LIMIT 1 OFFSET 100")
    straddling = _rows(client, f"SELECT count(*) FROM sessions WHERE first_ts < {cutoff} AND last_ts >= {cutoff}")
    assert straddling[0][0] > 0
    client.store.purge(cutoff)
    assert _rows(client, "SELECT count(*) FROM session_touches WHERE touches IS NULL") == [(0,)]
    assert _rows(client, f"SELECT sum(length(touches)) / {touches.RECORD.itemsize} FROM session_touches") == _rows(
        client, "SELECT count(*) FROM events")
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == _walked(client, SCOPE, DEFAULT_STAGES)


def test_a_purge_packs_again_a_session_whose_id_holds_nul(client: Client) -> None:
    """The sessions to pack again are joined to their events, not passed as JSON (which ends a
    string at NUL): a session that kept one of its two events holds that one record."""
    send(client, [event("pageview", D + MIN, "nul\x00s", "n", "/a"),
                  event("pageview", D + 3 * MIN, "nul\x00s", "n", "/b")], ua=CHROME)
    client.store.purge(D + 2 * MIN)
    assert _rows(client, "SELECT length(touches) FROM session_touches") == [(touches.RECORD.itemsize,)]
    assert [session for session, *_ in _records(client).values()] == ["nul\x00s"]
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == _walked(client, SCOPE, DEFAULT_STAGES)


def test_a_value_holding_the_separator_sends_the_map_to_the_events(client: Client) -> None:
    send(client, [event("pageview", D + MIN, "sep-1", "odd\x1fone", "/")], ua=CHROME)
    send(client, [event("pageview", D + 2 * MIN, "n-1", "plain", "/")], ua=CHROME)
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) is None
    assert client.store.journey_map(SCOPE, DEFAULT_STAGES) == journey.journey_map(
        DEFAULT_STAGES, client.store.journey_touches(SCOPE))


def test_the_kinds_of_a_store_are_read_whatever_their_order(client: Client) -> None:
    """Kinds are numbered as they first come; the records of one session name them in any order."""
    send(client, [event("click", D + 3 * MIN, "k-1", "k", "/b"), event("pageview", D + MIN, "k-1", "k", "/a"),
                  event("survey", D + 2 * MIN, "k-1", "k", "/a", kind="nps", score=10)], ua=CHROME)
    with client.store.read() as conn:  # type: ignore[attr-defined]
        (blob,) = conn.execute("SELECT touches FROM session_touches WHERE session_id = 'k-1'").fetchone()
        names = dict(conn.execute("SELECT id, key FROM touch_kinds"))
    records = np.frombuffer(blob, dtype=touches.RECORD)
    assert [int(t) - D for t in records["ts"]] == [MIN, 2 * MIN, 3 * MIN]  # by time within the group
    assert [msgspec.json.decode(names[int(k)])[:2] for k in records["kind"]] == [
        ["pageview", "/a"], ["survey", "/a"], ["click", "/b"]]
    assert msgspec.json.decode(names[int(records["kind"][1])])[5:] == [10, None, 0, 0]
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == _walked(client, SCOPE, DEFAULT_STAGES)



def _records(client: Client) -> dict[int, tuple[str, int, list[object]]]:
    """Each kept record by rowid: its session, time and kind's fields."""
    with client.store.read() as conn:  # type: ignore[attr-defined]
        kinds = {number: msgspec.json.decode(key) for number, key in conn.execute("SELECT id, key FROM touch_kinds")}
        found = {}
        for session, blob in conn.execute("SELECT session_id, touches FROM session_touches"):
            for ts, rowid, kind in np.frombuffer(blob, dtype=touches.RECORD).tolist():
                found[rowid] = (session, ts, kinds[kind])
    return found


def _stored(client: Client) -> dict[int, tuple[str, int, list[object]]]:
    """The same read from the events as a purge's or a migration's packing reads them."""
    with client.store.read() as conn:  # type: ignore[attr-defined]
        return {rowid: (session, ts, msgspec.json.decode(kind)) for session, ts, rowid, kind in conn.execute(
            f"SELECT e.session_id, e.ts, e.rowid, {touches.KIND_SQL} FROM events e")}


def test_the_writer_keeps_the_kinds_a_read_of_the_events_gives(client: Client) -> None:
    """The group commit makes each record from the rows it just stored; a packing from the stored
    events gives the same records, every field of the kind alike."""
    generate(client, 7)
    kept_records = _records(client)
    assert kept_records == _stored(client)
    kinds = [kind for _, _, kind in kept_records.values()]
    assert {k[0] for k in kinds} >= {"pageview", "click", "survey", "cart", "track", "error", "purchase"}
    assert any(k[5] is not None and k[6] is not None for k in kinds) and any(k[7] for k in kinds)
    assert any(k[8] for k in kinds) and any(k[3] == "email" for k in kinds)


def test_rowids_out_of_sequence_are_read_back_from_the_events(client: Client) -> None:
    """Past the largest rowid SQLite numbers new rows at random: the writer then reads the group's
    records back from the events instead of numbering them in order."""
    _write(client, lambda conn: conn.execute(
        "INSERT INTO events (rowid, site_id, id, session_id, type, ts, client_ts, received_at)"
        " VALUES (9223372036854775807, 'other', 'last', 'o-1', 'track', 0, 0, 0)"))
    generate(client, 8)
    kept_records = _records(client)
    assert kept_records == {rowid: row for rowid, row in _stored(client).items() if row[0] != "o-1"}
    assert len(kept_records) > 500 and max(kept_records) < 9223372036854775807
    assert sorted(kept_records) != list(range(min(kept_records), min(kept_records) + len(kept_records)))
    assert _kept_map(client, SCOPE, DEFAULT_STAGES) == _walked(client, SCOPE, DEFAULT_STAGES)


def test_the_kept_touches_are_read_in_parts_past_sqlites_longest_value(client: Client) -> None:
    generate(client, 9)
    whole = _kept_map(client, SCOPE, DEFAULT_STAGES)
    with client.store.read() as conn:  # type: ignore[attr-defined]
        limit = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2000)  # SQLite's longest string or blob, lowered
        try:
            parts = kept(conn, SCOPE, journey.reading_of(DEFAULT_STAGES))
            filtered = kept(conn, FILTERED, journey.reading_of(CHANNEL))
        finally:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
    assert parts is not None and filtered is not None
    assert journey_columns.tally(DEFAULT_STAGES, parts) == whole == _walked(client, SCOPE, DEFAULT_STAGES)
    assert journey_columns.tally(CHANNEL, filtered) == _walked(client, FILTERED, CHANNEL)
