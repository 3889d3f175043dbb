"""The same shop traffic in SQLite and in ClickHouse (chdb), same run: load time, bytes per event,
and every analyst question's time side by side, with ClickHouse's time as a share of SQLite's.

    .venv/bin/python bench/scale.py [--quick] [--sessions N] [--repeat 3] [--dir DIR] [--only a,b]

Default 500,000 sessions (about 5M events over 60 days: shop sessions that browse, click, scroll,
sometimes cart, buy or answer a survey); --quick is
10,000 sessions. Both stores are filled through their own write path (each engine's group apply,
500 sessions a group) and asked through the engine-neutral Store methods the API calls (the
journey map is the store's question too: SQLite counts its touches as columns with numpy,
ClickHouse answers in SQL). With `--dir` the stores, their load times and sizes are kept there and
reused as they are by the next run (loading 5M events takes minutes), so that a change to the read side is
measured on the very same data.

    .venv/bin/python bench/scale.py --dir DIR --against REV [--turns 3] [--only a,b]

times the questions with the code of git revision REV beside this checkout's, on the stores in
DIR: each code in its own process, the two taking turns (a machine that drifts between runs
drifts for both), each question warmed once and then timed `--repeat` times; it prints each
engine's times under both codes, their ratio, and whether every answer is the same.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# `--against`: a child process times the questions with another revision's collector (its code root here)
CODE_ENV = "TRAILMARK_BENCH_CODE"
sys.path.insert(0, os.environ.get(CODE_ENV) or str(ROOT))

from collector.query.funnel import Step  # noqa: E402
from collector.query.heatmap import Scope as HeatmapScope  # noqa: E402
from collector.query.journey import DEFAULT_STAGES  # noqa: E402
from collector.query.scope import Scope, build_scope  # noqa: E402
from collector.store import SQLiteStore, Store  # noqa: E402
from collector.store.clickhouse import ClickHouseStore  # noqa: E402
from collector.store.clickhouse.transaction import apply_group as clickhouse_group  # noqa: E402
from collector.store.model import Acquisition, Context, EventRow, WriteBatch  # noqa: E402
from collector.store.sqlite import connect  # noqa: E402
from collector.store.sqlite.transaction import apply_group as sqlite_group  # noqa: E402
from collector.wire import json_encoder  # noqa: E402

GROUP = 500
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DAYS = 60
SITE = "bench"
DEVICES = [("desktop", "Chrome"), ("desktop", "Firefox"), ("mobile", "Safari"), ("mobile", "Chrome"),
           ("tablet", "Safari")]
COUNTRIES = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL"]
CHANNELS = [("direct", None), ("organic", None), ("paid", "spring"), ("email", "newsletter"),
            ("social", "launch")]


class Generator:
    """Sessions that look like a shop's: browse, sometimes cart, sometimes buy or answer a survey."""

    def __init__(self, sessions: int, seed: int = 8, start: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.sessions = sessions
        self.visitors = max(1, int(sessions * 0.6))
        self.start = start if start is not None else (int(time.time() * 1000) // DAY_MS - DAYS + 1) * DAY_MS
        self.events = 0

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
                # the flags in the JSON too, as ingest stores a click (pipeline.to_row)
                rows.append(self._row("click", ts, anon, sid, url, "button.buy",
                                      {"x": 10, "y": 20, "rage": rage, "dead": False}, rage=rage))
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
        context = Context(device=device, browser=browser, country=rng.choice(COUNTRIES),
                          is_bot=rng.random() < 0.01)
        return WriteBatch(site_id=SITE, received_at=ts, context=context, events=rows)





def batches(sessions: int) -> tuple[Generator, list[list[WriteBatch]]]:
    gen = Generator(sessions)
    groups: list[list[WriteBatch]] = []
    for n in range(sessions):
        if n % GROUP == 0:
            groups.append([])
        groups[-1].append(gen.session(n))
    return gen, groups


def load_sqlite(path: Path, groups: list[list[WriteBatch]]) -> float:
    store = SQLiteStore(path, synchronous="OFF")
    store.add_site(SITE, "Bench shop", key="wk_bench")
    store.close()
    conn = connect(path, synchronous="OFF")
    started = time.perf_counter()
    for group in groups:
        sqlite_group(conn, group)
    conn.execute("ANALYZE")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def load_clickhouse(store: ClickHouseStore, groups: list[list[WriteBatch]]) -> float:
    store.add_site(SITE, "Bench shop", key="wk_bench")
    started = time.perf_counter()
    for group in groups:
        clickhouse_group(store.db, group)
    return time.perf_counter() - started


def clickhouse_bytes(store: ClickHouseStore) -> int:
    """The bytes of the store's tables on disk: the MergeTree tables' parts, and the key-value
    table of event ids (collector/store/clickhouse/event_ids.py), which has none."""
    database = f"'{store.layout.database}'"
    ((parts, other),) = store.db.rows(
        f"SELECT (SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {database} AND active),"
        f" (SELECT sum(total_bytes) FROM system.tables WHERE database = {database} AND engine = 'EmbeddedRocksDB')"
    )
    return int(parts) + int(other or 0)


def cases(start: int) -> dict[str, Callable[[Store], Any]]:
    end = start + DAYS * DAY_MS
    everything = Scope(SITE, start, end)
    last30 = Scope(SITE, end - 30 * DAY_MS, end)
    last7 = Scope(SITE, end - 7 * DAY_MS, end)
    mobile = build_scope(SITE, {}, start, end, {"device": "mobile", "converted": "1"})
    mobile30 = build_scope(SITE, {}, end - 30 * DAY_MS, end, {"device": "mobile"})
    on_cart = build_scope(SITE, {}, end - 30 * DAY_MS, end, {"page": "/cart"})
    one_day = Scope(SITE, end - 2 * DAY_MS, end - DAY_MS)
    steps = [Step(type="pageview", url="/"), Step(type="pageview", url="/product/*"), Step(type="purchase")]
    clicks = HeatmapScope(SITE, "/product/*", "", end - 30 * DAY_MS, end)
    return {
        "overview_30d": lambda s: s.overview(last30),
        "overview_mobile_30d": lambda s: s.overview(mobile30),
        "overview_hourly_day": lambda s: s.overview(one_day, width=HOUR_MS),
        "sessions_page": lambda s: s.sessions_page(everything, limit=50, cursor=None),
        "sessions_filtered": lambda s: s.sessions_page(mobile, limit=50, cursor=None),
        "sessions_on_cart_30d": lambda s: s.sessions_page(on_cart, limit=50, cursor=None),
        "session": lambda s: s.session("s4242", SITE),
        "people_30d": lambda s: s.people(last30, sort="sessions", descending=True, limit=50, offset=0),
        "person": lambda s: s.person(SITE, "v42"),
        "funnel_3_steps": lambda s: s.funnel(everything, steps, 3600),
        "paths": lambda s: s.paths(last30, "/cart", 3),
        "paths_top_page_30d": lambda s: s.paths(last30, s.top_page(last30) or "/", 3),
        "retention": lambda s: s.retention(everything, 8),
        "commerce_30d": lambda s: s.commerce(last30),
        "surveys_30d": lambda s: s.surveys(last30, None),
        "suggest_page_30d": lambda s: s.suggest(last30, "page", "prod", 10),
        "heatmap_pages_30d": lambda s: s.heatmap_pages(SITE, end - 30 * DAY_MS, end),
        "heatmap_clicks": lambda s: s.heatmap_clicks(clicks),
        "heatmap_scroll": lambda s: s.heatmap_scroll(clicks),
        "journey_map_7d": lambda s: s.journey_map(last7, DEFAULT_STAGES),
    }


def timed(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs in ms, and the answer."""
    times, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), answer


def load(work: Path, n_sessions: int) -> dict[str, Any]:
    """Both stores filled with the same sessions in `work`, and what loading them measured."""
    gen, groups = batches(n_sessions)
    sqlite_load = load_sqlite(work / "scale.db", groups)
    chdb = ClickHouseStore(f"chdb://{work / 'chdb'}")
    clickhouse_load = load_clickhouse(chdb, groups)
    chdb.conn.command(f"OPTIMIZE TABLE {chdb.db.t('sessions')} FINAL")  # as background merges would, given time
    plan = {
        "start": gen.start, "sessions": n_sessions, "events": gen.events,
        "sqlite_load": sqlite_load, "clickhouse_load": clickhouse_load,
        "sqlite_bytes": sum(p.stat().st_size for p in work.glob("scale.db*")), "chdb_bytes": clickhouse_bytes(chdb),
    }
    chdb.close()
    (work / "scale.json").write_text(json.dumps(plan))
    return plan


ENGINES = ("sqlite", "chdb")


def open_engine(work: Path, engine: str) -> Store:
    if engine == "sqlite":
        return SQLiteStore(work / "scale.db", synchronous="OFF")
    return ClickHouseStore(f"chdb://{work / 'chdb'}")


def digest(answer: object) -> str:
    """An answer's fingerprint, the same for equal answers whatever the order of their keys."""
    return hashlib.sha256(json.dumps(answer, sort_keys=True, default=str).encode()).hexdigest()


def engine_times(work: Path, engine: str, start: int, repeat: int, only: set[str]) -> dict[str, tuple[float, str]]:
    """Each question's median time on one engine (warmed once first) and its answer's digest."""
    store = open_engine(work, engine)
    found = {}
    for name, ask in cases(start).items():
        if not only or name in only:
            ask(store)
            ms, answer = timed(functools.partial(ask, store), repeat)
            found[name] = (ms, digest(answer))
    store.close()
    return found


def against(work: Path, revision: str, turns: int, repeat: int, only: set[str]) -> None:
    """The questions timed with `revision`'s code and with this checkout's, taking turns."""
    with tempfile.TemporaryDirectory() as code:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True, capture_output=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(code, filter="data")
        roots = {revision: code, "this checkout": str(ROOT)}
        runs: dict[tuple[str, str], list[dict[str, tuple[float, str]]]] = {
            (label, engine): [] for label in roots for engine in ENGINES}
        for turn in range(turns):
            for engine in ENGINES:
                for label, root in roots.items():
                    child = subprocess.run(
                        [sys.executable, __file__, "--dir", str(work), "--repeat", str(repeat),
                         "--only", ",".join(sorted(only)), "--times", engine],
                        env={**os.environ, CODE_ENV: root}, check=True, capture_output=True, text=True,
                    )
                    runs[(label, engine)].append(json.loads(child.stdout.splitlines()[-1]))
            print(f"turn {turn + 1} of {turns} done", file=sys.stderr, flush=True)
    labels = list(roots)
    print(f"median of {turns} turns of the median of {repeat}, ms; each code in its own process, taking turns")
    totals: dict[tuple[str, str], float] = {}
    differ: list[str] = []
    for engine in ENGINES:
        print(f"{engine:<24}{labels[0][:12]:>12}{'this':>12}{'ratio':>8}")
        for name in runs[(labels[0], engine)][0]:
            ms = [statistics.median(run[name][0] for run in runs[(label, engine)]) for label in labels]
            answers = {run[name][1] for label in labels for run in runs[(label, engine)]}
            if len(answers) > 1:
                differ.append(f"{engine} {name}")
            for label, value in zip(labels, ms, strict=True):
                totals[(label, engine)] = totals.get((label, engine), 0.0) + value
            print(f"{name + ' ms':<24}{ms[0]:>12.1f}{ms[1]:>12.1f}{ms[1] / ms[0]:>8.2f}"
                  f"{'  ANSWERS DIFFER' if len(answers) > 1 else ''}")
        old, new = (totals[(label, engine)] for label in labels)
        print(f"{'all questions ms':<24}{old:>12.1f}{new:>12.1f}{new / old:>8.2f}")
    shares = [totals[(label, "chdb")] / totals[(label, "sqlite")] for label in labels]
    print(f"RESULT scale against {revision}: chdb {totals[(labels[1], 'chdb')] / totals[(labels[0], 'chdb')]:.2f}"
          f" and SQLite {totals[(labels[1], 'sqlite')] / totals[(labels[0], 'sqlite')]:.2f} of {revision}'s time;"
          f" chdb/SQLite {shares[0]:.2f} -> {shares[1]:.2f} (target 0.2);"
          f" answers {'identical' if not differ else 'DIFFER in ' + ', '.join(differ)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 sessions instead of 500,000")
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="keep the stores in this folder; reuse what is there")
    parser.add_argument("--only", default="", help="comma-separated questions to time")
    parser.add_argument("--against", metavar="REV", help="time a git revision's code beside this checkout's (needs --dir)")
    parser.add_argument("--turns", type=int, default=3, help="with --against: turns each code takes")
    parser.add_argument("--times", choices=ENGINES, help="time one engine and print JSON (what --against runs)")
    args = parser.parse_args()
    if (args.against or args.times) and args.dir is None:
        parser.error("--against and --times time the stores kept in --dir")
    n_sessions = args.sessions or (10_000 if args.quick else 500_000)
    folder = tempfile.TemporaryDirectory()
    work = args.dir or Path(folder.name)
    work.mkdir(parents=True, exist_ok=True)
    saved = work / "scale.json"
    plan = json.loads(saved.read_text()) if saved.exists() else load(work, n_sessions)
    if plan["sessions"] != n_sessions:
        print(f"{work} holds {plan['sessions']} sessions: timing those", file=sys.stderr)
    only = {name for name in args.only.split(",") if name}
    if args.times:
        print(json.dumps(engine_times(work, args.times, plan["start"], args.repeat, only)))
        return
    if args.against:
        against(work, args.against, args.turns, args.repeat, only)
        return
    events, sqlite_load, clickhouse_load = plan["events"], plan["sqlite_load"], plan["clickhouse_load"]
    sqlite_bytes, chdb_bytes = plan["sqlite_bytes"], plan["chdb_bytes"]
    sqlite, chdb = (open_engine(work, engine) for engine in ENGINES)

    print(f"{events} events in {plan['sessions']} sessions over {DAYS} days")
    print(f"{'':<24}{'SQLite':>12}{'chdb':>12}{'ratio':>8}")
    print(f"{'load s':<24}{sqlite_load:>12.1f}{clickhouse_load:>12.1f}{clickhouse_load / sqlite_load:>8.2f}")
    print(f"{'bytes per event':<24}{sqlite_bytes / events:>12.0f}{chdb_bytes / events:>12.0f}"
          f"{chdb_bytes / sqlite_bytes:>8.2f}")
    totals = [0.0, 0.0]
    mismatched: list[str] = []
    over: list[str] = []
    for name, ask in cases(plan["start"]).items():
        if only and name not in only:
            continue
        ms_sqlite, answer_sqlite = timed(functools.partial(ask, sqlite), args.repeat)
        ms_chdb, answer_chdb = timed(functools.partial(ask, chdb), args.repeat)
        totals[0] += ms_sqlite
        totals[1] += ms_chdb
        if ms_chdb > 300:
            over.append(name)
        same = answer_sqlite == answer_chdb
        if not same:
            mismatched.append(name)
        print(f"{name + ' ms':<24}{ms_sqlite:>12.1f}{ms_chdb:>12.1f}{ms_chdb / ms_sqlite:>8.2f}"
              f"{'' if same else '  ANSWERS DIFFER'}", flush=True)
    print(f"{'all questions ms':<24}{totals[0]:>12.1f}{totals[1]:>12.1f}{totals[1] / totals[0]:>8.2f}")
    sqlite.close()
    chdb.close()
    print(f"RESULT scale: {events} events; chdb/SQLite time {totals[1] / totals[0]:.2f} (target 0.2),"
          f" bytes {chdb_bytes / sqlite_bytes:.2f} (target 0.3), load {clickhouse_load / sqlite_load:.2f};"
          f" chdb over 300 ms: {', '.join(over) or 'none'};"
          f" answers {'identical' if not mismatched else 'DIFFER in ' + ', '.join(mismatched)}")


if __name__ == "__main__":
    main()
