"""Fuzz the ingest endpoints with >= 100,000 hostile and well-formed requests, in process (direct ASGI calls).

Every case must be answered below 500, without an exception escaping the app and within 10 s;
every well-formed event must end up stored exactly once. Prints `RESULT fuzz: ...`.

    .venv/bin/python bench/fuzz.py [--cases 100000] [--seed 1] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collector import asgi  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.store import SQLiteStore  # noqa: E402

KEY = "wk_fuzz"
HOSTILE = [
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
    "' OR 1=1 --", "'; DROP TABLE events; --", "\x00", "\u202e", "../../etc/passwd", "%00",
    "A" * 5000, "{{7*7}}", "\\", "\"", "", " ",
]
ODD_VALUES: list[Any] = [
    None, True, -1, 0, 2**63, -(2**63) - 1, 1e308, -0.0, 1.5, "", "x" * 70, [], {}, [1, [2]],
    {"a": {"b": None}}, "2026-01-01",
]
# Values each field refuses (contract limits in collector/wire.py).
INVALID: dict[str, list[Any]] = {
    "id": [None, "", "x" * 70, 5], "ts": [None, -1, "now", 2**70], "type": ["nope", None, 3],
    "vw": ["wide", 1.5, -(10**9)], "url": [5, [], "u" * 3000],
}
TYPES = ["pageview", "click", "scroll", "page_leave", "cart", "checkout", "purchase", "identify",
         "track", "survey", "error", "vital"]


class Gen:
    """Seeded case generator: well-formed events, their mutations, raw bytes and odd headers."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.now = int(time.time() * 1000)

    def text(self) -> str:
        r = self.r
        if r.random() < 0.4:
            return r.choice(HOSTILE)
        return "".join(chr(r.choice([r.randint(32, 126), r.randint(0, 0x2FFF)]))
                       for _ in range(r.randint(0, 30)))

    def valid_event(self) -> dict[str, Any]:
        r = self.r
        kind = r.choice(TYPES)
        event: dict[str, Any] = {
            "type": kind, "id": str(uuid.UUID(int=r.getrandbits(128))),
            "ts": self.now - r.randint(0, 3 * 86_400_000), "anon_id": f"a{r.randint(0, 999)}",
        }
        if r.random() < 0.7:
            event["session_id"] = f"s{r.randint(0, 999)}"
        if r.random() < 0.5:
            event["url"] = "https://shop.example/" + self.text()[:100]
        if r.random() < 0.3:
            event["title"] = self.text()[:200]
        item = {"sku": self.text()[:50], "price": r.uniform(0, 500), "qty": r.randint(1, 5)}
        extra: dict[str, Any] = {
            "click": {"x": r.randint(0, 3000), "y": r.randint(0, 9000), "sel": self.text()[:300],
                      "text": self.text()[:100], "rage": r.random() < 0.1},
            "scroll": {"depth": r.uniform(0, 100)},
            "page_leave": {"engaged_ms": r.randint(0, 10**6)},
            "cart": {"action": r.choice(["add", "remove"]), "item": item},
            "checkout": {"items": [item], "value": 10.0, "currency": "EUR"},
            "purchase": {"order_id": f"o{r.getrandbits(40)}", "value": r.uniform(0, 1000)},
            "identify": {"user_id": f"u{r.randint(0, 999)}", "traits": {"plan": self.text()[:50]}},
            "track": {"name": self.text()[:200], "props": {self.text()[:20]: self.text()[:50]}},
            "survey": {"kind": "nps", "score": r.randint(0, 10), "comment": self.text()[:500]},
            "error": {"message": self.text()[:500] or "x"},
            "vital": {"name": r.choice(["LCP", "CLS", "INP", "FCP", "TTFB"]), "value": r.uniform(0, 5000)},
        }.get(kind, {})
        event.update(extra)
        return event

    def broken_event(self) -> Any:
        r = self.r
        event = self.valid_event()
        how = r.randint(0, 3)
        if how == 0:
            return r.choice(ODD_VALUES)
        if how == 1:
            event["unexpected_" + str(r.randint(0, 9))] = r.choice(ODD_VALUES)
            return event
        if how == 2:
            field = r.choice(list(INVALID))
            event[field] = r.choice(INVALID[field])
            return event
        event["type"] = "survey"
        event["kind"], event["score"] = "ces", 9
        return event

    def batch(self) -> tuple[bytes, dict[str, Any]]:
        """A mixed batch and what must come of it."""
        r = self.r
        events, good = [], []
        for _ in range(r.randint(1, 12)):
            if r.random() < 0.6:
                event = self.valid_event()
                good.append(event["id"])
            else:
                event = self.broken_event()
            events.append(event)
        body = json.dumps({"key": KEY, "sent_at": self.now, "events": events}).encode()
        return body, {"good": good, "bad": len(events) - len(good)}

    def mutate(self, data: bytes) -> bytes:
        r = self.r
        buf = bytearray(data)
        for _ in range(r.randint(1, 8)):
            op = r.randint(0, 4)
            pos = r.randint(0, max(0, len(buf) - 1))
            if op == 0 and buf:
                buf[pos] ^= 1 << r.randint(0, 7)
            elif op == 1:
                del buf[pos:pos + r.randint(1, 20)]
            elif op == 2:
                buf[pos:pos] = bytes(r.getrandbits(8) for _ in range(r.randint(1, 10)))
            elif op == 3:
                buf[pos:pos] = r.choice([b'"', b"{", b"[", b"]", b"}", b",", b"\\u0000", b"1e999",
                                         b"-", b"null", b"\xff\xfe"])
            else:
                buf = buf[:pos]
        return bytes(buf)


class Case:
    __slots__ = ("method", "path", "query", "headers", "body", "expect")

    def __init__(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                 query: str = "", expect: dict[str, Any] | None = None) -> None:
        self.method, self.path, self.body, self.query = method, path, body, query
        self.headers = headers or {"content-type": "application/json"}
        self.expect = expect


def make_case(gen: Gen) -> Case:
    r = gen.r
    kind = r.random()
    if kind < 0.35:
        body, expect = gen.batch()
        if r.random() < 0.3:
            return Case("POST", "/v1/batch", gzip.compress(body),
                        {"content-type": "text/plain", "content-encoding": "gzip"}, expect=expect)
        return Case("POST", "/v1/batch", body, expect=expect)
    if kind < 0.65:
        body, _ = gen.batch()
        return Case("POST", r.choice(["/v1/batch", "/v1/replay"]), gen.mutate(body))
    if kind < 0.75:
        headers = {"content-type": r.choice(["application/json", "text/plain", "text/html", "", "\x00"]),
                   "content-encoding": r.choice(["gzip", "identity", "br", "GZIP", ""])}
        body = bytes(r.getrandbits(8) for _ in range(r.randint(0, 300)))
        if headers["content-encoding"].lower() == "gzip" and r.random() < 0.5:
            body = gzip.compress(body)[: r.randint(0, 400)]
        return Case("POST", r.choice(["/v1/batch", "/v1/replay"]), body, headers)
    if kind < 0.88:
        chunk: dict[str, Any] = {
            "key": KEY, "session_id": str(uuid.UUID(int=r.getrandbits(128))), "seq": r.randint(-2, 50),
            "events": [{"type": r.randint(0, 6), "timestamp": gen.now, "data": {"x": gen.text()}}
                       for _ in range(r.randint(0, 4))],
        }
        if r.random() < 0.5:
            chunk[r.choice(["key", "session_id", "seq", "events"])] = r.choice(ODD_VALUES)
        body = json.dumps(chunk).encode()
        return Case("POST", "/v1/replay", gen.mutate(body) if r.random() < 0.3 else body)
    params = {"k": r.choice([KEY, gen.text()]), "u": gen.text(), "r": gen.text()}
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    if r.random() < 0.2:
        query = gen.mutate(query.encode()).decode("latin-1")
    return Case("GET", "/v1/p.gif", query=query)


async def call(app: Any, case: Case) -> tuple[int, bytes]:
    headers = [(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in case.headers.items()]
    return await asgi.call(app, case.method, case.path, headers=headers, body=case.body,
                           query=case.query.encode("latin-1", "replace"), client=("203.0.113.9", 5555))


async def run(cases: int, seed: int, concurrency: int, db: Path) -> dict[str, Any]:
    store = SQLiteStore(db, synchronous="NORMAL")
    store.add_site("fuzz", "Fuzz", key=KEY)
    app = create_app(Settings(db=db, admin_token="x" * 24, rate_limit=0.0, synchronous="NORMAL"), store)
    store.start()
    gen = Gen(seed)
    statuses: Counter[int] = Counter()
    crashes: list[str] = []
    hangs = 0
    wrong: list[str] = []
    good_ids: set[str] = set()
    latencies: list[float] = []
    kinds: Counter[str] = Counter()

    async def one(case: Case) -> None:
        nonlocal hangs
        started = time.perf_counter()
        try:
            status, body = await asyncio.wait_for(call(app, case), timeout=10)
        except TimeoutError:
            hangs += 1
            return
        except Exception as exc:  # noqa: BLE001 - an escaped exception is the finding
            crashes.append(f"{case.path}: {exc!r}"[:300])
            return
        latencies.append(time.perf_counter() - started)
        statuses[status] += 1
        if case.expect is not None:
            reply = json.loads(body) if status == 200 else {}
            if status != 200 or reply.get("accepted") != len(case.expect["good"]) \
                    or len(reply.get("rejected", ())) != case.expect["bad"]:
                wrong.append(f"{status} {body[:200]!r} expected {len(case.expect['good'])} good")
            good_ids.update(case.expect["good"])

    started = time.perf_counter()
    done = 0
    while done < cases:
        wave = [make_case(gen) for _ in range(min(concurrency, cases - done))]
        for case in wave:
            kinds[case.path + (" (well-formed batch)" if case.expect else "")] += 1
        await asyncio.gather(*(one(c) for c in wave))
        done += len(wave)
    elapsed = time.perf_counter() - started
    store.close()

    conn = sqlite3.connect(db)
    stored = dict(conn.execute(
        "SELECT id, count(*) FROM events WHERE site_id = 'fuzz' GROUP BY id"
    ).fetchall())
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    conn.close()
    missing = [i for i in good_ids if stored.get(i) != 1]
    latencies.sort()
    return {
        "cases": done, "seconds": elapsed, "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500), "crashes": crashes,
        "hangs": hangs, "wrong_answers": wrong, "good_events": len(good_ids),
        "not_stored_exactly_once": len(missing), "kinds": dict(kinds), "tables": tables,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0.0,
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="10,000 cases")
    args = parser.parse_args()
    cases = 10_000 if args.quick else args.cases
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(cases, args.seed, args.concurrency, Path(tmp) / "fuzz.db"))
    for kind, n in sorted(result["kinds"].items()):
        print(f"  {n:7d}  {kind}")
    print(f"statuses: {result['statuses']}")
    for line in result["crashes"][:5] + result["wrong_answers"][:5]:
        print("  FINDING:", line)
    ok = (result["server_errors"] == 0 and not result["crashes"] and not result["hangs"]
          and not result["wrong_answers"] and result["not_stored_exactly_once"] == 0)
    print(
        f"RESULT fuzz: cases={result['cases']} 5xx={result['server_errors']} "
        f"crashes={len(result['crashes'])} hangs={result['hangs']} wrong={len(result['wrong_answers'])} "
        f"good_events={result['good_events']} not_exactly_once={result['not_stored_exactly_once']} "
        f"rate={result['cases'] / result['seconds']:.0f}/s p99={result['p99_ms']:.1f}ms "
        f"max={result['max_ms']:.1f}ms {'OK' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
