"""What stripping URL secrets from replay chunks adds to ingest, against the gzip step beside it.

Builds rrweb chunks as a recorder sends them (JSON.stringify: no spaces): a full snapshot of a page of N elements (links, images
with srcset, a form, styles; one link in ten with a token), and a chunk of mouse moves and
scrolls. For each, times `scrub_events` (values stripped in place), the decode-walk-encode path it
falls back to for escaped JSON, and `gzip.compress(level 6)` (what ingest already does with
every chunk) on the same bytes, in the same run, and prints the ratios.

Usage: .venv/bin/python bench/replay_scrub.py [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector.enrich.replay import _scrub_decoded, scrub_events  # noqa: E402
from collector.enrich.urls import DEFAULT_SENSITIVE_PARAMS  # noqa: E402


def snapshot(n: int) -> list[bytes]:
    def el(i: int, tag: str, children: list[object], **attrs: str) -> dict[str, object]:
        return {"type": 2, "tagName": tag, "attributes": attrs, "childNodes": children, "id": i}

    rows = []
    for i in range(n // 5):
        query = f"?ref=list&token=t{i}" if i % 10 == 0 else "?ref=list"
        rows.append(el(5 * i + 10, "tr", [
            el(5 * i + 11, "td", [{"type": 3, "textContent": f"item {i}", "id": 5 * i + 12}]),
            el(5 * i + 13, "a", [], href=f"https://shop.example/p/{i}{query}", title=f"Item {i}"),
            el(5 * i + 14, "img", [], src=f"/i/{i}.png", srcset=f"/i/{i}.png 1x, /i/{i}@2.png 2x",
               style="width: 40px; border: 1px solid #ccc"),
        ]))
    css = "".join(f".c{i} {{ color: #{i:06x}; background: url(/bg/{i}.png) }}" for i in range(200))
    head = el(3, "head", [el(4, "style", [], _cssText=css)])
    body = el(5, "body", [el(6, "form", [], action="/search?q=x"), el(7, "table", rows)])
    doc = {"type": 0, "id": 1, "childNodes": [el(2, "html", [head, body])]}
    meta = {"type": 4, "timestamp": 1, "data": {"href": "https://shop.example/cb?q=1#access_token=x",
                                                "width": 1200, "height": 800}}
    full = {"type": 2, "timestamp": 2, "data": {"node": doc, "initialOffset": {"left": 0, "top": 0}}}
    return [json.dumps(meta).encode(), json.dumps(full, separators=(",", ":")).encode()]


def activity(n: int) -> list[bytes]:
    events = []
    for i in range(n):
        if i % 3:
            data = {"source": 1, "positions": [{"x": i % 800, "y": i % 600, "id": 12, "timeOffset": -20}]}
        else:
            data = {"source": 3, "id": 1, "x": 0, "y": i * 7}
        events.append(json.dumps({"type": 3, "timestamp": 1000 + i, "data": data}, separators=(",", ":")).encode())
    return events


def timed(fn, arg, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(arg)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    repeat = 5 if quick else 21
    print(f"{'chunk':<34}{'bytes':>10}{'scrub ms':>10}{'decode ms':>11}{'gzip ms':>10}"
          f"{'scrub/gzip':>12}{'decode/gzip':>13}")
    ratios: dict[str, float] = {}
    for name, events in (
        ("full snapshot, 5,000 elements", snapshot(5000)),
        ("full snapshot, 20,000 elements", snapshot(20000)),
        ("2,000 mouse moves and scrolls", activity(2000)),
    ):
        array = b"[" + b",".join(events) + b"]"
        scrub = timed(lambda e: scrub_events(e), events, repeat)
        slow = timed(lambda e: [_scrub_decoded(r, DEFAULT_SENSITIVE_PARAMS) for r in e], events, repeat)
        pack = timed(lambda a: gzip.compress(a, 6), array, repeat)
        print(f"{name:<34}{len(array):>10,}{scrub * 1000:>10.1f}{slow * 1000:>11.1f}{pack * 1000:>10.1f}"
              f"{scrub / pack:>12.2f}{slow / pack:>13.2f}")
        ratios[name] = scrub / pack
    snap = ratios["full snapshot, 5,000 elements"]
    moves = ratios["2,000 mouse moves and scrolls"]
    print(f"RESULT replay_scrub: stripping URL secrets costs {snap:.1f}x gzip's time on a 5,000-element"
          f" snapshot, {moves:.1f}x on mouse moves (lower is better)")


if __name__ == "__main__":
    main()
