"""Gzipped size of trailmark.js beside the published npm builds of peers, installed for this run only.

Usage: .venv/bin/python bench/bundle_size.py [--quick]
Needs sdk_js/node_modules (`npm ci` in sdk_js) to build our bundles; the peers go to a temp dir
with `npm install --no-save` and are removed afterwards.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "sdk_js"
STATIC = ROOT / "collector" / "static"
BUDGET = 5 * 1024

# Pinned so that reruns compare the same bytes.
PEERS = {"plausible-tracker": "0.3.9", "posthog-js": "1.449.2", "@rrweb/record": "2.1.6"}


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, timeout=300)


def install_peers(tmp: Path, quick: bool) -> None:
    peers = {k: v for k, v in PEERS.items() if not (quick and k == "posthog-js")}
    (tmp / "package.json").write_text('{"private": true}')
    run(["npm", "install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund",
         *[f"{name}@{version}" for name, version in peers.items()]], tmp)


def bundle_plausible(tmp: Path) -> bytes:
    """plausible-tracker ships CommonJS modules, not a script: bundle and minify it as we do ours."""
    entry = tmp / "plausible_entry.js"
    entry.write_text("import Plausible from 'plausible-tracker'; window.Plausible = Plausible;\n")
    out = tmp / "plausible.min.js"
    run([str(SDK / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle", "--minify", "--format=iife",
         "--target=es2020", f"--outfile={out}", "--log-level=warning"], tmp)
    return out.read_bytes()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest peer (posthog-js)")
    args = parser.parse_args()

    run(["node", "build.mjs"], SDK)
    core = (STATIC / "trailmark.js").read_bytes()
    vitals = (STATIC / "trailmark-vitals.js").read_bytes()
    ours = gz(core)
    rows: list[tuple[str, int, int]] = [
        ("trailmark.js (core)", len(core), ours),
        ("trailmark-vitals.js (lazy)", len(vitals), gz(vitals)),
    ]
    with tempfile.TemporaryDirectory(prefix="tm-bench-") as name:
        tmp = Path(name)
        install_peers(tmp, args.quick)
        mods = tmp / "node_modules"
        rows.append((f"plausible-tracker {PEERS['plausible-tracker']} (esbuild min)", *sizes(bundle_plausible(tmp))))
        if not args.quick:
            array = (mods / "posthog-js" / "dist" / "array.js").read_bytes()
            rows.append((f"posthog-js {PEERS['posthog-js']} dist/array.js", *sizes(array)))
        record = (mods / "@rrweb" / "record" / "dist" / "record.umd.min.cjs").read_bytes()
        rows.append((f"@rrweb/record {PEERS['@rrweb/record']} record.umd.min.cjs", *sizes(record)))

    print(f"{'bundle':48} {'raw B':>9} {'gzip B':>8} {'vs core':>8}")
    for label, raw, packed in rows:
        print(f"{label:48} {raw:9d} {packed:8d} {packed / ours:7.2f}x")
    peers = ", ".join(f"{label.split()[0]} {packed} B ({packed / ours:.2f}x)" for label, _, packed in rows[2:])
    verdict = "within" if ours <= BUDGET else "OVER"
    print(f"RESULT bundle_size: trailmark.js {ours} B gzipped ({verdict} the {BUDGET} B budget); "
          f"vitals part {rows[1][2]} B lazy; peers: {peers}")
    return 0 if ours <= BUDGET else 1


def sizes(data: bytes) -> tuple[int, int]:
    return len(data), gz(data)


if __name__ == "__main__":
    sys.exit(main())
