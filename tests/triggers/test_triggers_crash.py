"""SIGKILL a real `trailmark serve` while its webhooks are in flight: after a restart every
acknowledged event's delivery arrives, and a repeated one carries the same delivery id."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.collector import KEY, make_store, read_rows
from tests.support.crash import TRAILMARK, Collector, free_port
from tests.support.receiver import Receiver, wait_for

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"


# The outbox of a ClickHouse store, read in a process of its own (chdb serves a directory to one process).
CHDB_OUTBOX = """
import json, sys
from collector.store.clickhouse import ClickHouseStore
store = ClickHouseStore(sys.argv[1])
db = store.db
rows = db.rows(f"SELECT id, status FROM {db.t('trigger_deliveries')} FINAL")
store.close()
print(json.dumps([{"id": i, "status": s} for i, s in rows]))
"""


def outbox(db: Path, store: str | None) -> list[dict[str, Any]]:
    if store is None:
        return read_rows(db, "SELECT id, status FROM trigger_deliveries")
    found = subprocess.run([sys.executable, "-c", CHDB_OUTBOX, store], check=True, capture_output=True, text=True)
    return json.loads(found.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("on_chdb", [False, True], ids=["sqlite", "chdb"])
def test_sigkill_mid_delivery_loses_nothing(tmp_path: Path, on_chdb: bool) -> None:
    db = tmp_path / "trailmark.db"
    store = f"chdb://{tmp_path / 'store'}" if on_chdb else None
    if store is None:
        make_store(db).close()
    else:
        subprocess.run([TRAILMARK, "sites", "add", "test", "--key", KEY, "--store", store], check=True,
                       capture_output=True)
    collector = Collector(db, free_port(), store)
    collector.env.update({
        "TRAILMARK_WEBHOOK_ALLOW_PRIVATE": "1", "TRAILMARK_WEBHOOK_BACKOFF_BASE": "0.05",
        "TRAILMARK_WEBHOOK_BACKOFF_CAP": "1", "TRAILMARK_ADMIN_TOKEN": "trigger-crash-admin-token",
    })
    admin = {"Authorization": "Bearer trigger-crash-admin-token"}
    with Receiver(hold=threading.Event()) as receiver:
        collector.start()
        try:
            rule = httpx.post(f"{collector.url}/api/triggers", headers=admin, json={
                "site": "test", "name": "Signup", "url": receiver.url, "kind": "event",
                "event": {"type": "track", "name": "signup"}}).json()
            sent = []
            for batch in range(4):
                events = [{"id": str(uuid.uuid4()), "type": "track", "name": "signup", "ts": int(time.time() * 1000),
                           "session_id": f"s{batch}-{i}", "anon_id": f"a{batch}-{i}"} for i in range(5)]
                answer = httpx.post(f"{collector.url}/v1/batch", json={"key": KEY, "events": events},
                                    headers={"User-Agent": CHROME})
                assert answer.json() == {"accepted": 5, "rejected": []}
                sent += [e["id"] for e in events]
            assert receiver.arrived.wait(60), "no delivery reached the receiver"
            collector.kill()  # while the receiver holds the requests under way
            receiver.hold.set()  # type: ignore[union-attr]
            queued = outbox(db, store)
            assert len(queued) == 20  # every acknowledged event's delivery was committed with it
            collector.start()
            wait_for(lambda: all(d["status"] == "delivered" for d in httpx.get(
                f"{collector.url}/api/triggers/{rule['id']}/deliveries?site=test", headers=admin,
            ).json()["deliveries"]), "every delivery after the restart", limit=120)
        finally:
            collector.stop()
    ids_by_event: dict[str, set[str]] = defaultdict(set)
    for got in receiver.received:
        ids_by_event[got.json["events"][0]["id"]].add(got.delivery)
        assert got.json["id"] == got.delivery
    assert sorted(ids_by_event) == sorted(sent)  # nothing lost
    assert all(len(ids) == 1 for ids in ids_by_event.values())  # a repeat carries the same id
    assert len(receiver.received) > len(sent)  # the requests cut off by the kill were sent again
    assert {r["id"] for r in queued} == set().union(*ids_by_event.values())
