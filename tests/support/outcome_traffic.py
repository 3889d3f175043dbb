"""Generated shop traffic for the likely-outcome model, written through the store's writer (it
spans 90 days, past ingest's 7-day window). Fixed seeds: the same rows on every run."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from collector.store.model import Acquisition, Context, EventRow, WriteBatch

DAY_MS = 86_400_000
SHOP = "https://shop.example"
CHANNELS = ("organic", "paid", "email", "direct")
DEVICES = ("desktop", "mobile")


def today_start() -> int:
    today = dt.datetime.now(dt.UTC).date()
    return int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp() * 1000)


class Traffic:
    """Sessions as the store keeps them; `write` sends them through the writer, one batch each."""

    def __init__(self) -> None:
        self.sessions: list[tuple[Context, list[EventRow]]] = []

    def session(self, visitor: str, sid: str, start: int, channel: str, device: str,
                pages: list[str], *, cart: bool = False, buy: bool = False) -> None:
        rows = []
        ts = start
        for i, path in enumerate(pages):
            row = _row(f"{sid}-p{i}", "pageview", ts, visitor, sid, path)
            if i == 0:
                row.acquisition = Acquisition(channel=channel)
            rows.append(row)
            ts += 20_000
        if cart:
            rows.append(_row(f"{sid}-c", "cart", ts, visitor, sid, pages[-1], name="add"))
            ts += 20_000
        if buy:
            rows.append(_row(f"{sid}-b", "purchase", ts, visitor, sid, "/checkout", name=f"o-{sid}", revenue=30.0))
        self.sessions.append((Context(device=device), rows))

    def write(self, store: Any, site_id: str = "test") -> int:
        """Sessions of one device share a batch (a batch has one request context), 2,000 events at most."""
        for device in DEVICES:
            rows = [r for context, own in self.sessions if context.device == device for r in own]
            for i in range(0, len(rows), 2000):
                chunk = rows[i:i + 2000]
                store.write_sync(WriteBatch(site_id=site_id, received_at=max(r.ts for r in chunk),
                                            context=Context(device=device), events=chunk))
        return sum(len(rows) for _, rows in self.sessions)


def _row(eid: str, kind: str, ts: int, visitor: str, sid: str, path: str, name: str | None = None,
         revenue: float = 0.0) -> EventRow:
    return EventRow(id=eid, type=kind, ts=ts, client_ts=ts, anon_id=visitor, user_id=None, session_id=sid,
                    url=SHOP + path, path=path, route=None, name=name, data=b"{}", revenue=revenue)


def planted(now: int, people: int = 4000, seed: int = 7) -> Traffic:
    """Visitors from `paid` who view 3 or more products buy within 5 days with probability 0.85;
    everyone else with 0.04. Each visitor browses once on a random day of the last 84."""
    rng = random.Random(seed)
    traffic = Traffic()
    for n in range(people):
        visitor = f"v{n}"
        start = now - rng.randint(1, 84) * DAY_MS + rng.randint(0, DAY_MS - 3_600_000)
        channel, device = rng.choice(CHANNELS), rng.choice(DEVICES)
        views = rng.randint(0, 5)
        pages = ["/", *(f"/product/{rng.randint(1, 40)}" for _ in range(views))]
        traffic.session(visitor, f"{visitor}-1", start, channel, device, pages, cart=views >= 2 and rng.random() < 0.5)
        p = 0.85 if channel == "paid" and views >= 3 else 0.04
        if rng.random() < p:
            later = start + rng.randint(DAY_MS // 2, 5 * DAY_MS)
            if later < now:
                traffic.session(visitor, f"{visitor}-2", later, "direct", device, ["/checkout"], buy=True)
    return traffic


def noise(now: int, people: int = 1500, seed: int = 11) -> Traffic:
    """No signal at all: each visitor's sessions are a Poisson process (one per 15 days on average,
    so what happened before a cutoff says nothing of after it), each a purchase with probability 0.1,
    channel, device and product views drawn anew for every session."""
    rng = random.Random(seed)
    traffic = Traffic()
    for n in range(people):
        visitor = f"n{n}"
        t = now - 90 * DAY_MS
        k = 0
        while True:
            t += int(rng.expovariate(1 / 15) * DAY_MS)
            if t >= now:
                break
            views = rng.randint(0, 5)
            pages = ["/", *(f"/product/{rng.randint(1, 40)}" for _ in range(views))]
            traffic.session(visitor, f"{visitor}-{k}", t, rng.choice(CHANNELS), rng.choice(DEVICES), pages,
                            cart=rng.random() < 0.3, buy=rng.random() < 0.1)
            k += 1
    return traffic
