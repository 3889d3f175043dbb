"""Python SDK: caller-side cost of one track() and delivered events/s, against posthog and segment.

Everything stays on this machine. trailmark posts to a real collector (`trailmark serve`, rate
limit off) and, for a like-for-like delivery figure, to a local sink; posthog-python and
segment-analytics-python post to the same sink, a bare ASGI app under uvicorn in its own
process that counts the events of each batch and answers 200. All three SDKs run with the
same batching (100 events or 0.5 s), gzip on, feature flags and remote config off.

Usage: .venv/bin/python bench/sdk_python.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sdk_python"))  # this checkout's SDK, installed or not
TRAILMARK_CLI = Path(sys.executable).parent / "trailmark"
KEY = "wk_bench"

SINK = textwrap.dedent(
    """
    import gzip, json, sys, uvicorn
    count = 0
    async def app(scope, receive, send):
        global count
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "POST":
            headers = dict(scope["headers"])
            if headers.get(b"content-encoding") == b"gzip" or body[:2] == b"\\x1f\\x8b":
                body = gzip.decompress(body)
            data = json.loads(body)
            n = len(data.get("batch") or data.get("events") or [])
            count += n
            answer = {"status": 1, "accepted": n, "rejected": []}
        else:
            answer = {"count": count}
        payload = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], budget: float = 30.0) -> None:
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up in {budget}s")


def sink_count(url: str) -> int:
    with urllib.request.urlopen(url + "/count", timeout=5) as response:
        return int(json.load(response)["count"])


class Subject:
    """One SDK under test: how to make a client, call track, flush and close it."""

    def __init__(
        self, name: str, make: Callable[[], Any], call: Callable[[Any, int], Any],
        counter: Callable[[], int],
    ) -> None:
        self.name = name
        self.client = make()
        self.call = call
        self.counter = counter
        self.sent = 0

    def calls(self, n: int) -> float:
        """ns per track() over n calls, then drain the queue (not timed)."""
        client, call = self.client, self.call
        start = time.perf_counter_ns()
        for i in range(n):
            call(client, i)
        elapsed = time.perf_counter_ns() - start
        self.client.flush()
        self.sent += n
        return elapsed / n

    def delivery(self, n: int) -> float:
        """Events/s from the first call to the end of flush()."""
        client, call = self.client, self.call
        start = time.perf_counter()
        for i in range(n):
            call(client, i)
        client.flush()
        self.sent += n
        return n / (time.perf_counter() - start)


def subjects(sink: str, collector: str) -> list[Subject]:
    import posthog
    import trailmark
    from segment.analytics import Client as SegmentClient

    props = {"plan": "pro", "source": "bench"}

    def trailmark_call(client: Any, i: int) -> None:
        client.track("user_42", "signup", {**props, "i": i})

    def posthog_call(client: Any, i: int) -> None:
        client.capture("signup", distinct_id="user_42", properties={**props, "i": i})

    def segment_call(client: Any, i: int) -> None:
        client.track("user_42", "signup", {**props, "i": i})

    def collector_rows() -> int:
        return -1  # counted once at the end, from the SQLite file

    return [
        Subject("trailmark", lambda: trailmark.Client(KEY, sink), trailmark_call,
                lambda: sink_count(sink)),
        Subject(
            "posthog",
            lambda: posthog.Posthog(
                "phc_bench", host=sink, flush_at=100, flush_interval=0.5, gzip=True,
                max_queue_size=10_000, disable_geoip=True, personal_api_key=None,
                enable_local_evaluation=False,
            ),
            posthog_call,
            lambda: sink_count(sink),
        ),
        Subject(
            "segment",
            lambda: SegmentClient(KEY, host=sink, upload_size=100, upload_interval=0.5,
                                  gzip=True, max_queue_size=10_000),
            segment_call,
            lambda: sink_count(sink),
        ),
        Subject("trailmark->collector", lambda: trailmark.Client(KEY, collector),
                trailmark_call, collector_rows),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller budget (a few seconds)")
    args = parser.parse_args()
    rounds, calls, batch = (3, 2_000, 3_000) if args.quick else (7, 5_000, 9_000)
    logging.basicConfig(level=logging.ERROR)

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        env = {**os.environ, "TRAILMARK_RATE_LIMIT": "0", "TRAILMARK_DB": str(db)}
        subprocess.run([str(TRAILMARK_CLI), "sites", "add", "bench", "--key", KEY],
                       env=env, check=True, capture_output=True)
        sink_port, collector_port = free_port(), free_port()
        sink_proc = subprocess.Popen([sys.executable, "-c", SINK, str(sink_port)])
        collector_proc = subprocess.Popen(
            [str(TRAILMARK_CLI), "serve", "--port", str(collector_port), "--db", str(db)],
            env=env, stdout=subprocess.DEVNULL,
        )
        try:
            sink = f"http://127.0.0.1:{sink_port}"
            collector = f"http://127.0.0.1:{collector_port}"
            wait_http(sink + "/count", sink_proc)
            wait_http(collector + "/healthz", collector_proc)
            report(subjects(sink, collector), rounds, calls, batch, db)
        finally:
            for proc in (sink_proc, collector_proc):
                proc.terminate()
                proc.wait(timeout=30)


def report(
    sdks: list[Subject], rounds: int, calls: int, batch: int, db: Path
) -> None:
    for sdk in sdks:  # warm-up: connections, threads, caches
        sdk.calls(200)
    cost: dict[str, list[float]] = {s.name: [] for s in sdks}
    rate: dict[str, list[float]] = {s.name: [] for s in sdks}
    for r in range(rounds):
        # Rotated order, so that no SDK always runs first or last in a round.
        for sdk in sdks[r % len(sdks):] + sdks[: r % len(sdks)]:
            cost[sdk.name].append(sdk.calls(calls))
            rate[sdk.name].append(sdk.delivery(batch))
    for sdk in sdks:
        sdk.client.shutdown()

    import sqlite3

    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.close()
    sink_total = sdks[0].counter()
    expected_sink = sum(s.sent for s in sdks if s.name != "trailmark->collector")
    collector_sent = next(s.sent for s in sdks if s.name == "trailmark->collector")

    print(f"{rounds} rounds; track cost over {calls} calls, delivery of {batch} events per round")
    print(f"{'sdk':<22}{'ns/track (median)':>20}{'events/s (median)':>20}")
    med_cost = {name: statistics.median(v) for name, v in cost.items()}
    med_rate = {name: statistics.median(v) for name, v in rate.items()}
    for name in cost:
        print(f"{name:<22}{med_cost[name]:>20,.0f}{med_rate[name]:>20,.0f}")
    print(f"delivered: sink {sink_total}/{expected_sink}, collector rows {stored}/{collector_sent}")
    ours = med_cost["trailmark"]
    ratios = {
        "posthog": med_cost["posthog"] / ours,
        "segment": med_cost["segment"] / ours,
    }
    rate_ratios = {
        "posthog": med_rate["trailmark"] / med_rate["posthog"],
        "segment": med_rate["trailmark"] / med_rate["segment"],
    }
    print(f"caller cost: posthog/trailmark = {ratios['posthog']:.1f}x, "
          f"segment/trailmark = {ratios['segment']:.1f}x")
    print(f"delivery rate: trailmark/posthog = {rate_ratios['posthog']:.2f}x, "
          f"trailmark/segment = {rate_ratios['segment']:.2f}x (same sink)")
    ok = sink_total == expected_sink and stored == collector_sent
    print(
        f"RESULT sdk_python: track {ours:,.0f} ns/call (posthog {ratios['posthog']:.1f}x, "
        f"segment {ratios['segment']:.1f}x slower); delivered {med_rate['trailmark']:,.0f} ev/s "
        f"to sink ({rate_ratios['posthog']:.2f}x posthog, {rate_ratios['segment']:.2f}x segment), "
        f"{med_rate['trailmark->collector']:,.0f} ev/s to the collector; "
        f"all delivered: {'yes' if ok else 'NO'}"
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
