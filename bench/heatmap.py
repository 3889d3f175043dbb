"""Heatmap query time for one page with 1,000,000 stored clicks: the rollups against a plain scan.

Clicks go straight into `events` of a temp database built by the migrations, then into the rollups
by the writer's own per-group fold (collector/store/rollups.py), as one big group. The baseline answers the same question from the same rows
by scanning `events` (a `/product/*` pattern reads them); both answers must be equal.

    .venv/bin/python bench/heatmap.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.store import SQLiteStore  # noqa: E402
from collector.store.sqlite.reads import heatmap  # noqa: E402
from collector.store.sqlite.rollups import fold_clicks  # noqa: E402
from collector.store.sqlite.stored import after  # noqa: E402

DAY_MS = 86_400_000
DAYS = 30
ELEMENTS = 60
WIDTHS = [(1440, 900), (1280, 800), (820, 1180), (390, 844), (412, 915)]


def clicks(n: int, start: int, seed: int = 7) -> list[tuple[object, ...]]:
    """`n` clicks on /product/:id: popular elements clicked near their middle, a few rage bursts."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(ELEMENTS)]  # Zipf: a few elements get most clicks
    boxes = [(rng.randrange(0, 1000), rng.randrange(0, 3000), rng.randrange(40, 400), rng.randrange(20, 120))
             for _ in range(ELEMENTS)]
    elements = rng.choices(range(ELEMENTS), weights, k=n)
    rows = []
    for i, el in enumerate(elements):
        left, top, w, h = boxes[el]
        vw, vh = WIDTHS[i % len(WIDTHS)]
        rx = min(1.0, max(0.0, rng.gauss(0.5, 0.15)))
        ry = min(1.0, max(0.0, rng.gauss(0.5, 0.15)))
        ts = start + rng.randrange(DAYS * DAY_MS)
        data = json.dumps({
            "x": int(left * vw / 1440 + rx * w), "y": int(top + ry * h), "sel": f"#el-{el}", "tag": "button",
            "text": f"Element {el}", "rx": round(rx, 4), "ry": round(ry, 4), "dw": vw, "dh": 4000,
            "rage": rng.random() < 0.03, "dead": rng.random() < 0.05, "vw": vw, "vh": vh,
        })
        path = f"/product/{rng.randrange(1, 200)}"
        rows.append(("bench", f"c{i}", f"s{i // 20}", "click", ts, ts, ts, f"a{i // 20}", None,
                     "https://shop.example" + path, path, "/product/:id", f"#el-{el}", data))
    return rows


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of `repeat` runs, and the last answer."""
    times = []
    answer: object = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 clicks instead of 1,000,000")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    start = (int(time.time() * 1000) // DAY_MS - DAYS) * DAY_MS
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = SQLiteStore(db)
        store.add_site("bench", "Bench")
        store.close()
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")  # as the store's own connections (store/sqlite.py)
        conn.execute("PRAGMA temp_store = MEMORY")
        rows = clicks(n, start)
        t0 = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO events (site_id, id, session_id, type, ts, client_ts, received_at, anon_id,"
                " user_id, url, path, route, name, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            fold_clicks(conn, after(0))
        insert_s = time.perf_counter() - t0
        del rows
        conn.execute("ANALYZE")
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("events", "heatmap_elements", "heatmap_cells", "heatmap_points")}
        end = start + DAYS * DAY_MS
        print(f"clicks stored: {sizes['events']:,} in {insert_s:.1f} s with rollups"
              f" ({sizes['events'] / insert_s:,.0f}/s); rollup rows: elements {sizes['heatmap_elements']:,},"
              f" cells {sizes['heatmap_cells']:,}, points {sizes['heatmap_points']:,}")
        results = []
        for device in ("desktop", ""):
            rolled = heatmap.Scope("bench", "/product/:id", device, start, end)
            scanned = heatmap.Scope("bench", "/product/*", device, start, end)
            fast, a = timed(lambda s=rolled: heatmap.clicks(conn, s), 5)
            slow, b = timed(lambda s=scanned: heatmap.clicks(conn, s), 1)
            assert isinstance(a, dict) and isinstance(b, dict)
            assert a["elements"] == b["elements"], "the rollup and the scan disagree"
            label = device or "all devices"
            print(f"{label:12} clicks {a['total']:>9,}: rollup {fast * 1000:7.1f} ms, scan {slow * 1000:8.1f} ms,"
                  f" {slow / fast:6.1f}x")
            results.append((label, a["total"], fast, slow))
        scroll_fast, _ = timed(lambda: heatmap.scroll(conn, heatmap.Scope("bench", "/product/:id", "", start, end)), 5)
        conn.close()
    label, total, fast, slow = results[-1]
    print(f"RESULT heatmap: {total:,} clicks, rollup {fast * 1000:.0f} ms vs scan {slow * 1000:.0f} ms"
          f" ({slow / fast:.1f}x faster, {label}); desktop {results[0][2] * 1000:.0f} ms;"
          f" insert {n / insert_s:,.0f} clicks/s with rollups; scroll {scroll_fast * 1000:.1f} ms")


if __name__ == "__main__":
    main()
