"""Per-event cost of enrichment against the same ingest path without it, measured in the same run.

Usage: .venv/bin/python bench/enrich.py [--quick]

Both paths run the real collector ASGI app in process (body read, msgspec decode, validation,
to_row, group commit into a real SQLite file, JSON answer); the baseline swaps the Enricher for
the no-op seam the collector had before enrichment. Requests come from a pool of repeat visitors
(real user agents from tests/data/user_agents.json, addresses behind a trusted proxy, geo from a
City .mmdb built with mmdb-writer), 5 events each, 16 in flight. Rounds alternate A/B on fresh
database files so that drift hits both sides; the figure is the median over rounds of process CPU
time per event (event loop plus writer thread), which other load on the machine disturbs far less
than wall time (printed too). SQLite runs with synchronous=NORMAL: a cheaper commit makes
enrichment's share look larger, not smaller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from starlette.requests import Request  # noqa: E402

from collector import wire  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.enrich import parse_device  # noqa: E402
from collector.ingest.pipeline import Facts, to_row  # noqa: E402
from collector.store import SQLiteStore  # noqa: E402
from collector.store.model import Context  # noqa: E402
from tests.support.geo_fixture import build_city_mmdb  # noqa: E402

KEY = "wk_bench"
PROXY = "10.0.0.1"
EVENTS_PER_REQUEST = 5
IN_FLIGHT = 16
TARGET = 0.20


class NoEnrichment:
    """The pipeline without enrichment: peer address, empty context, no URL scrubbing or routes."""

    def client(self, peer: str | None, headers: Any) -> tuple[str, bool]:
        return peer or "0.0.0.0", False

    def facts(self, ip: str, user_agent: str, site: Any, received_at: int, sent_at: int | None) -> Facts:
        return Facts(site_id=site.id, received_at=received_at, sent_at=sent_at, context=Context())

    def row(self, event: Any, facts: Facts, site: Any) -> Any:
        return to_row(event, facts)

    def sensitive_names(self, site: Any) -> frozenset[str]:
        return frozenset()

    def close(self) -> None:
        pass


def visitors(count: int, rng: random.Random) -> list[tuple[str, str, str | None]]:
    """(ip, user agent, anon_id or None for cookieless) per repeat visitor."""
    corpus = json.loads((ROOT / "tests" / "data" / "user_agents.json").read_text())
    agents = [c["ua"] for c in corpus if c["device"] in ("desktop", "mobile", "tablet")]
    prefixes = ["81.2.69.", "85.214.3.", "2400:4050::", "8.8.4."]
    pool = []
    for i in range(count):
        prefix = prefixes[i % len(prefixes)]
        ip = f"{prefix}{i % 250 + 1}" if "." in prefix else f"{prefix}{i:x}"
        anon = None if i % 2 else f"anon-{i}"
        pool.append((ip, rng.choice(agents), anon))
    return pool


def body(visitor: tuple[str, str, str | None], now: int, rng: random.Random) -> bytes:
    ip, ua, anon = visitor
    product = rng.randint(1, 5000)
    url = f"https://shop.example/product/{product}?utm_source=google&utm_medium=cpc&token=t{product}"
    common: dict[str, Any] = {"session_id": f"s-{ip}", "url": url, "vw": 1280, "vh": 800}
    if anon:
        common["anon_id"] = anon
    events = [
        {"id": str(uuid.uuid4()), "type": "pageview", "ts": now - 4000,
         "referrer": "https://www.google.com/search?q=shoes", "title": "Product", **common},
        *({"id": str(uuid.uuid4()), "type": "click", "ts": now - 3000 + i, "x": 10 * i, "y": 20,
           "sel": "button.buy", "tag": "button", **common} for i in range(3)),
        {"id": str(uuid.uuid4()), "type": "scroll", "ts": now - 1000, "depth": 80, "dh": 3000,
         **common},
    ]  # fmt: skip
    return json.dumps({"key": KEY, "sent_at": now, "events": events}).encode()


async def post(app: Any, payload: bytes, ip: str, ua: str) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/batch", "raw_path": b"/v1/batch", "query_string": b"",
        "root_path": "", "client": (PROXY, 40000), "server": ("127.0.0.1", 8000),
        "headers": [
            (b"content-type", b"text/plain"), (b"content-length", str(len(payload)).encode()),
            (b"user-agent", ua.encode()), (b"x-forwarded-for", ip.encode()),
        ],
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


class Path_:
    """One collector app (and its SQLite file) kept running across rounds, as a server would."""

    def __init__(self, enriched: bool, db: Path, mmdb: Path) -> None:
        settings = Settings(
            db=db, admin_token="x", rate_limit=0.0, trusted_proxies=("10.0.0.0/8",), geoip=mmdb,
            synchronous="NORMAL",
        )  # fmt: skip
        self.store = SQLiteStore(db, synchronous="NORMAL")
        self.store.add_site("bench", "Bench", key=KEY)
        self.app = create_app(settings, self.store)
        if not enriched:
            self.app.state.pipeline.close()
            self.app.state.pipeline = NoEnrichment()
        self.store.start()

    async def run(self, work: list[tuple[bytes, str, str]]) -> tuple[float, float]:
        """(CPU seconds, wall seconds) to ingest `work`, every write acknowledged after commit."""
        queue = list(reversed(work))

        async def worker() -> None:
            while queue:
                payload, ip, ua = queue.pop()
                status = await post(self.app, payload, ip, ua)
                assert status == 200, status

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return time.process_time() - cpu, time.perf_counter() - wall

    def close(self) -> None:
        self.store.close()
        self.app.state.pipeline.close()


async def measure(
    tmp: Path,
    mmdb: Path,
    pool: list[tuple[str, str, str | None]],
    rounds: int,
    requests: int,
    rng: random.Random,
    cpu_us: dict[bool, list[float]],
    wall_us: dict[bool, list[float]],
    calls_us: list[float],
) -> None:
    paths = {enriched: Path_(enriched, tmp / f"{enriched}.db", mmdb) for enriched in (False, True)}
    try:
        # Round 0 warms both servers (imports, caches, first salt) and is not counted.
        for index in range(rounds + 1):
            for enriched in (False, True) if index % 2 == 0 else (True, False):
                now = int(time.time() * 1000)
                work = []
                for i in range(requests):
                    visitor = pool[i % len(pool)]
                    work.append((body(visitor, now, rng), visitor[0], visitor[1]))
                cpu, wall = await paths[enriched].run(work)
                if index == 0:
                    continue
                if enriched:
                    calls_us.append(enricher_cost(paths[True], work))
                events = requests * EVENTS_PER_REQUEST
                cpu_us[enriched].append(cpu / events * 1e6)
                wall_us[enriched].append(wall / events * 1e6)
                print(
                    f"round {index:2}/{rounds} enrichment {'on ' if enriched else 'off'}: "
                    f"{cpu_us[enriched][-1]:6.1f} us CPU/event, {wall_us[enriched][-1]:6.1f} us wall"
                )
    finally:
        for path in paths.values():
            path.close()


def enricher_cost(path: Path_, work: list[tuple[bytes, str, str]]) -> float:
    """CPU us per event of the Enricher's calls alone, replaying `work` with warm caches: decoded
    events through to_row with and without client_ip/facts/row, the difference per event."""
    pipeline = path.app.state.pipeline
    site = path.store.site_for_key(KEY)
    assert site is not None
    prepared = []
    for payload, ip, ua in work:
        envelope = wire.envelope_decoder.decode(payload)
        events = [wire.event_decoder.decode(raw) for raw in envelope.events]
        scope = {"type": "http", "client": (PROXY, 40000), "headers": [
            (b"user-agent", ua.encode()), (b"x-forwarded-for", ip.encode())]}  # fmt: skip
        prepared.append((scope, events, envelope.sent_at))

    def plain() -> None:
        for scope, events, sent_at in prepared:
            Request(scope)  # the app builds one per request either way
            facts = Facts(site_id=site.id, received_at=sent_at, sent_at=sent_at)
            for event in events:
                to_row(event, facts)

    def enriched() -> None:
        for scope, events, sent_at in prepared:
            request = Request(scope)
            ip, _ = pipeline.client(PROXY, request.headers)
            facts = pipeline.facts(ip, request.headers.get("user-agent", ""), site, sent_at, sent_at)
            for event in events:
                pipeline.row(event, facts, site)

    times = {}
    for run in (plain, enriched, plain, enriched):
        start = time.process_time()
        run()
        times[run] = min(times.get(run, 1e9), time.process_time() - start)
    return (times[enriched] - times[plain]) / (len(work) * EVENTS_PER_REQUEST) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budget")
    args = parser.parse_args()
    rounds, requests, pool_size = (6, 300, 100) if args.quick else (12, 1000, 400)
    rng = random.Random(7)
    pool = visitors(pool_size, rng)
    cpu_us: dict[bool, list[float]] = {False: [], True: []}
    wall_us: dict[bool, list[float]] = {False: [], True: []}
    calls_us: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        mmdb = build_city_mmdb(tmp / "city.mmdb")
        asyncio.run(measure(tmp, mmdb, pool, rounds, requests, rng, cpu_us, wall_us, calls_us))
    base, with_ = statistics.median(cpu_us[False]), statistics.median(cpu_us[True])
    wall_base, wall_with = statistics.median(wall_us[False]), statistics.median(wall_us[True])
    overhead = with_ / base - 1
    cache = parse_device.cache_info()
    print(
        f"median wall per event: without {wall_base:.1f} us, with {wall_with:.1f} us "
        f"({(wall_with / wall_base - 1) * 100:+.1f}%); UA cache hits {cache.hits} misses {cache.misses}"
    )
    calls = statistics.median(calls_us)
    print(
        f"the Enricher's calls alone (replayed, warm caches): {calls:.1f} us CPU/event; the rest of "
        "the difference is storing richer rows (device/geo/acquisition columns, derived anon ids)"
    )
    verdict = "ok" if overhead <= TARGET else "over target"
    print(
        f"RESULT enrich: {overhead * 100:+.1f}% ingest CPU per event "
        f"({base:.1f} -> {with_:.1f} us/event, enricher calls {calls:.1f} us/event, "
        f"median of {rounds} rounds, {pool_size} repeat visitors, "
        f"{EVENTS_PER_REQUEST} events/request; target <= +{TARGET * 100:.0f}%: {verdict})"
    )


if __name__ == "__main__":
    main()
