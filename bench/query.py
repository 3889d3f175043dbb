"""Time the analyst queries on generated traffic, beside a full scan of the events table.

    .venv/bin/python bench/query.py [--quick] [--db PATH] [--keep]

Generates ~1,000,000 events in ~100,000 sessions over 60 days (100k in --quick) through the
store's write path (transaction.apply_group), then times each endpoint's query function
(median of a few runs) and prints its ratio to `SELECT max(length(data)) FROM events`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector.query import vitals as vitals_report  # noqa: E402
from collector.query.goals import goal_of  # noqa: E402
from collector.query.scope import Scope, build_scope  # noqa: E402
from collector.schema import json_encoder  # noqa: E402
from collector.store import SQLiteStore  # noqa: E402
from collector.store.model import Acquisition, Context, EventRow, WriteBatch  # noqa: E402
from collector.store.sqlite import connect  # noqa: E402
from collector.store.sqlite.reads import (  # noqa: E402
    commerce,
    funnel,
    live,
    overview,
    paths,
    persons,
    retention,
    sessions,
    suggest,
    surveys,
    vitals,
)
from collector.store.sqlite.reads import events as custom_events  # noqa: E402
from collector.store.sqlite.transaction import apply_group  # noqa: E402

DAY_MS = 86_400_000
DAYS = 60
SITE = "bench"
DEVICES = [("desktop", "Chrome"), ("desktop", "Firefox"), ("mobile", "Safari"), ("mobile", "Chrome"),
           ("tablet", "Safari")]
COUNTRIES = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL"]
CHANNELS = [("direct", None), ("organic", None), ("paid", "spring"), ("email", "newsletter"),
            ("social", "launch")]


class Generator:
    """Sessions that look like a shop's: browse, sometimes cart, sometimes buy or answer a survey."""

    def __init__(self, sessions: int, seed: int = 8) -> None:
        self.rng = random.Random(seed)
        self.sessions = sessions
        self.visitors = max(1, int(sessions * 0.6))
        self.start = (int(time.time() * 1000) // DAY_MS - DAYS + 1) * DAY_MS
        self.events = 0
        # Vitals, custom events and errors draw from their own generator, so that every other
        # event stays as it was before they were added.
        self.extra = random.Random(seed + 1)

    def _row(self, kind: str, ts: int, anon: str, sid: str, url: str | None, name: str | None = None,
             data: dict[str, object] | None = None, **extra: object) -> EventRow:
        self.events += 1
        path = url.split("example", 1)[1] if url else None
        return EventRow(
            id=uuid.UUID(int=self.rng.getrandbits(128)).hex, type=kind, ts=ts, client_ts=ts,
            anon_id=anon, user_id=None, session_id=sid, url=url, path=path, route=None, name=name,
            data=json_encoder.encode(data or {}), **extra,  # type: ignore[arg-type]
        )

    def session(self, n: int) -> WriteBatch:
        rng = self.rng
        anon = f"v{rng.randrange(self.visitors)}"
        sid = f"s{n}"
        ts = self.start + rng.randrange(DAYS * DAY_MS - 3_600_000)
        device, browser = rng.choice(DEVICES)
        channel, campaign = rng.choice(CHANNELS)
        rows: list[EventRow] = []
        pages = ["https://shop.example/"] + [
            f"https://shop.example/product/{rng.randrange(200)}" for _ in range(rng.randrange(0, 4))
        ]
        cart = rng.random() < 0.3
        if cart:
            pages.append("https://shop.example/cart")
        for url in pages:
            ts += rng.randrange(5_000, 60_000)
            rows.append(self._row("pageview", ts, anon, sid, url, vw=1280, vh=800,
                                  acquisition=Acquisition(channel=channel, utm_campaign=campaign)))
            for _ in range(rng.randrange(1, 3)):
                ts += rng.randrange(500, 5_000)
                rage = rng.random() < 0.02
                rows.append(self._row("click", ts, anon, sid, url, "button.buy", {"x": 10, "y": 20},
                                      rage=rage))
            ts += 1000
            rows.append(self._row("scroll", ts, anon, sid, url, None, {"depth": 80}))
        if cart:
            sku = f"sku-{rng.randrange(50)}"
            item = {"sku": sku, "name": sku.upper(), "price": 20.0, "qty": 1}
            ts += 3000
            rows.append(self._row("cart", ts, anon, sid, pages[-1], "add", {"action": "add", "item": item}))
            if rng.random() < 0.4:
                ts += 30_000
                rows.append(self._row("purchase", ts, anon, sid, "https://shop.example/checkout",
                                      f"o{n}", {"order_id": f"o{n}", "value": 20.0, "items": [item]},
                                      revenue=20.0))
        if rng.random() < 0.05:
            ts += 2000
            score = rng.randrange(11)
            rows.append(self._row("survey", ts, anon, sid, pages[-1], "nps",
                                  {"kind": "nps", "score": score, "comment": "ok" if score < 5 else None}))
        extra = self.extra
        rows.append(self._row("vital", rows[0].ts + 500, anon, sid, pages[0], "LCP",
                              {"name": "LCP", "value": extra.randrange(500, 6000)}))
        if extra.random() < 0.2:
            rows.append(self._row("track", ts, anon, sid, pages[-1], "signup",
                                  {"name": "signup", "props": {"plan": extra.choice(["free", "pro"])}}))
        if extra.random() < 0.03:
            rows.append(self._row("error", ts, anon, sid, pages[-1], "TypeError: x is undefined",
                                  {"message": "TypeError: x is undefined", "source": "app.js"}))
        context = Context(device=device, browser=browser, country=rng.choice(COUNTRIES),
                          is_bot=rng.random() < 0.01)
        return WriteBatch(site_id=SITE, received_at=ts, context=context, events=rows)


def generate(path: Path, sessions: int) -> Generator:
    store = SQLiteStore(path, synchronous="OFF")
    store.add_site(SITE, "Bench shop", key="wk_bench")
    store.close()
    gen = Generator(sessions)
    conn = connect(path, synchronous="OFF")
    group: list[WriteBatch] = []
    for n in range(sessions):
        group.append(gen.session(n))
        if len(group) == 500:
            apply_group(conn, group)
            group = []
    if group:
        apply_group(conn, group)
    conn.execute("ANALYZE")
    conn.close()
    return gen


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k events instead of 1M")
    parser.add_argument("--db", type=Path, help="reuse or create this SQLite file")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n_sessions = 10_000 if args.quick else 100_000
    folder = tempfile.TemporaryDirectory()
    path = args.db or Path(folder.name) / "bench.db"
    started = time.perf_counter()
    fresh = not path.exists()
    gen = generate(path, n_sessions) if fresh else Generator(n_sessions)
    store = SQLiteStore(path, synchronous="OFF")
    with store.read() as conn:
        (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (n_sessions,) = conn.execute("SELECT count(*) FROM sessions").fetchone()
        if fresh:
            print(f"generated {events} events in {n_sessions} sessions in "
                  f"{time.perf_counter() - started:.1f} s")
        end = gen.start + DAYS * DAY_MS
        everything = Scope(SITE, gen.start, end)
        last30 = Scope(SITE, end - 30 * DAY_MS, end)
        mobile = build_scope(SITE, {}, gen.start, end, {"device": "mobile", "converted": "1"})
        goals = tuple((i, d["value"], goal_of(d)) for i, d in enumerate([
            {"kind": "pageview", "value": "/cart"}, {"kind": "event", "value": "cart"},
            {"kind": "custom", "value": "signup", "property": {"key": "plan", "value": "pro"}},
        ]))
        steps = [funnel.Step(type="pageview", url="/"), funnel.Step(type="pageview", url="/product/*"),
                 funnel.Step(type="purchase")]
        cases: dict[str, Callable[[], object]] = {
            "scan": lambda: conn.execute("SELECT max(length(data)) FROM events").fetchone(),
            "overview_30d": lambda: overview.overview(conn, last30),
            "sessions_page": lambda: sessions.list_in_scope(conn, everything, limit=50),
            "sessions_filtered": lambda: sessions.list_in_scope(conn, mobile, limit=50),
            "funnel_3_steps": lambda: funnel.funnel(conn, everything, steps, 3600),
            "paths": lambda: paths.paths(conn, last30, "/cart"),
            "retention": lambda: retention.retention(conn, everything),
            "commerce_30d": lambda: commerce.commerce(conn, last30),
            "surveys_30d": lambda: surveys.surveys(conn, last30),
            "person": lambda: persons.person(conn, SITE, "v42"),
            # the daily tools
            "overview_1d_hourly": lambda: overview.overview(conn, Scope(SITE, end - DAY_MS, end), width=3_600_000),
            "overview_30d_goals": lambda: overview.overview(conn, last30, goals=goals),
            "suggest_page": lambda: suggest.suggest(conn, last30, "page", "prod", 20),
            "events_30d": lambda: custom_events.custom_events(conn, last30, "signup"),
            "vitals_30d": lambda: vitals_report.report(vitals.vital_values(conn, last30)),
            "errors_30d": lambda: vitals.errors(conn, last30),
            "live": lambda: live.live(conn, SITE, end - DAY_MS // 2),
        }
        results = {name: timed(run, args.repeat) for name, run in cases.items()}
    store.close()
    scan = results["scan"]
    print(f"{'query':<20}{'median ms':>12}{'x scan':>10}")
    for name, ms in results.items():
        print(f"{name:<20}{ms:>12.1f}{ms / scan:>10.2f}")
    key = ("overview_30d", "sessions_page", "sessions_filtered", "funnel_3_steps", "paths")
    figures = ", ".join(f"{name} {results[name]:.0f} ms ({results[name] / scan:.2f}x scan)" for name in key)
    print(f"RESULT query: {events} events, {n_sessions} sessions; scan {scan:.0f} ms; {figures}")


if __name__ == "__main__":
    main()
