"""Session replay: bytes per minute of recording, and the recorder's main-thread cost on a big page.

A real collector (uvicorn, SQLite in a temp dir) and a two-page shop on another origin; real
Chromium drives a scripted session (mouse moves, scrolls, clicks, typing, a cart add, a page
change) for a fixed time and we read back what was stored: raw rrweb JSON and gzip bytes per
minute. Then a page of about 5,000 elements is loaded with recording off and on, in the same
run, and we compare main-thread time (CDP TaskDuration), total blocking time (long tasks over
50 ms, PerformanceObserver) and the cost of one burst of 1,000 DOM mutations.

Usage: .venv/bin/python bench/replay.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402

from collector.app import create_app  # noqa: E402
from e2e.replay_site import site_app  # noqa: E402
from tests.support.collector import ThreadedServer, free_port, make_settings, make_store, read_rows  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
KEY = "wk_test"

LONG_TASKS = """
window.__tbt = 0; window.__longtasks = 0;
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { window.__longtasks++; window.__tbt += Math.max(0, e.duration - 50); });
  }).observe({type: "longtask", buffered: true});
} catch (_) {}
"""

MUTATE = """async () => {
  const cells = Array.from(document.querySelectorAll('#big span')).slice(0, 1000);
  const t = performance.now();
  cells.forEach((c, i) => { c.textContent = 'changed ' + i; });
  await new Promise(r => setTimeout(r, 0));  // rrweb's MutationObserver work lands before this
  return performance.now() - t;
}"""


def scripted_session(browser: Browser, site: str, seconds: float) -> str:
    """A visitor who keeps busy for `seconds`: moves, scrolls, clicks, types, adds to cart, changes page."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(site + "/")
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    session_id = str(page.evaluate("trailmark._ctx().session_id"))
    start, step = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        step += 1
        for i in range(20):
            page.mouse.move(100 + (i * 37 + step * 11) % 900, 100 + (i * 23) % 500)
            page.wait_for_timeout(25)
        page.mouse.wheel(0, 200 if step % 2 else -200)
        if step % 3 == 0 and page.url.endswith("/"):
            page.click("#add")
            page.click("#card")
            page.keyboard.type("4111 1111", delay=30)
        if step % 7 == 0:
            page.goto(site + ("/page2" if page.url.endswith("/") else "/"))
            page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    page.goto("about:blank")  # pagehide flushes the last chunk
    page.context.close()
    return session_id


def stored_replay(db: Path, session_id: str, settle_s: float = 5) -> tuple[int, int, int]:
    """(raw JSON bytes, stored bytes, recorded ms) once uploads stop changing."""
    last, deadline = None, time.monotonic() + settle_s * 4
    while time.monotonic() < deadline:
        rows = read_rows(db, "SELECT data, first_ts, last_ts FROM replay_chunks WHERE session_id = ?", session_id)
        now = (len(rows), sum(len(r["data"]) for r in rows))
        if now == last:
            break
        last = now
        time.sleep(settle_s / 5)
    raw = sum(len(gzip.decompress(r["data"])) for r in rows)
    span = max(r["last_ts"] for r in rows) - min(r["first_ts"] for r in rows)
    return raw, now[1], span


def page_cost(browser: Browser, site: str, replay: str) -> dict[str, float]:
    """Main-thread figures for loading /big and mutating it, with recording off ("0") or on ("1")."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(LONG_TASKS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(f"{site}/big?replay={replay}")
    page.wait_for_function("window.trailmark && window.trailmark.v")
    if replay == "1":
        page.wait_for_function("window.trailmark._replay === true")
    page.wait_for_timeout(1000)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    mutate_ms = float(page.evaluate(MUTATE))
    nodes = int(page.evaluate("document.getElementsByTagName('*').length"))
    tbt = float(page.evaluate("window.__tbt"))
    context.close()
    return {"task_ms": metrics["TaskDuration"] * 1000, "script_ms": metrics["ScriptDuration"] * 1000,
            "tbt_ms": tbt, "mutate_ms": mutate_ms, "nodes": nodes}


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 15 s session and 3 runs per mode")
    opts = parser.parse_args()
    seconds, runs = (15.0, 3) if opts.quick else (60.0, 7)

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        db = Path(tmp) / "bench.db"
        collector_port, site_port = free_port(), free_port()
        collector = f"http://127.0.0.1:{collector_port}"
        site = f"http://127.0.0.1:{site_port}"
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        with ThreadedServer(create_app(make_settings(db), make_store(db)), collector_port), \
                ThreadedServer(site_app(collector, KEY), site_port):
            session_id = scripted_session(browser, site, seconds)
            raw, stored, span = stored_replay(db, session_id)
            minutes = span / 60000
            print(f"recording: {span / 1000:.1f} s, raw {raw} B, stored {stored} B "
                  f"({raw / minutes / 1024:.0f} KiB/min raw, {stored / minutes / 1024:.0f} KiB/min stored, "
                  f"gzip x{raw / stored:.1f})")

            results: dict[str, list[dict[str, float]]] = {"0": [], "1": []}
            page_cost(browser, site, "0")  # warm-up: caches, JIT, bundle fetches
            page_cost(browser, site, "1")
            for _ in range(runs):  # interleaved so drift hits both modes alike
                for mode in ("0", "1"):
                    results[mode].append(page_cost(browser, site, mode))
        browser.close()

    off, on = results["0"], results["1"]
    figures: dict[str, tuple[float, float]] = {
        k: (median(off, k), median(on, k)) for k in ("task_ms", "script_ms", "tbt_ms", "mutate_ms")
    }
    print(f"big page: {int(median(on, 'nodes'))} elements, {runs} runs per mode, medians")
    for k, (a, b) in figures.items():
        ratio = b / a if a else float("inf")
        print(f"  {k:10s} off {a:8.1f}  on {b:8.1f}  ratio {ratio:5.2f}")
    ratio = {k: (b / a if a else float("inf")) for k, (a, b) in figures.items()}
    tbt_off, tbt_on = figures["tbt_ms"]
    print(
        f"RESULT replay: {raw / minutes / 1024:.0f} KiB/min raw, {stored / minutes / 1024:.0f} KiB/min stored; "
        f"5k-node page main-thread x{ratio['task_ms']:.2f} (TaskDuration), TBT {tbt_off:.0f}->{tbt_on:.0f} ms, "
        f"1k-mutation burst x{ratio['mutate_ms']:.2f}"
    )


if __name__ == "__main__":
    main()
