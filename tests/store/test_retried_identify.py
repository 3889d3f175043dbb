"""A retried identify (its answer lost, its batch sent again after a newer one) leaves the person
and the link as the newer identify made them, on every engine: a batch stored before is not
merged again (ClickHouse counts a retried identify again for links only, so that the retry of a
group killed before its links were stored makes them: tests/store/test_clickhouse_killed_group.py)."""

from __future__ import annotations

import pytest

from collector.store.model import Acquisition, EventRow, WriteBatch
from tests.support.collector import Client, every_store

T = 1_780_000_000_000


def _identify(eid: str, ts: int, user: str, traits: bytes, *, verified: bool) -> WriteBatch:
    return WriteBatch(site_id="test", received_at=ts, verified=verified, events=[
        EventRow(id=eid, type="identify", ts=ts, client_ts=ts, anon_id="a1", user_id=user, session_id="s1",
                 url="https://shop.example/", path="/", route=None, name=None, traits=traits),
        EventRow(id=f"{eid}-view", type="pageview", ts=ts + 1, client_ts=ts + 1, anon_id="a1", user_id=None,
                 session_id="s1", url="https://shop.example/", path="/", route=None, name=None,
                 acquisition=Acquisition()),
    ])


@every_store
@pytest.mark.parametrize("verified", [True, False], ids=["vouched", "claimed"])
def test_a_retried_identify_does_not_undo_a_newer_one(client: Client, verified: bool) -> None:
    first = _identify("i1", T, "u1", b'{"plan": "free", "seats": 1}', verified=verified)
    newer = _identify("i2", T + 60_000, "u2" if not verified else "u1", b'{"plan": "pro"}', verified=verified)
    store = client.store
    assert [(r.stored, r.duplicates) for r in (store.write_sync(first), store.write_sync(newer),
                                               store.write_sync(first))] == [(2, 0), (2, 0), (0, 2)]
    person = store.person("test", "u1" if verified else "u2")
    assert person is not None
    assert person["traits"] == ({"plan": "pro", "seats": 1} if verified else {})
    session = store.session("s1", "test")
    assert session is not None and session["events"] and len(session["events"]) == 4
    assert (session["visitor_id"], session["user_id"]) == ("u1" if verified else "u2", "u1" if verified else "u2")
