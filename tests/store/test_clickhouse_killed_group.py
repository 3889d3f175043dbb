"""A collector killed in the middle of a group on chdb: what its retry finds must be what a store
that took the same requests without the kill holds. The kill is a real one (`os._exit` in a
child process, at the moment a given table is about to be written); a second process opens the
store (which undoes a group stored without its session rows), retries the request the killed one
never answered, and compares every session, link and person with a store that was not killed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.crash import ROOT

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from collector.store.clickhouse import ClickHouseStore
    from collector.store.clickhouse.transaction import apply_group
    from collector.store.model import Acquisition, ChunkRow, EventRow, WriteBatch

    T = 1_780_000_000_000

    def row(eid, kind, ts, session, **more):
        return EventRow(id=eid, type=kind, ts=ts, client_ts=ts, anon_id="a1", user_id=None, session_id=session,
                        url="https://shop.example/p", path="/p", route=None, name=None,
                        acquisition=Acquisition() if kind == "pageview" else None, **more)

    FIRST = WriteBatch(site_id="test", received_at=T, events=[
        row("p1", "pageview", T, "s1"), row("c1", "click", T + 1000, "s1"),
    ])
    # From the site's backend: it vouches for who a1 is, with traits; a1's second visit begins;
    # and a replay chunk of the first visit comes late.
    SECOND = WriteBatch(site_id="test", received_at=T + 3_600_000, verified=True, events=[
        row("i1", "identify", T + 3_600_000, "s2", traits=b'{"plan": "pro"}') ,
        row("p2", "pageview", T + 3_600_001, "s2"), row("b1", "purchase", T + 3_600_002, "s2", revenue=30.0),
    ], chunks=[ChunkRow(session_id="s1", anon_id="a1", seq=0, first_ts=T, last_ts=T + 1000, data=b"x" * 321)])
    for r in SECOND.events:
        if r.type == "identify":
            r.user_id = "u1"

    def store(database):
        s = ClickHouseStore(f"chdb://{sys.argv[1]}?database={database}")
        if not s.sites():
            s.add_site("test", "Test", key="wk_test")
        return s

    def held(s):
        t = s.db.t
        sessions = s.db.rows(  # what views.py keeps, without the seqs: they are each store's clock
            f"SELECT * EXCEPT (version, views, scrolls), arrayMap(v -> (v.ts, v.path, v.route), views),"
            f" arrayMap(x -> (x.ts, x.url, x.depth), scrolls) FROM {t('sessions')} FINAL ORDER BY id")
        links = s.db.rows(f"SELECT anon_id, user_id, ts, verified FROM {t('identities')} FINAL ORDER BY anon_id")
        persons = s.db.rows(f"SELECT user_id, traits, first_ts, last_ts FROM {t('persons')} FINAL ORDER BY user_id")
        events = s.db.rows(f"SELECT session_id, count() FROM {t('events')} GROUP BY session_id ORDER BY session_id")
        chunks = s.db.rows(f"SELECT session_id, seq, size FROM {t('replay_chunks')} FINAL ORDER BY session_id, seq")
        return {"sessions": sessions, "links": links, "persons": persons, "events": events, "chunks": chunks}

    if sys.argv[2] == "kill":
        s = store("killed")
        apply_group(s.db, [FIRST])
        real = s.db.conn.insert
        def insert(table, columns, rows):
            if table.endswith("." + sys.argv[3]):
                os._exit(9)  # the process dies here, as under SIGKILL
            real(table, columns, rows)
        s.db.conn.insert = insert
        apply_group(s.db, [SECOND])
        raise SystemExit("not killed")
    killed = store("killed")
    before = killed.db.rows(f"SELECT count() FROM {killed.db.t('events')}")[0][0]
    retried = apply_group(killed.db, [SECOND])[0]
    clean = store("clean")
    apply_group(clean.db, [FIRST])
    apply_group(clean.db, [SECOND])
    print(json.dumps({"kept": before, "retried": [retried.stored, retried.duplicates],
                      "killed": held(killed), "clean": held(clean)}, default=str))
    killed.close()
    clean.close()
    """
)


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, str(folder), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize(("table", "kept", "retried"), [
    # killed after the group's events (its traits, its replay chunk): they are deleted on opening,
    # and stored again; the chunk stored already counts in its session then
    ("persons", 2, [3, 0]),
    ("replay_chunks", 2, [3, 0]),
    ("sessions", 2, [3, 0]),
    # after its session rows: the events stay, and the retry makes the link (killed before the
    # events' ids: opening the store puts them again, and the retry finds its events)
    ("event_ids", 5, [0, 3]),
    ("identities", 5, [0, 3]),
    ("dead_letters", 5, [0, 3]),
])
def test_a_group_killed_midway_is_completed_by_its_retry(tmp_path: Path, table: str, kept: int,
                                                          retried: list[int]) -> None:
    killed = _run(tmp_path, "kill", table)
    assert killed.returncode == 9, killed.stderr[-2000:]
    checked = _run(tmp_path, "check")
    assert checked.returncode == 0, checked.stderr[-2000:]
    found = json.loads(checked.stdout.splitlines()[-1])
    assert (found["kept"], found["retried"]) == (kept, retried)
    assert found["killed"] == found["clean"]
    assert found["clean"]["links"] == [["a1", "u1", 1780003600000, 1]]
    assert {s[1]: s[2] for s in found["clean"]["sessions"]} == {"s1": "u1", "s2": "u1"}  # s1 stitched to u1
    assert found["clean"]["events"] == [["s1", 2], ["s2", 3]]
    assert found["clean"]["chunks"] == [["s1", 0, 321]]
    assert {s[1]: (s[-5], s[-4]) for s in found["clean"]["sessions"]} == {"s1": (1, 321), "s2": (0, 0)}
