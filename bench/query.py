"""Time every analyst endpoint over HTTP on a shop's traffic loaded through POST /v1/batch.

    .venv/bin/python bench/query.py [--sessions 20000] [--store sqlite|chdb|both] [--dir DIR] [--repeat 3]

Generates `--sessions` shop sessions over 6 days (about 10 events each: pageviews of `/`,
`/product/N` and `/cart`, clicks, scrolls, cart adds, purchases, some NPS answers and
identifies) and posts each session as one request to /v1/batch of the collector in this process
(the ASGI interface, many requests in flight so that group commit works as under real traffic).
Then serves each store with a real uvicorn on loopback and times each analyst endpoint over
HTTP (median of `--repeat` calls). With both engines (the default) the very same sessions go
into SQLite and into ClickHouse (chdb), and each endpoint prints its ClickHouse time as a share
of SQLite's, measured in the same run, and whether the two answers differ. With one engine each
endpoint prints its ratio to `GET /api/sites`, which does the same HTTP, auth and JSON work and
reads nothing but the sites table. With `--dir` the stores are kept there and reused as they
are on the next run (no loading); `--dir` also keeps the end hour, so a store loaded later
holds the same sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collector import asgi  # noqa: E402
from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.demo.journeys import USER_AGENTS  # noqa: E402
from collector.demo.places import GEO_DB, PLACES  # noqa: E402
from collector.store import open_store  # noqa: E402

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DAYS = 6
SITE = "bench"
KEY = "wk_bench"
TOKEN = "bench-admin-token"
PROXY = "127.0.0.1"
BASE = "https://shop.example"
IN_FLIGHT = 64  # requests in flight while loading: enough for the writer's group commit to fill


class Shop:
    """Sessions that look like a shop's: browse, sometimes cart, sometimes buy, identify or answer NPS."""

    def __init__(self, sessions: int, end_ms: int, seed: int = 16) -> None:
        self.rng = random.Random(seed)
        self.sessions = sessions
        self.visitors = max(1, int(sessions * 0.6))
        self.end = end_ms
        self.start = end_ms - DAYS * DAY_MS
        self.events = 0
        # Vitals, custom events and errors draw from their own generator, so that every other
        # event stays as it was before they were added.
        self.extra = random.Random(seed + 1)

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def session(self, n: int) -> tuple[dict[str, Any], str, str]:
        """One session's batch, its user agent and its client address."""
        rng = self.rng
        visitor = rng.randrange(self.visitors)
        anon, sid = f"a{visitor}", f"s{n}"
        ts = self.start + rng.randrange(DAYS * DAY_MS - 2 * HOUR_MS)
        device = rng.choices(list(USER_AGENTS), weights=(48, 44, 8))[0]
        agent = rng.choice(USER_AGENTS[device])[0]
        vw = {"desktop": 1440, "mobile": 390, "tablet": 820}[device]
        place = rng.choices(PLACES, weights=[p.weight for p in PLACES])[0]
        events: list[dict[str, Any]] = []

        def add(event_type: str, url: str, **fields: Any) -> None:
            events.append({"id": self._id(), "type": event_type, "ts": ts, "anon_id": anon, "session_id": sid,
                           "url": url, "vw": vw, "vh": 800, **fields})

        pages = ["/"] + [f"/product/{rng.randrange(200)}" for _ in range(rng.randrange(0, 4))]
        cart = rng.random() < 0.3
        if cart:
            pages.append("/cart")
        referrer = rng.choice(["", "https://www.google.com/", "https://news.example/"])
        for index, path in enumerate(pages):
            ts += rng.randrange(5_000, 60_000)
            extra = {"referrer": referrer} if index == 0 and referrer else {}
            add("pageview", BASE + path, title=path, **extra)
            for _ in range(rng.randrange(1, 3)):
                ts += rng.randrange(500, 5_000)
                add("click", BASE + path, x=rng.randrange(1200), y=rng.randrange(2000), sel="button.buy",
                    tag="button", text="Buy", rx=rng.random(), ry=rng.random(), dw=1280, dh=2400,
                    rage=rng.random() < 0.02)
            ts += 1000
            add("scroll", BASE + path, depth=rng.randrange(10, 101), dh=2400)
        if cart:
            sku = f"sku-{rng.randrange(50)}"
            item = {"sku": sku, "name": sku.upper(), "price": 20.0, "qty": 1, "currency": "EUR"}
            ts += 3000
            add("cart", BASE + "/cart", action="add", item=item)
            if rng.random() < 0.4:
                if rng.random() < 0.5:  # buyers often log in: their anonymous ids merge into one user
                    ts += 1000
                    add("identify", BASE + "/cart", user_id=f"u{visitor % (self.visitors // 3 + 1)}")
                ts += 30_000
                add("purchase", BASE + "/checkout", order_id=f"o{n}", value=20.0, currency="EUR",
                    items=[item])
        if rng.random() < 0.05:
            ts += 2000
            add("survey", BASE + pages[-1], kind="nps", score=rng.randrange(11),
                comment="ok" if rng.random() < 0.3 else None)
        extra = self.extra
        add("vital", BASE + pages[0], name="LCP", value=extra.randrange(500, 6000))
        if extra.random() < 0.2:
            add("track", BASE + pages[-1], name="signup", props={"plan": extra.choice(["free", "pro"])})
        if extra.random() < 0.03:
            add("error", BASE + pages[-1], message="TypeError: x is undefined", source=BASE + "/app.js")
        self.events += len(events)
        return {"key": KEY, "events": events}, agent, place.address(rng.randrange(1 << 16))


def store_url(engine: str, folder: Path) -> str:
    return f"sqlite://{folder / 'bench.db'}" if engine == "sqlite" else f"chdb://{folder / 'chdb'}"


def stored(engine: str, folder: Path) -> bool:
    return (folder / ("bench.db" if engine == "sqlite" else "chdb")).exists()


def load(url: str, sessions: int, end_ms: int) -> tuple[int, float]:
    """Post every session through /v1/batch of an in-process collector; returns (events, seconds)."""
    store = open_store(url, synchronous="NORMAL")
    store.add_site(SITE, "Bench shop", key=KEY)
    settings = Settings(store=url, geoip=GEO_DB, trusted_proxies=(PROXY,), rate_limit=0.0,
                        site_rate_limit=0.0, synchronous="NORMAL", admin_token=TOKEN)
    app = create_app(settings, store)
    shop = Shop(sessions, end_ms)
    started = time.perf_counter()
    asyncio.run(_post_all(app, shop))
    return shop.events, time.perf_counter() - started


async def _post_all(app: Any, shop: Shop) -> None:
    async with app.router.lifespan_context(app):  # the store's writer starts, then drains at the end
        pending: set[asyncio.Task[None]] = set()
        for n in range(shop.sessions):
            if len(pending) >= IN_FLIGHT:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
            pending.add(asyncio.create_task(_post(app, *shop.session(n))))
            if n % 10_000 == 9_999:
                print(f"  {n + 1} sessions posted", file=sys.stderr)
        if pending:
            await asyncio.gather(*pending)


async def _post(app: Any, batch: dict[str, Any], agent: str, ip: str) -> None:
    body = msgspec.json.encode(batch)
    status, answer = await asgi.call(app, "POST", "/v1/batch", body=body, client=(PROXY, 50000), headers=[
        (b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
        (b"user-agent", agent.encode()), (b"x-forwarded-for", ip.encode()),
    ])
    decoded = msgspec.json.decode(answer)
    if status != 200 or decoded.get("rejected"):
        raise RuntimeError(f"/v1/batch answered {status}: {decoded!r}")


@contextmanager
def serving(url: str) -> Iterator[str]:
    """A real uvicorn on loopback serving the store, as `trailmark serve` would."""
    settings = Settings(store=url, admin_token=TOKEN, synchronous="NORMAL")
    app = create_app(settings, open_store(url, synchronous="NORMAL"))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(http: httpx.Client, method: str, url: str, body: Any, repeat: int) -> tuple[float | None, Any]:
    """Median wall time of `repeat` calls in ms and the last answer; (None, None) when the store
    does not answer that question (501), and any other answer but a 200 is an error."""
    times = []
    answer: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.request(method, url, json=body) if body is not None else http.request(method, url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code == 501:
            return None, None
        if response.status_code != 200:
            raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
        answer = response.json()
    return statistics.median(times), answer


def cases(http: httpx.Client, start: str, end: str) -> dict[str, tuple[str, str, Any]]:
    """Every analyst endpoint as the dashboard calls it, over the loaded days."""
    rng = f"site={SITE}&from={start}&to={end}"
    # a busy visitor (most sessions), a session of theirs, and a saved segment to filter by
    people = http.get(f"/api/sessions?{rng}&limit=500&converted=1").json()["sessions"]
    visitor = max(people, key=lambda s: s["visitor_id"].startswith("u"))["visitor_id"]
    session_id = people[0]["id"]
    # Made once: a store kept with --dir is timed again as it was
    segments = {s["name"]: s["id"] for s in http.get(f"/api/segments?site={SITE}").json()["segments"]}
    if "mobile buyers" not in segments:
        segment = http.post("/api/segments", json={"site": SITE, "name": "mobile buyers",
                                                   "filters": {"device": "mobile", "converted": "1"}})
        segments["mobile buyers"] = segment.json()["id"]
    segment_id = segments["mobile buyers"]
    steps = [{"type": "pageview", "url": "/"}, {"type": "pageview", "url": "/product/*"},
             {"type": "purchase"}]
    goals = {g["name"] for g in http.get(f"/api/goals?site={SITE}").json()["goals"]}
    for goal in ({"name": "cart page", "kind": "pageview", "value": "/cart"},
                 {"name": "pro signup", "kind": "custom", "value": "signup",
                  "property": {"key": "plan", "value": "pro"}}):
        if goal["name"] not in goals:
            http.post("/api/goals", json={"site": SITE, **goal}).raise_for_status()
    return {
        "sites (baseline)": ("GET", "/api/sites", None),
        "overview": ("GET", f"/api/overview?{rng}", None),
        "overview_filtered": ("GET", f"/api/overview?{rng}&device=mobile", None),
        "sessions": ("GET", f"/api/sessions?{rng}", None),
        "sessions_filtered": ("GET", f"/api/sessions?{rng}&device=mobile&converted=1", None),
        "sessions_page_filter": ("GET", f"/api/sessions?{rng}&page=/cart", None),
        "sessions_segment": ("GET", f"/api/sessions?{rng}&segment={segment_id}", None),
        "session": ("GET", f"/api/sessions/{session_id}?site={SITE}", None),
        "funnel_3_steps": ("POST", "/api/funnel", {"site": SITE, "steps": steps, "window_s": 3600,
                                                   "from": start, "to": end}),
        "paths_cart": ("GET", f"/api/paths?{rng}&from_url=/cart", None),
        "paths_top_page": ("GET", f"/api/paths?{rng}", None),
        "retention": ("GET", f"/api/retention?{rng}", None),
        "commerce": ("GET", f"/api/commerce?{rng}", None),
        "surveys": ("GET", f"/api/surveys?{rng}", None),
        "journey_map": ("GET", f"/api/journey-map?{rng}", None),
        "predictions_train": ("POST", f"/api/predictions/train?site={SITE}", None),
        "predictions": ("GET", f"/api/predictions?site={SITE}", None),
        "person": ("GET", f"/api/persons/{visitor}?site={SITE}", None),
        "segments": ("GET", f"/api/segments?site={SITE}", None),
        "heatmap_pages": ("GET", f"/api/heatmap/pages?{rng}", None),
        "heatmap_clicks": ("GET", f"/api/heatmap?{rng}&url=/product/:id&kind=click", None),
        "heatmap_clicks_page": ("GET", f"/api/heatmap?{rng}&url=/product/7&kind=click&device=mobile", None),
        "heatmap_scroll": ("GET", f"/api/heatmap?{rng}&url=/&kind=scroll", None),
        "rejected": ("GET", f"/api/rejected?site={SITE}", None),
        # the daily tools
        "overview_hourly_day": ("GET", f"/api/overview?site={SITE}&from={end}&to={end}&interval=auto", None),
        "overview_referrer": ("GET", f"/api/overview?{rng}&referrer=news.example", None),
        "suggest_page": ("GET", f"/api/suggest?{rng}&field=page&q=prod", None),
        "events": ("GET", f"/api/events?{rng}&name=signup", None),
        "vitals": ("GET", f"/api/vitals?{rng}", None),
        "errors": ("GET", f"/api/errors?{rng}", None),
        "live": ("GET", f"/api/live?site={SITE}", None),
    }


def day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))


def measure(url: str, start: str, end: str, repeat: int, only: set[str]) -> dict[str, tuple[float | None, Any]]:
    """Each endpoint's median time in ms and its answer, over HTTP from a store served alone."""
    results: dict[str, tuple[float | None, Any]] = {}
    with serving(url) as base, httpx.Client(base_url=base, timeout=600,
                                            headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for name, (method, target, body) in cases(http, start, end).items():
            if only and name not in only | {"sites (baseline)", "overview"}:
                continue
            timed(http, method, target, body, 1)  # warm the page cache and the reader pool
            results[name] = timed(http, method, target, body, repeat)
            ms = results[name][0]
            print(f"  {url.split(':', 1)[0]} {name}: {'501' if ms is None else f'{ms:.0f} ms'}",
                  file=sys.stderr, flush=True)
    return results


# Answers that depend on the moment they are asked, not only on the stored data.
MOMENTARY = {"live", "predictions_train", "predictions"}
# Fields the server's clock sets as a store takes its traffic: each store is loaded at its own time.
LOADED_AT = {"received_at", "created_at"}


def loaded_alike(answer: Any) -> Any:
    """An answer without the times at which its store took the traffic, to compare across stores."""
    if isinstance(answer, dict):
        return {key: loaded_alike(value) for key, value in answer.items() if key not in LOADED_AT}
    if isinstance(answer, list):
        return [loaded_alike(value) for value in answer]
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20_000, help="shop sessions to load")
    parser.add_argument("--store", choices=("sqlite", "chdb", "both"), default="both",
                        help="the engines to load and time (both: side by side, same data)")
    parser.add_argument("--dir", type=Path, help="keep the stores in this folder; reuse what is there")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated endpoints to time (and the baseline)")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    temporary = tempfile.TemporaryDirectory()
    folder = args.dir or Path(temporary.name)
    folder.mkdir(parents=True, exist_ok=True)
    engines = ["sqlite", "chdb"] if args.store == "both" else [args.store]
    # Both stores get the very same sessions: the same seed and the same last hour.
    plan = folder / "bench.json"
    if plan.exists():
        end_ms, n_sessions, events = msgspec.json.decode(plan.read_bytes(), type=tuple[int, int, int])
        if n_sessions != args.sessions:
            print(f"{folder} holds {n_sessions} sessions: timing those", file=sys.stderr)
    else:
        end_ms, n_sessions, events = int(time.time() * 1000) // HOUR_MS * HOUR_MS, args.sessions, 0
    for engine in engines:
        if not stored(engine, folder):
            events, seconds = load(store_url(engine, folder), n_sessions, end_ms)
            plan.write_bytes(msgspec.json.encode((end_ms, n_sessions, events)))
            print(f"{engine}: loaded {events} events in {n_sessions} sessions through /v1/batch in"
                  f" {seconds:.0f} s ({events / seconds:.0f} events/s)")
    start, end = day(end_ms - DAYS * DAY_MS), day(end_ms)
    results = {engine: measure(store_url(engine, folder), start, end, args.repeat, only) for engine in engines}
    first = results[engines[0]]
    baseline = first["sites (baseline)"][0] or 1.0
    print(f"{events} events in {n_sessions} sessions,"
          f" {start}..{end}; median of {args.repeat} over HTTP, in ms")
    print(f"{'endpoint':<22}" + "".join(f"{engine:>10}" for engine in engines)
          + ("     CH/SQLite" if len(engines) == 2 else "   x sites"))
    over_500: list[str] = []
    differ: list[str] = []
    totals = dict.fromkeys(engines, 0.0)
    for name in first:
        times = [results[engine][name][0] for engine in engines]
        cells = "".join(f"{'501':>10}" if ms is None else f"{ms:>10.1f}" for ms in times)
        over_500 += [f"{engine} {name}" for engine, ms in zip(engines, times, strict=True) if ms and ms > 500]
        if len(engines) == 2:
            sqlite_ms, chdb_ms = times
            note = ""
            if sqlite_ms is not None and chdb_ms is not None:
                totals["sqlite"] += sqlite_ms
                totals["chdb"] += chdb_ms
                note = f"{chdb_ms / sqlite_ms:>14.2f}"
                answers = [loaded_alike(results[engine][name][1]) for engine in engines]
                if name not in MOMENTARY and answers[0] != answers[1]:
                    differ.append(name)
                    note += "  ANSWERS DIFFER"
            print(f"{name:<22}{cells}{note}")
        else:
            ms = times[0]
            print(f"{name:<22}{cells}" + ("" if ms is None else f"{ms / baseline:>10.1f}"))
    summary = ""
    if len(engines) == 2:
        ratio = totals["chdb"] / totals["sqlite"]
        print(f"{'all answered by both':<22}{totals['sqlite']:>10.1f}{totals['chdb']:>10.1f}{ratio:>14.2f}")
        summary = f" chdb/SQLite time {ratio:.2f} (target 0.2), answers differ: {', '.join(differ) or 'none'};"
    key = ("overview", "sessions", "funnel_3_steps", "paths_cart", "commerce", "retention")
    for engine in engines:
        figures = ", ".join(f"{name} {results[engine][name][0] or 0:.0f} ms" for name in key
                            if name in results[engine])
        slowest = max((n for n, (ms, _) in results[engine].items() if ms is not None),
                      key=lambda n: results[engine][n][0] or 0.0)
        summary += f" {engine}: {figures}; slowest {slowest} {results[engine][slowest][0]:.0f} ms;"
    print(f"over 500 ms: {', '.join(over_500) or 'none'}")
    print(f"RESULT query: {events} events, {n_sessions} sessions over HTTP;{summary.rstrip(';')}")

if __name__ == "__main__":
    main()
