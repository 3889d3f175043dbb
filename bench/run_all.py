"""Run every benchmark in bench/ on a bounded budget and write the results table.

    .venv/bin/python bench/run_all.py [--full] [--only ingest,query] [--out BENCHMARKS.md]

Each benchmark prints its own figures and a last line `RESULT <name>: ...`, a ratio against a
baseline measured in the same run. This runner collects those lines, with the machine they ran
on, into bench/results/latest.md and the table between the markers in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# (name, quick arguments, full arguments): quick keeps `make bench` to a few minutes.
SUITE = [
    ("ingest", ["--quick"], []),
    ("enrich", ["--quick"], []),
    ("query", [], ["--sessions", "120000"]),
    ("heatmap", ["--quick"], []),
    ("replay", ["--quick"], []),
    ("replay_scrub", ["--quick"], []),
    ("bundle_size", [], []),
    ("sdk_python", ["--quick"], []),
    ("fuzz", ["--quick"], []),
    ("crash", ["--quick"], []),
    ("soak", ["--quick"], []),
    ("triggers", ["--quick"], []),
    ("http_attack", ["--quick"], []),
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def run(name: str, args: list[str]) -> tuple[str, float, str]:
    script = HERE / f"{name}.py"
    if not script.exists():
        return "missing", 0.0, f"bench/{name}.py does not exist"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(script), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    seconds = time.monotonic() - started
    sys.stdout.write(proc.stdout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return "failed", seconds, " / ".join(tail) or f"exit {proc.returncode}"
    return "ok", seconds, re.sub(r"^RESULT [\w-]+: ", "", lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full budgets (about 20 minutes)")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    opts = parser.parse_args()
    chosen = {n for n in opts.only.split(",") if n}
    rows = []
    header = machine()
    for name, quick, full in SUITE:
        if chosen and name not in chosen:
            continue
        print(f"== {name}", flush=True)
        status, seconds, result = run(name, full if opts.full else quick)
        rows.append((name, status, seconds, result))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "full" if opts.full else "quick"
    table = [
        f"Run {stamp}, {mode} budgets, on {header}.",
        "",
        "| benchmark | status | seconds | result (ratio against the same-run baseline) |",
        "|---|---|---|---|",
        *(f"| {n} | {s} | {sec:.0f} | {r.replace('|', '/')} |" for n, s, sec, r in rows),
    ]
    text = "\n".join(table) + "\n"
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text(text)
    if opts.out.exists() and not chosen:
        doc = opts.out.read_text()
        if BEGIN in doc and END in doc:
            head, _, rest = doc.partition(BEGIN)
            _, _, tail = rest.partition(END)
            opts.out.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")
    print(text)
    if any(s != "ok" for _, s, _, _ in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
