"""Time every analyst endpoint over HTTP on a shop's traffic loaded through POST /v1/batch.

    .venv/bin/python bench/query.py [--sessions 20000] [--db PATH] [--repeat 3]

Generates `--sessions` shop sessions over 6 days (about 10 events each: pageviews of `/`,
`/product/N` and `/cart`, clicks, scrolls, cart adds, purchases, some NPS answers and
identifies) and posts each session as one request to /v1/batch of the collector in this process
(the ASGI interface, many requests in flight so that group commit works as under real traffic).
Then serves the same file with a real uvicorn on loopback and times each analyst endpoint over
HTTP (median of `--repeat` calls), printing its ratio to `GET /api/sites` measured in the same
run: that call does the same HTTP, auth and JSON work and reads nothing but the sites table.
With `--db` an existing file is reused as it is (no loading).
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
from collector.store import SQLiteStore  # noqa: E402

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


def load(path: Path, sessions: int, end_ms: int) -> tuple[int, float]:
    """Post every session through /v1/batch of an in-process collector; returns (events, seconds)."""
    store = SQLiteStore(path, synchronous="NORMAL")
    store.add_site(SITE, "Bench shop", key=KEY)
    settings = Settings(db=path, geoip=GEO_DB, trusted_proxies=(PROXY,), rate_limit=0.0,
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
def serving(path: Path) -> Iterator[str]:
    """A real uvicorn on loopback serving the file, as `trailmark serve` would."""
    settings = Settings(db=path, admin_token=TOKEN, synchronous="NORMAL")
    app = create_app(settings, SQLiteStore(path, synchronous="NORMAL"))
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


def timed(http: httpx.Client, method: str, url: str, body: Any, repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` calls in ms, and the last answer (which must be a 200)."""
    times = []
    answer: Any = None
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.request(method, url, json=body) if body is not None else http.request(method, url)
        times.append((time.perf_counter() - started) * 1000)
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
    segment = http.post("/api/segments", json={"site": SITE, "name": "mobile buyers",
                                               "filters": {"device": "mobile", "converted": "1"}})
    segment_id = segment.json()["id"]
    steps = [{"type": "pageview", "url": "/"}, {"type": "pageview", "url": "/product/*"},
             {"type": "purchase"}]
    for goal in ({"name": "cart page", "kind": "pageview", "value": "/cart"},
                 {"name": "pro signup", "kind": "custom", "value": "signup",
                  "property": {"key": "plan", "value": "pro"}}):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20_000, help="shop sessions to load")
    parser.add_argument("--db", type=Path, help="reuse this SQLite file, or load into it if absent")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    path = args.db or Path(folder.name) / "bench.db"
    end_ms = int(time.time() * 1000) // HOUR_MS * HOUR_MS
    if not path.exists():
        events, seconds = load(path, args.sessions, end_ms)
        print(f"loaded {events} events in {args.sessions} sessions through /v1/batch in {seconds:.0f} s"
              f" ({events / seconds:.0f} events/s)")
    store = SQLiteStore(path)
    with store.read() as conn:
        (events,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (sessions, first, last) = conn.execute("SELECT count(*), min(first_ts), max(first_ts) FROM sessions").fetchone()
    store.close()
    start, end = day(first), day(last)
    results: dict[str, float] = {}
    with serving(path) as url, httpx.Client(base_url=url, timeout=600,
                                             headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for name, (method, target, body) in cases(http, start, end).items():
            timed(http, method, target, body, 1)  # warm the page cache and the reader pool
            results[name], _ = timed(http, method, target, body, args.repeat)
    baseline = results["sites (baseline)"]
    print(f"{events} events, {sessions} sessions, {start}..{end}; median of {args.repeat} over HTTP")
    print(f"{'endpoint':<22}{'median ms':>11}{'x sites':>10}")
    for name, ms in results.items():
        print(f"{name:<22}{ms:>11.1f}{ms / baseline:>10.1f}")
    slowest = max((n for n in results if n != "sites (baseline)"), key=results.__getitem__)
    key = ("overview", "sessions", "funnel_3_steps", "paths_cart", "commerce", "retention")
    figures = ", ".join(f"{name} {results[name]:.0f} ms" for name in key)
    print(f"RESULT query: {events} events, {sessions} sessions over HTTP; sites {baseline:.1f} ms;"
          f" {figures}; slowest {slowest} {results[slowest]:.0f} ms ({results[slowest] / baseline:.0f}x sites)")


if __name__ == "__main__":
    main()
