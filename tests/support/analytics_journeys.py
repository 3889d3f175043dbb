"""Journeys with known answers, sent through POST /v1/batch, for the analytics API tests.

Day D is three days ago (UTC), so that every event lies inside ingest's 7-day window and a
session can run over midnight into D+1 without reaching the future.

| session | visitor | start (D)  | pages                       | other                                        |
|---------|---------|------------|-----------------------------|----------------------------------------------|
| s1      | a1      | 10:00      | / , /product/1              | nps 9, csat 5, ces 5, cart A 10x2, purchase o1 20 |
| s2      | u1 (a2) | 11:00      | /                           | identify u1 {plan: pro}; has a replay         |
| s3      | u1 (a3) | 12:00      | /product/2                  | rage, identify u1, nps 3 "too slow", ces 2, cart B |
| s4      | a4      | 23:50      | / , /product/1 (D+1 00:20)  | nps 10 "great" at D+1 00:00                   |
| s5      | a5      | 14:00      | /checkout                   | nps 7, csat 3, ces 3, purchase o2 30 without a cart |
| sb      | b1 bot  | 15:00      | / , /product/1              | nps 0; Googlebot                             |
| s6      | a6      | D-1 09:00  | / , /cart                   | purchase o3 50                                |
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.support.collector import SECRET, Client, stamp_session

DAY_MS = 86_400_000
MIN = 60_000
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
          " Chrome/124.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SHOP = "https://shop.example"


def day_start(days_ago: int) -> int:
    today = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)
    return int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp() * 1000)


D = day_start(3)
DATE = dt.datetime.fromtimestamp(D / 1000, dt.UTC).date().isoformat()
NEXT_DATE = dt.datetime.fromtimestamp((D + DAY_MS) / 1000, dt.UTC).date().isoformat()
PREVIOUS_DATE = dt.datetime.fromtimestamp((D - DAY_MS) / 1000, dt.UTC).date().isoformat()


def event(type_: str, ts: int, session: str, anon: str, url: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"id": str(uuid.uuid4()), "type": type_, "ts": ts, "session_id": session, "anon_id": anon, **fields}
    if url is not None:
        body["url"] = SHOP + url
    return body


def send(client: Client, events: list[dict[str, Any]], ua: str = CHROME, key: str = "wk_test") -> None:
    answer = client.http.post("/v1/batch", json={"key": key, "events": events}, headers={"User-Agent": ua})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": len(events), "rejected": []}


def stamp_session_context(client: Client, session_id: str, **columns: Any) -> None:
    """Set device, geo and channel columns as enrichment would: the test does not depend on
    which user agents, GeoIP database or referrer rules the enrichment layer knows."""
    stamp_session(client.store, session_id, **columns)


def mark_bot_if_enrichment_missed(client: Client, session_id: str) -> None:
    """The bot session's request carried a Googlebot user agent; when enrichment is not wired
    (or does not flag it) the flag is set through the store's table, as enrichment would."""
    found = client.store.session(session_id, None)
    assert found is not None
    if not found["is_bot"]:
        stamp_session_context(client, session_id, is_bot=1)


def item(sku: str, price: float, qty: int) -> dict[str, Any]:
    return {"sku": sku, "name": f"Item {sku}", "price": price, "qty": qty}


def build(client: Client) -> None:
    """Send the journeys of the table above and stamp their context."""
    t1, t2, t3, t4, t5, tb, t6 = (
        D + 10 * 60 * MIN, D + 11 * 60 * MIN, D + 12 * 60 * MIN, D + (23 * 60 + 50) * MIN,
        D + 14 * 60 * MIN, D + 15 * 60 * MIN, D - DAY_MS + 9 * 60 * MIN,
    )
    a = item("A", 10.0, 2)
    send(client, [
        event("pageview", t1, "s1", "a1", "/"),
        event("pageview", t1 + 60_000, "s1", "a1", "/product/1"),
        event("survey", t1 + 70_000, "s1", "a1", "/product/1", kind="nps", score=9),
        event("survey", t1 + 75_000, "s1", "a1", "/product/1", kind="csat", score=5, scale=5),
        event("survey", t1 + 80_000, "s1", "a1", "/product/1", kind="ces", score=5),
        event("cart", t1 + 90_000, "s1", "a1", "/product/1", action="add", item=a),
        event("purchase", t1 + 150_000, "s1", "a1", "/checkout", order_id="o1", value=20.0, items=[a]),
    ])
    send(client, [event("pageview", t2, "s2", "a2", "/")])
    # u1 logs in: the site's backend identifies them with the anon id of their browser.
    send(client, [event("identify", t2 + 5_000, "s2", "a2", "/", user_id="u1", traits={"plan": "pro"})],
         key=SECRET)
    send(client, [
        event("pageview", t3, "s3", "a3", "/product/2"),
        event("click", t3 + 5_000, "s3", "a3", "/product/2", x=10, y=10, sel="button.buy", rage=True),
    ])
    send(client, [event("identify", t3 + 10_000, "s3", "a3", "/product/2", user_id="u1",
                        traits={"email_domain": "example.com"})], key=SECRET)
    send(client, [
        event("survey", t3 + 12_000, "s3", "a3", "/product/2", user_id="u1", kind="nps", score=3,
              comment="too slow"),
        event("survey", t3 + 14_000, "s3", "a3", "/product/2", user_id="u1", kind="ces", score=2),
        event("cart", t3 + 20_000, "s3", "a3", "/product/2", user_id="u1", action="add",
              item=item("B", 5.0, 1)),
    ])
    send(client, [
        event("pageview", t4, "s4", "a4", "/"),
        event("survey", t4 + 10 * MIN, "s4", "a4", "/", kind="nps", score=10, comment="great"),
        event("pageview", t4 + 30 * MIN, "s4", "a4", "/product/1"),
    ])
    send(client, [
        event("pageview", t5, "s5", "a5", "/checkout"),
        event("survey", t5 + 10_000, "s5", "a5", "/checkout", kind="nps", score=7),
        event("survey", t5 + 20_000, "s5", "a5", "/checkout", kind="csat", score=3, scale=5),
        event("survey", t5 + 25_000, "s5", "a5", "/checkout", kind="ces", score=3),
        event("purchase", t5 + 30_000, "s5", "a5", "/checkout", order_id="o2", value=30.0,
              items=[item("C", 30.0, 1)]),
    ])
    send(client, [
        event("pageview", tb, "sb", "b1", "/"),
        event("pageview", tb + 10_000, "sb", "b1", "/product/1"),
        event("survey", tb + 12_000, "sb", "b1", "/product/1", kind="nps", score=0),
        event("purchase", tb + 15_000, "sb", "b1", "/checkout", order_id="ob", value=99.0),
    ], ua=GOOGLEBOT)
    send(client, [
        event("pageview", t6, "s6", "a6", "/"),
        event("pageview", t6 + 20_000, "s6", "a6", "/cart"),
        event("purchase", t6 + 40_000, "s6", "a6", "/checkout", order_id="o3", value=50.0,
              items=[item("A", 10.0, 5)]),
    ])
    replay = client.http.post("/v1/replay", json={
        "key": "wk_test", "session_id": "s2", "anon_id": "a2", "seq": 0,
        "events": [{"type": 4, "timestamp": t2, "data": {}}],
    })
    assert replay.status_code == 200, replay.text
    contexts = {
        "s1": ("organic", None, "desktop", "Chrome", "DE"),
        "s2": ("direct", None, "desktop", "Chrome", "DE"),
        "s3": ("direct", None, "mobile", "Safari", "DE"),
        "s4": ("email", "spring", "tablet", "Firefox", "FR"),
        "s5": ("paid", "spring", "mobile", "Safari", None),
        "s6": ("direct", None, "desktop", "Chrome", "DE"),
        "sb": ("direct", None, "desktop", "Googlebot", None),
    }
    for session_id, (channel, campaign, device, browser, country) in contexts.items():
        stamp_session_context(client, session_id, channel=channel, utm_campaign=campaign,
                              device=device, browser=browser, country=country)
    mark_bot_if_enrichment_missed(client, "sb")
