"""Time to answer while another process holds the database's write lock.

Starts a real `trailmark serve`, has a second process take `BEGIN EXCLUSIVE`, then times one
batch, a few concurrent batches, /healthz and an analyst read. With `--baseline SRC` it first runs
the same against another checkout (e.g. `git archive main | tar -x -C /tmp/main`) and prints the
ratio. Prints `RESULT lock_wait: ...`.

    .venv/bin/python bench/lock_wait.py [--baseline /tmp/main] [--concurrent 4]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "wk_lock"
TOKEN = "lock-bench-token-0123456789"
HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
sys.stdin.read()
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _batch(url: str) -> tuple[int, float]:
    events = [{"type": "track", "id": str(uuid.uuid4()), "ts": int(time.time() * 1000),
               "anon_id": "a", "session_id": "s", "name": "locked"}]
    started = time.perf_counter()
    answer = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": events}, timeout=600)
    return answer.status_code, time.perf_counter() - started


def _get(url: str, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    answer = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600)
    return answer.status_code, time.perf_counter() - started


def measure(src: Path, concurrent: int) -> dict[str, tuple[int, float]]:
    """Status and seconds to answer for each request kind, the source tree `src` serving."""
    env = dict(os.environ, PYTHONPATH=str(src), TRAILMARK_ADMIN_TOKEN=TOKEN, TRAILMARK_RATE_LIMIT="0")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "lock.db")
        cli = [sys.executable, "-m", "collector"]
        # cwd: `-m` puts the working directory first on sys.path, before PYTHONPATH
        subprocess.run([*cli, "sites", "add", "lock", "--key", KEY, "--db", db], env=env, check=True,
                       capture_output=True, cwd=src)
        port = _port()
        server = subprocess.Popen([*cli, "serve", "--db", db, "--port", str(port)], env=env,
                                  cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    httpx.get(f"{url}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            _batch(url)  # the day's salt is made before the lock: this measures the writer
            holder = subprocess.Popen([sys.executable, "-c", HOLD, db], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            results = {"one batch": _batch(url)}
            answers: list[tuple[int, float]] = []
            threads = [threading.Thread(target=lambda: answers.append(_batch(url)))
                       for _ in range(concurrent)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            results[f"slowest of {concurrent} concurrent batches"] = max(answers, key=lambda a: a[1])
            results["/healthz"] = _get(url, "/healthz")
            results["/api/sites"] = _get(url, "/api/sites")
            holder.kill()
            holder.wait()
        finally:
            server.terminate()
            server.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another source tree to measure first")
    parser.add_argument("--concurrent", type=int, default=4)
    args = parser.parse_args()
    baseline = measure(args.baseline, args.concurrent) if args.baseline else None
    current = measure(ROOT, args.concurrent)
    for kind, (status, seconds) in current.items():
        line = f"{kind:36} now {status} in {seconds:6.2f} s"
        if baseline:
            before_status, before = baseline[kind]
            line += f"   baseline {before_status} in {before:6.2f} s   ratio {before / seconds:6.1f}x"
        print(line)
    status, seconds = current["one batch"]
    print(f"RESULT lock_wait: one batch under a held lock answers {status} in {seconds:.2f} s")


if __name__ == "__main__":
    main()
