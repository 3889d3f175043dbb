"""Ingest throughput: the collector against a bare Starlette endpoint, same load, same run.

wrk (Debian package) sends 50-event batches with unique event ids from concurrent connections
to four servers, each one process of the HTTP server `trailmark serve` runs (collector/server.py)
with the same settings, in alternating rounds:

- bare: a Starlette endpoint that reads the body and answers 204 (the target's baseline);
- validate only: reads the body and validates every event with the collector's msgspec schema,
  then answers, storing nothing: the ceiling of any collector that validates before answering;
- commit per request: `trailmark serve` with group commit off (one transaction per request),
  the naive design, for comparison;
- collector: `trailmark serve` as shipped, on a fresh SQLite file; its stored row count is
  checked against the events it acknowledged;
- collector chdb: `trailmark serve --store chdb://DIR`, the same on ClickHouse in the process
  (the `clickhouse` extra); its stored count is checked the same way.

Then the floor of any chdb group: the two fsynced inserts every group makes (its events, its
session rows), timed alone in this process on a fresh store. A request waits for at least one
group and a group holds at most one request per connection, so connections / floor bounds the
chdb collector's requests per second whatever else it does.

    .venv/bin/python bench/ingest.py [--seconds 10] [--connections 32] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
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
BIN = Path(sys.executable).parent
KEY = "wk_bench"

BARE_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def batch(request):
        await request.body()
        return Response(status_code=204)

    app = Starlette(routes=[Route("/v1/batch", batch, methods=["POST"])])
    """
)

# What every collector must do before it may answer: decode the batch, validate each event.
VALIDATE_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from collector import wire

    async def batch(request):
        envelope = wire.envelope_decoder.decode(await request.body())
        for raw in envelope.events:
            wire.event_decoder.decode(raw)
        answer = {"accepted": len(envelope.events), "rejected": []}
        return Response(wire.json_encoder.encode(answer), media_type="application/json")

    app = Starlette(routes=[Route("/v1/batch", batch, methods=["POST"])])
    """
)

# The shipped collector with group commit off: each request commits alone.
NAIVE_SERVE = textwrap.dedent(
    """
    from collector.cli import main
    from collector.store.sqlite import writer

    writer.MAX_GROUP_ROWS = 1
    main()
    """
)

# Every request carries 50 events with ids no other request uses: dedup cannot make it cheaper.
WRK_SCRIPT = textwrap.dedent(
    """
    local counter = 0
    local thread_id = 0
    function setup(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
    -- args[1] is unique per run (wrk's math.random repeats across runs): no id is ever sent twice.
    function init(args) prefix = args[1] .. "-" .. tostring(tid) end
    local kinds = {
      '"type":"pageview","url":"https://shop.example/product/%d","title":"Product","route":"/product/:id"',
      '"type":"click","url":"https://shop.example/product/%d","x":120,"y":640,"sel":"#add-to-cart","tag":"button","text":"Add to cart","rx":0.4,"ry":0.5,"dw":1280,"dh":3000',
      '"type":"scroll","url":"https://shop.example/product/%d","depth":75,"dh":3000',
      '"type":"cart","url":"https://shop.example/product/%d","action":"add","item":{"sku":"tee","name":"Tee","price":19.5,"qty":1,"currency":"EUR"}',
      '"type":"track","url":"https://shop.example/product/%d","name":"filter","props":{"colour":"red"}',
    }
    request = function()
      counter = counter + 1
      local session = prefix .. "-s" .. tostring(counter % 2000)
      local parts = {}
      local ts = 1763892000000
      for i = 1, 50 do
        local kind = string.format(kinds[(i % 5) + 1], i)
        parts[i] = string.format(
          '{"id":"%s-%d-%d","ts":%d,"anon_id":"a-%s","session_id":"%s","vw":1280,"vh":800,%s}',
          prefix, counter, i, ts + i, session, session, kind)
      end
      local body = '{"key":"%KEY%","sent_at":' .. ts .. ',"events":[' .. table.concat(parts, ",") .. ']}'
      return wrk.format("POST", "/v1/batch", {["Content-Type"] = "text/plain"}, body)
    end
    """
).replace("%KEY%", KEY)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def run_wrk(port: int, seconds: int, connections: int, script: Path) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/v1/batch", "--", f"p{port}x{time.monotonic_ns()}"],
        check=True, capture_output=True, text=True,
    ).stdout
    requests = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": requests, "total": total, "non2xx": int(bad.group(1)) if bad else 0,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
    }


def serve(args: list[str], port: int, env: dict[str, str], expect: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(port, proc)
    # The server on that port is the one we started and answers as it should.
    body = json.dumps({"key": KEY, "events": [
        {"id": f"probe-{port}", "type": "pageview", "ts": int(time.time() * 1000), "anon_id": "p", "session_id": "p"}]})
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/batch", body.encode(),
                                     {"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == expect, f"probe answered {answer.status}, expected {expect}"
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def chdb_floor(path: Path, requests: int, rounds: int = 15) -> tuple[float, float]:
    """Median seconds of one group's two durable inserts: `requests` batches of 50 events, one
    session each (the shape of the load above), on a fresh chdb store; and the same without
    fsync (what the collector never does: it shows what the fsyncs cost)."""
    from collector.store.clickhouse import ClickHouseStore
    from collector.store.clickhouse.schema import SESSION_COLUMNS

    # A value of each column type: NULL where allowed, else an empty string or a zero.
    blank = {kind: None if "Nullable" in kind else "" if "String" in kind else 0 for _, kind in SESSION_COLUMNS}

    store = ClickHouseStore(f"chdb://{path}")
    db, medians = store.db, []
    now = int(time.time() * 1000)
    for durable in (True, False):
        if not durable:
            for table in ("events", "sessions"):
                db.conn.command(f"ALTER TABLE {db.t(table)} MODIFY SETTING fsync_after_insert = 0,"
                                " fsync_part_directory = 0")
        times = [_group_inserts(db, requests, now, n, blank) for n in range(rounds)]
        medians.append(sorted(times)[len(times) // 2])
    store.close()
    return medians[0], medians[1]


def _group_inserts(db: Any, requests: int, now: int, n: int, blank: dict[str, Any]) -> float:
    """Seconds to insert one group's events and session rows (numbered `n`, so no two collide)."""
    from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_COLUMNS, SESSION_NAMES

    events = [("bench", f"floor-{n}-{i}", f"s-{n}-{i // 50}", "pageview", now + i, now + i, now, "a", None,
               "https://shop.example/p", "/p", None, None, "{}", "web", i) for i in range(requests * 50)]
    # each session row keeps its pageviews (collector/store/clickhouse/views.py)
    sessions = [tuple(f"s-{n}-{r}" if name == "id" else "bench" if name == "site_id" else blank[kind]
                      for name, kind in SESSION_COLUMNS)
                + (n, [(now + i, i, "/p", None) for i in range(r * 50, r * 50 + 50)]) for r in range(requests)]
    started = time.perf_counter()
    db.conn.insert(db.t("events"), (*EVENT_NAMES, "seq"), events)
    db.conn.insert(db.t("sessions"), (*SESSION_NAMES, "version", "views"), sessions)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per server; best is kept")
    parser.add_argument("--quick", action="store_true", help="5 s per server")
    opts = parser.parse_args()
    seconds = 5 if opts.quick else opts.seconds
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "batch.lua"
        script.write_text(WRK_SCRIPT)
        (work / "bare_app.py").write_text(BARE_APP)
        (work / "validate_app.py").write_text(VALIDATE_APP)
        (work / "naive_serve.py").write_text(NAIVE_SERVE)
        env = {**os.environ, "PYTHONPATH": f"{work}{os.pathsep}{ROOT}", "TRAILMARK_RATE_LIMIT": "0"}
        db, naive_db = work / "bench.db", work / "naive.db"
        chdb = f"chdb://{work / 'chdb'}"
        for store in (f"sqlite://{db}", f"sqlite://{naive_db}", chdb):
            subprocess.run([str(BIN / "trailmark"), "sites", "add", "bench", "--key", KEY, "--store", store],
                           check=True, env=env, capture_output=True)

        def same_server(module: str) -> Callable[[int], list[str]]:
            # the HTTP server `trailmark serve` runs (collector/server.py), so that only the app differs
            code = f"from {module} import app; from collector.server import serve; import sys; serve(app, '127.0.0.1', int(sys.argv[1]))"
            return lambda port: [sys.executable, "-c", code, str(port)]

        servers: dict[str, tuple[Callable[[int], list[str]], int]] = {
            "bare starlette": (same_server("bare_app"), 204),
            "validate only": (same_server("validate_app"), 200),
            "commit per req.": (lambda port: [sys.executable, str(work / "naive_serve.py"), "serve", "--port",
                                              str(port), "--db", str(naive_db)], 200),
            "collector": (lambda port: [str(BIN / "trailmark"), "serve", "--port", str(port), "--db", str(db)],
                          200),
            "collector chdb": (lambda port: [str(BIN / "trailmark"), "serve", "--port", str(port), "--store", chdb],
                               200),
        }
        # Alternate the servers and keep each one's best round: a burst of load from elsewhere
        # on the machine then cannot decide a ratio alone.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in servers}
        for _ in range(opts.rounds):
            for name, (command, status) in servers.items():
                port = free_port()
                proc = serve(command(port), port, env, status)
                try:
                    runs[name].append(run_wrk(port, seconds, opts.connections, script))
                finally:
                    stop(proc)
        conn = sqlite3.connect(db)
        (stored,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (sessions,) = conn.execute("SELECT count(*) FROM sessions").fetchone()
        conn.close()
        from collector.store.clickhouse import ClickHouseStore

        on_chdb = ClickHouseStore(chdb)
        ((chdb_stored, chdb_ids),) = on_chdb.db.rows(
            f"SELECT count(), uniqExact(id) FROM {on_chdb.db.t('events')}"
        )
        on_chdb.close()
        floor, unsynced = chdb_floor(work / "floor", opts.connections)

    best = {name: max(rounds, key=lambda r: r["rps"]) for name, rounds in runs.items()}
    base, ours, naive = best["bare starlette"], best["collector"], best["commit per req."]
    for name, run in best.items():
        print(f"{name:<16}: {run['rps']:9.0f} req/s  {run['rps'] * 50:10.0f} events/s  p99 {run['p99_ms']:6.1f} ms"
              f"  {run['rps'] / base['rps']:.3f} of bare  non-2xx {run['non2xx']:.0f}"
              f"  rounds {[round(r['rps']) for r in runs[name]]}")
    # wrk counts the requests it saw answered; the ones in flight when it stops are stored too
    # (up to one per connection and round), so stored = 50 x answered + a little.
    acked = sum((r["total"] - r["non2xx"]) * 50 for r in runs["collector"]) + opts.rounds
    print(f"stored          : {stored} events in {sessions} sessions; answered 200 for {acked} (+ probes)")
    chdb_acked = sum((r["total"] - r["non2xx"]) * 50 for r in runs["collector chdb"]) + opts.rounds
    print(f"stored on chdb  : {chdb_stored} events ({chdb_ids} distinct ids); answered 200 for {chdb_acked} (+ probes)")
    ratio = ours["rps"] / base["rps"]
    ceiling = best["validate only"]["rps"] / base["rps"]
    print(f"ratio           : {ratio:.3f} of the bare endpoint (target >= 0.5); validating alone reaches"
          f" {ceiling:.2f}; group commit gives {ours['rps'] / naive['rps']:.1f}x commit per request")
    print(f"RESULT ingest: collector {ours['rps']:.0f} req/s = {ours['rps'] * 50:.0f} events/s, "
          f"bare {base['rps']:.0f} req/s, ratio {ratio:.3f} (target 0.5) {'MET' if ratio >= 0.5 else 'MISSED'}; "
          f"validate only {ceiling:.2f}, commit per request {naive['rps'] / base['rps']:.3f} "
          f"(collector {ours['rps'] / naive['rps']:.1f}x)")
    on = best["collector chdb"]["rps"]
    validated = best["validate only"]["rps"]
    print(f"chdb group floor: {floor * 1000:.1f} ms for the two fsynced inserts of a group of {opts.connections}"
          f" requests; {opts.connections} connections / floor = {opts.connections / floor:.0f} req/s at most,"
          f" {opts.connections / floor / validated:.2f} of validate only ({unsynced * 1000:.1f} ms without fsync)")
    print(f"RESULT ingest chdb: {on:.0f} req/s = {on * 50:.0f} events/s, {on / validated:.2f} of validate only"
          f" (target 0.5), SQLite collector {ours['rps'] / validated:.2f} of validate only;"
          f" {on / ours['rps']:.2f}x the SQLite collector")


if __name__ == "__main__":
    main()
