"""Header floods and slowloris against the collector's HTTP server: before and after, same run.

Loopback only, bounded in count and time, stops by itself. For each server it starts the
collector in a child process and measures, each with /healthz probed all along:

- baseline: /healthz latency (median, p99) and the server's RSS with nothing else going on, and
  ingest throughput: 8 kept-alive connections posting 20-event batches (what the server costs);
- huge header: HEADER_CONNS connections each send one header of up to HEADER_MB MiB as fast as
  they can (or until the server closes them), for at most ATTACK_S seconds;
- slowloris: SLOW_CONNS connections each trickle one header byte a second for SLOW_S seconds;
  counted: how many the server has closed by the end, and how long it took.

Servers: `uvicorn` is how `trailmark serve` ran before (uvicorn defaults: httptools, no limit on
header size, no timeout before the first request); `hardened` is `collector.server.serve` as
shipped (httptools with a 16 KiB header bound and a 5 s deadline while no request is served).
Other candidates: `guarded-h11` (h11's own 16 KiB bound and the same deadline), `uvicorn-h11`
(the h11 bound alone) and, when installed, `hypercorn` (16 KiB, 5 s keep-alive, 15 s read
timeout) and `granian` (embedded, experimental upstream; 5 s header timeout).

    .venv/bin/python bench/http_attack.py [--servers uvicorn,hardened] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
KEY = "wk_bench"


def child(server: str, port: int, db: str) -> None:
    """The collector under one server, in this process until killed."""
    sys.path.insert(0, str(ROOT))
    from collector.app import create_app
    from collector.config import Settings
    from collector.store import SQLiteStore

    store = SQLiteStore(Path(db))
    store.add_site("bench", "Bench", key=KEY)
    app = create_app(Settings(db=Path(db), rate_limit=0.0, admin_token="bench"), store)
    if server == "hardened":
        from collector.server import serve

        serve(app, HOST, port)
    elif server == "uvicorn":
        import uvicorn

        uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)
    elif server == "guarded-h11":
        import uvicorn

        from collector.server import GuardedH11, config, raise_file_limit

        raise_file_limit()
        uvicorn.Server(config(app, HOST, port, protocol=GuardedH11)).run()
    elif server == "uvicorn-h11":
        import uvicorn

        uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False, http="h11",
                    h11_max_incomplete_event_size=16 * 1024)
    elif server == "hypercorn":  # pip install hypercorn: built-in limits, measured as a candidate
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        cfg = Config()
        cfg.bind = [f"{HOST}:{port}"]
        cfg.h11_max_incomplete_size, cfg.keep_alive_timeout, cfg.read_timeout = 16 * 1024, 5, 15
        asyncio.run(hypercorn_serve(app, cfg))
    elif server == "granian":  # pip install granian: measured as a candidate
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
        from granian.server.embed import Server

        embedded = Server(app, address=HOST, port=port, interface=Interfaces.ASGI, log_enabled=False,
                          http1_settings=HTTP1Settings(header_read_timeout=5000, max_buffer_size=65536))
        asyncio.run(embedded.serve())
    else:
        raise SystemExit(f"unknown server {server!r}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def probe() -> float | None:
    """Seconds for one GET /healthz on a fresh connection, None if it failed or took over 10 s."""
    start = time.perf_counter()
    try:
        async with asyncio.timeout(10):
            reader, writer = await asyncio.open_connection(HOST, PORT)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            answer = await reader.read()
            writer.close()
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - start if answer.startswith(b"HTTP/1.1 200") else None


class Probes:
    """/healthz probed back to back while an attack runs; RSS sampled with each probe."""

    def __init__(self, pid: int) -> None:
        self.pid, self.times, self.failed, self.rss = pid, [], 0, [rss_mb(pid)]
        self.stop = asyncio.Event()

    async def run(self) -> None:
        while not self.stop.is_set():
            took = await probe()
            self.rss.append(rss_mb(self.pid))
            if took is None:
                self.failed += 1
            else:
                self.times.append(took)
            await asyncio.sleep(0.05)

    def summary(self) -> dict[str, float]:
        ms = sorted(t * 1000 for t in self.times) or [float("nan")]
        return {"p50": statistics.median(ms), "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
                "max": ms[-1], "failed": self.failed, "probes": len(self.times) + self.failed,
                "rss": max(self.rss)}


async def huge_header(conns: int, megabytes: int, seconds: float) -> dict[str, float]:
    """Each connection sends one endless header line, and reconnects when the server cuts it off,
    until `seconds` have passed; returns MiB sent and how many connections the server cut off."""
    chunk = b"a" * 65536
    sent = [0]
    cut_off = [0]
    deadline = time.monotonic() + seconds

    async def one() -> None:
        while time.monotonic() < deadline:
            size = 0
            try:
                _, writer = await asyncio.open_connection(HOST, PORT)
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Flood: ")
                while size < megabytes * 2**20 and time.monotonic() < deadline:
                    writer.write(chunk)
                    await writer.drain()
                    size += len(chunk)
                    sent[0] += len(chunk)
                writer.close()
                return
            except OSError:
                cut_off[0] += 1

    await asyncio.wait([asyncio.create_task(one()) for _ in range(conns)], timeout=seconds + 5)
    return {"sent_mb": sent[0] / 2**20, "cut_off": cut_off[0]}


async def ingest(conns: int, seconds: float) -> dict[str, float]:
    """Requests/s of 20-event batches over kept-alive connections: what the server costs ingest."""
    done = [0]
    deadline = time.monotonic() + seconds

    async def one(worker: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, PORT)
        n = 0
        while time.monotonic() < deadline:
            events = ",".join(
                f'{{"id":"w{worker}-{n}-{i}","type":"track","name":"t","ts":{int(time.time() * 1000)},"anon_id":"a"}}'
                for i in range(20))
            body = f'{{"key":"{KEY}","events":[{events}]}}'.encode()
            writer.write(b"POST /v1/batch HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                done[0] += 1
            n += 1
        writer.close()

    start = time.monotonic()
    await asyncio.gather(*(one(w) for w in range(conns)))
    return {"req_s": done[0] / (time.monotonic() - start)}


async def slowloris(conns: int, seconds: float) -> dict[str, float]:
    """Connections that trickle a header byte a second; returns how many the server closed, and when."""
    writers: list[asyncio.StreamWriter] = []
    readers: list[asyncio.StreamReader] = []
    for _ in range(conns):
        try:
            reader, writer = await asyncio.open_connection(HOST, PORT)
        except OSError:
            break
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Slow: ")
        readers.append(reader)
        writers.append(writer)
    start = time.monotonic()
    closed_at: dict[int, float] = {}
    while time.monotonic() - start < seconds and len(closed_at) < len(writers):
        await asyncio.sleep(1)
        for i, writer in enumerate(writers):
            if i in closed_at:
                continue
            if readers[i].at_eof() or writer.is_closing():
                closed_at[i] = time.monotonic() - start
                continue
            try:
                writer.write(b"a")
                await writer.drain()
            except OSError:
                closed_at[i] = time.monotonic() - start
    for writer in writers:
        writer.close()
    times = sorted(closed_at.values())
    return {"opened": len(writers), "closed": len(times), "closed_after_s": times[len(times) // 2] if times else float("nan")}


async def measure(pid: int, attack: str, args: argparse.Namespace) -> dict[str, float]:
    probes = Probes(pid)
    running = asyncio.create_task(probes.run())
    if attack == "baseline":
        await asyncio.sleep(args.baseline_s)
        result: dict[str, float] = {}
    elif attack == "ingest":
        result = await ingest(8, args.ingest_s)
    elif attack == "header":
        result = await huge_header(args.header_conns, args.header_mb, args.attack_s)
    else:
        result = await slowloris(args.slow_conns, args.slow_s)
    probes.stop.set()
    await running
    return {**probes.summary(), **result}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def run_server(server: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    global PORT
    PORT = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, __file__, "--child", server, str(PORT), f"{tmp}/bench.db"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while asyncio.run(probe()) is None:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{server} did not start")
                time.sleep(0.2)
            results = {}
            for attack in ("baseline", "ingest", "header", "slowloris"):
                results[attack] = asyncio.run(measure(proc.pid, attack, args))
                time.sleep(1)  # let the server shed what the attack left behind
            return results
        finally:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="uvicorn,hardened")
    parser.add_argument("--quick", action="store_true", help="smaller attacks (what make bench runs)")
    parser.add_argument("--child", nargs=3, metavar=("SERVER", "PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    args.baseline_s, args.ingest_s = 3.0, 5.0
    args.header_conns, args.header_mb, args.attack_s = (4, 50, 10.0) if args.quick else (10, 50, 20.0)
    args.slow_conns, args.slow_s = (500, 12.0) if args.quick else (2000, 20.0)
    names = [n for n in args.servers.split(",") if n not in ("hypercorn", "granian") or importlib.util.find_spec(n)]
    skipped = sorted(set(args.servers.split(",")) - set(names))
    if skipped:
        print(f"not installed, not measured: {', '.join(skipped)}")
    runs = {name: run_server(name, args) for name in names}
    for name, results in runs.items():
        base = results["baseline"]
        print(f"{name}: baseline p50 {base['p50']:.1f} ms p99 {base['p99']:.1f} ms rss {base['rss']:.0f} MB; "
              f"ingest {results['ingest']['req_s']:.0f} req/s of 20 events")
        for attack in ("header", "slowloris"):
            r = results[attack]
            extra = (f"sent {r['sent_mb']:.0f} MiB, {r['cut_off']:.0f} connections cut off" if attack == "header"
                     else f"closed {r['closed']:.0f}/{r['opened']:.0f} after {r['closed_after_s']:.0f} s (median)")
            print(f"  {attack}: healthz p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms max {r['max']:.0f} ms "
                  f"(p99 x{r['p99'] / base['p99']:.1f}), failed {r['failed']:.0f}/{r['probes']:.0f}, "
                  f"rss {r['rss']:.0f} MB (x{r['rss'] / base['rss']:.2f}); {extra}")
    parts = []
    for name, results in runs.items():
        base, h, s = results["baseline"], results["header"], results["slowloris"]
        parts.append(f"{name}: ingest {results['ingest']['req_s']:.0f} req/s, header p99 x{h['p99'] / base['p99']:.1f} rss x{h['rss'] / base['rss']:.2f} "
                     f"cut {h['cut_off']:.0f}, slowloris p99 x{s['p99'] / base['p99']:.1f} "
                     f"failed {s['failed']:.0f} closed {s['closed']:.0f}/{s['opened']:.0f}")
    print("RESULT http_attack: " + "; ".join(parts))


PORT = 0

if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
