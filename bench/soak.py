"""Bounded soak: measure the collector's capacity, then hold ~70% of it and watch memory and p99 latency.

Runs a real `trailmark serve` on 127.0.0.1; clients are threads in this process. Per interval it prints
the server's RSS, the request p99 and errors. RSS grows while SQLite's page caches warm up (64 MiB per
connection at most), so flatness is judged over the second half: last interval against the middle one.

    .venv/bin/python bench/soak.py [--minutes 2] [--load 0.7] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.crash import KEY, TRAILMARK, Collector, free_port  # noqa: E402

BATCH = 10  # events per request, a browser-sized batch


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def body(client: str) -> dict[str, object]:
    now = int(time.time() * 1000)
    return {"key": KEY, "sent_at": now, "events": [
        {"type": "click", "id": str(uuid.uuid4()), "ts": now, "anon_id": client, "session_id": f"{client}-s",
         "url": "https://shop.example/p/1", "sel": "#buy", "x": 10, "y": 20} for _ in range(BATCH)
    ]}


class Load:
    """Threads that send requests, closed loop (as fast as answered) or paced to a total rate."""

    def __init__(self, url: str, threads: int, rate: float | None) -> None:
        self.url, self.threads, self.rate = url, threads, rate
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def take(self) -> tuple[list[float], dict[str, int]]:
        with self.lock:
            taken, self.latencies = self.latencies, []
            errors, self.errors = self.errors, {}
        return taken, errors

    def worker(self, n: int) -> None:
        name = f"soak{n}"
        gap = self.threads / self.rate if self.rate else 0.0
        next_at = time.perf_counter() + gap * n / self.threads
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                if gap:
                    pause = next_at - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    next_at += gap
                started = time.perf_counter()
                try:
                    status = http.post("/v1/batch", json=body(name)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__  # type: ignore[assignment]
                took = time.perf_counter() - started
                with self.lock:
                    if status == 200:
                        self.latencies.append(took)
                    else:
                        self.errors[str(status)] = self.errors.get(str(status), 0) + 1

    def __enter__(self) -> Load:
        self.pool = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.threads)]
        for t in self.pool:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.pool:
            t.join()


def p99(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] * 1000 if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--load", type=float, default=0.7, help="fraction of measured capacity")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds per reported interval")
    parser.add_argument("--quick", action="store_true", help="30 s soak")
    args = parser.parse_args()
    minutes = 0.5 if args.quick else args.minutes
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "soak.db"
        subprocess.run([TRAILMARK, "sites", "add", "soak", "--key", KEY, "--db", str(db)],
                       check=True, capture_output=True)
        collector = Collector(db, free_port())
        collector.start()
        try:
            assert collector.proc is not None
            pid = collector.proc.pid
            with Load(collector.url, args.threads, None) as probe:
                time.sleep(3)  # warm up
                probe.take()
                time.sleep(8)
                done, _ = probe.take()
            capacity = len(done) / 8
            rate = capacity * args.load
            print(f"capacity: {capacity:.0f} requests/s ({capacity * BATCH:.0f} events/s) closed loop, "
                  f"{args.threads} clients; soaking at {rate:.0f} requests/s for {minutes:g} min")
            rows = []
            with Load(collector.url, args.threads, rate) as load:
                end = time.monotonic() + minutes * 60
                while time.monotonic() < end:
                    time.sleep(min(args.interval, max(0.1, end - time.monotonic())))
                    latencies, errors = load.take()
                    row = (rss_mb(pid), p99(latencies), len(latencies) / args.interval, errors)
                    rows.append(row)
                    print(f"  t={len(rows) * args.interval:5.0f}s rss={row[0]:6.1f}MB p99={row[1]:6.1f}ms "
                          f"rate={row[2]:6.0f}/s errors={errors or 0}")
        finally:
            collector.stop()
    first, middle, last = rows[0], rows[len(rows) // 2], rows[-1]
    errors = sum(sum(r[3].values()) for r in rows)
    p99s = [r[1] for r in rows]
    print(
        f"RESULT soak: capacity={capacity:.0f}req/s load={rate:.0f}req/s ({args.load:.0%}) "
        f"minutes={minutes:g} rss_first={first[0]:.1f}MB rss_last={last[0]:.1f}MB "
        f"rss_second_half_ratio={last[0] / middle[0]:.2f} p99_first={first[1]:.1f}ms p99_last={last[1]:.1f}ms "
        f"p99_max={max(p99s):.1f}ms p99_ratio={last[1] / max(first[1], 1e-9):.2f} errors={errors}"
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
