"""Journey triggers: how soon a rule's webhook arrives, and what 100k open carts cost.

    .venv/bin/python bench/triggers.py [--quick] [--carts N]

On a real SQLite store with the trigger service at its default settings, posting to a real
receiver on 127.0.0.1:
- lag: from the moment a rule becomes true (an event rule: its commit; an absence rule: the end
  of its wait) to the POST's arrival, median and worst of several firings;
- the same absence lag while N carts wait on their own (later) due times, against none: the
  scheduler reads the earliest due time from an index, so the ratio should stay near 1;
- ingest time of N cart adds with the abandoned-cart rule (one pending check per cart) against
  the same N without any rule.
Prints `RESULT triggers: ...`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.store import SQLiteStore  # noqa: E402
from collector.store.model import EventRow, WriteBatch  # noqa: E402
from collector.triggers.rules import Condition, NewRule  # noqa: E402
from collector.triggers.service import Policy, Triggers  # noqa: E402
from tests.support.receiver import Receiver, wait_for  # noqa: E402

SITE = "bench"
BATCH = 500


def now_ms() -> int:
    return int(time.time() * 1000)


def cart(visitor: str, ts: int, path: str = "/p/1") -> EventRow:
    return EventRow(id=str(uuid.uuid4()), type="cart", ts=ts, client_ts=ts, anon_id=visitor, user_id=None,
                    session_id=f"s-{visitor}", url=f"https://shop.example{path}", path=path, route=None, name="add",
                    data=b'{"action":"add","item":{"sku":"A","name":"Mug","price":10.0,"qty":1}}')


def track(visitor: str, name: str) -> EventRow:
    ts = now_ms()
    return EventRow(id=str(uuid.uuid4()), type="track", ts=ts, client_ts=ts, anon_id=visitor, user_id=None,
                    session_id=f"s-{visitor}", url=None, path=None, route=None, name=name, data=b'{"props":{}}')


def store_at(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    store.add_site(SITE, "Bench", key="wk_bench")
    return store


def add_rule(store: SQLiteStore, url: str, kind: str, **fields: Any) -> int:
    rule = store.create_trigger_rule(SITE, NewRule(name=kind, url=url, kind=kind, **fields), "whsec_bench")  # type: ignore[arg-type]
    return int(rule["id"])


def write(store: SQLiteStore, rows: list[EventRow]) -> float:
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        store.write_sync(WriteBatch(site_id=SITE, received_at=now_ms(), events=rows[i:i + BATCH]))
    return time.perf_counter() - started


def lags(receiver: Receiver, count: int, fire: Callable[[int], None]) -> list[float]:
    """Fire `count` times, one at a time; ms from `fired_at` to the POST's arrival, each."""
    out = []
    for n in range(count):
        seen = len(receiver.received)
        fire(n)
        got = wait_for(lambda seen=seen: receiver.received[seen:], "the webhook")[0]
        out.append(got.wall_ms - got.json["fired_at"])
    return out


def absence_lags(store: SQLiteStore, receiver: Receiver, count: int) -> list[float]:
    def fire(n: int) -> None:
        row = cart(f"lag-{uuid.uuid4()}", now_ms(), "/lag")
        store.write_sync(WriteBatch(site_id=SITE, received_at=now_ms(), events=[row]))

    return lags(receiver, count, fire)


def run(carts: int, firings: int) -> dict[str, float]:
    policy = Policy(allow_private=True)  # the defaults, but for the receiver's loopback address
    result: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, Receiver() as receiver:
        base = Path(tmp)
        # Ingest of N cart adds without any rule: the baseline.
        plain = store_at(base / "plain.db")
        start = now_ms() - 60_000
        result["ingest_plain_s"] = write(plain, [cart(f"v{i}", start) for i in range(carts)])
        plain.close()

        store = store_at(base / "triggers.db")
        service = Triggers(store, policy, "http://127.0.0.1:8000")
        service.start()
        try:
            add_rule(store, receiver.url, "event", event=Condition(type="track", name="lag"))
            event_lags = lags(receiver, firings, lambda n: store.write_sync(WriteBatch(
                site_id=SITE, received_at=now_ms(), events=[track(f"e{n}", "lag")])))
            result["event_lag_ms"] = statistics.median(event_lags)
            result["event_lag_max_ms"] = max(event_lags)

            # Absence lag with no carts waiting (a short delay: the lag is measured from its end).
            add_rule(store, receiver.url, "absence", event=Condition(type="cart", name="add", page="/lag"),
                     absent=Condition(type="purchase"), delay_s=1)
            empty = absence_lags(store, receiver, firings)
            result["absence_lag_ms"] = statistics.median(empty)
            result["absence_lag_max_ms"] = max(empty)

            # N open carts, each a pending check due in a day (the abandoned-cart rule at 30 min
            # would do the same within the run); then the 1 s rule's lag again.
            add_rule(store, receiver.url, "absence", event=Condition(type="cart", name="add", page="/p/*"),
                     absent=Condition(type="purchase"), delay_s=86_400)
            result["ingest_rules_s"] = write(store, [cart(f"o{i}", now_ms()) for i in range(carts)])
            loaded = absence_lags(store, receiver, firings)
            result["absence_lag_loaded_ms"] = statistics.median(loaded)
            result["absence_lag_loaded_max_ms"] = max(loaded)
            with store.read() as conn:
                (result["open_checks"],) = conn.execute("SELECT count(*) FROM trigger_checks").fetchone()

            # A wave: N/5 carts, each followed by its purchase, come due at once; every check
            # looks the visitor's purchase up (by index) and is dropped, in batches of one commit.
            wave = carts // 5
            wave_rule = add_rule(store, receiver.url, "absence", event=Condition(type="cart", page="/wave"),
                                 absent=Condition(type="purchase"), delay_s=2)
            ts = now_ms()
            rows = []
            for i in range(wave):
                rows.append(cart(f"w{i}", ts, "/wave"))
                rows.append(EventRow(id=str(uuid.uuid4()), type="purchase", ts=ts + 1, client_ts=ts + 1,
                                     anon_id=f"w{i}", user_id=None, session_id=f"s-w{i}", url=None, path=None,
                                     route=None, name=f"o{i}", data=b'{"value":10.0}'))
            write(store, rows)

            def left() -> int:
                with store.read() as conn:
                    return int(conn.execute("SELECT count(*) FROM trigger_checks WHERE rule_id = ?",
                                            (wave_rule,)).fetchone()[0])

            wait_for(lambda: left() == 0, "the wave settled", limit=3600)
            result["wave_checks"] = wave
            result["wave_settled_s"] = (now_ms() - (ts + 2000)) / 1000
            started = time.perf_counter()
            for _ in range(100):
                store.triggers_next_due()
            result["next_due_ms"] = (time.perf_counter() - started) * 10
        finally:
            service.stop()
            store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k carts, 5 firings per lag")
    parser.add_argument("--carts", type=int, default=None)
    args = parser.parse_args()
    carts = args.carts or (20_000 if args.quick else 100_000)
    firings = 5 if args.quick else 10
    r = run(carts, firings)
    for key, value in r.items():
        print(f"{key:>28}: {value:,.2f}")
    ingest_ratio = r["ingest_rules_s"] / r["ingest_plain_s"]
    lag_ratio = r["absence_lag_loaded_ms"] / max(r["absence_lag_ms"], 1.0)
    print(
        f"RESULT triggers: event lag median {r['event_lag_ms']:.0f} ms (max {r['event_lag_max_ms']:.0f}); "
        f"absence lag median {r['absence_lag_ms']:.0f} ms, with {int(r['open_checks']):,} open carts "
        f"{r['absence_lag_loaded_ms']:.0f} ms ({lag_ratio:.2f}x); ingest of {carts:,} cart adds with the rules "
        f"{ingest_ratio:.2f}x the time without; next due time read in {r['next_due_ms']:.2f} ms; "
        f"{int(r['wave_checks']):,} checks due at once settled {r['wave_settled_s']:.1f} s after their due time"
    )


if __name__ == "__main__":
    main()
