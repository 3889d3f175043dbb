"""The overview's goal conversions, one set-based query per goal on each engine, against a count
made from the generated journeys themselves: every kind of goal (a page, a page pattern, a route
template, an event type, a custom event with a property given as text or as a number), bots
left out, a session begun before the range whose goal event falls inside it left out (and counted
for the period before, which it began in)."""

from __future__ import annotations

import random
from typing import Any

from tests.support.analytics_journeys import DATE, MIN, D, event, send
from tests.support.collector import Client, every_store

PAGES = ("/", "/product/1", "/product/22", "/product/3/reviews", "/cart", "/checkout")
ITEM = {"sku": "A", "price": 1.0, "qty": 1}
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

GOALS: list[tuple[dict[str, Any], Any]] = [  # (the goal as posted, whether an event (type, path, props) matches it)
    ({"kind": "pageview", "value": "/cart"}, lambda t, p, props: t == "pageview" and p == "/cart"),
    ({"kind": "pageview", "value": "/product/*"}, lambda t, p, props: t == "pageview" and p.startswith("/product/")),
    ({"kind": "pageview", "value": "/product/:id"},
     lambda t, p, props: t == "pageview" and p.startswith("/product/") and p.count("/") == 2),
    ({"kind": "event", "value": "cart"}, lambda t, p, props: t == "cart"),
    ({"kind": "custom", "value": "signup", "property": {"key": "plan", "value": "pro"}},
     lambda t, p, props: t == "signup" and props.get("plan") == "pro"),
    ({"kind": "custom", "value": "signup", "property": {"key": "seats", "value": "1"}},
     lambda t, p, props: t == "signup" and props.get("seats") == 1),
    ({"kind": "custom", "value": "signup"}, lambda t, p, props: t == "signup"),
]


def one_session(rng: random.Random, session: str, anon: str, t: int) -> tuple[list[dict[str, Any]], list[tuple]]:
    events, seen = [], []
    for _ in range(rng.randrange(1, 6)):
        t += rng.choice((1, 1000, 3 * MIN))
        kind = rng.choices(("pageview", "cart", "signup"), weights=(6, 1, 1))[0]
        path = rng.choice(PAGES)
        if kind == "pageview":
            events.append(event("pageview", t, session, anon, path))
            seen.append(("pageview", path, {}))
        elif kind == "cart":
            events.append(event("cart", t, session, anon, path, action="add", item=ITEM))
            seen.append(("cart", path, {}))
        else:
            props = rng.choice(({"plan": "pro"}, {"plan": "free"}, {"seats": 1}, {"seats": 2}, {}))
            events.append(event("track", t, session, anon, path, name="signup", props=props))
            seen.append(("signup", path, props))
    return events, seen


@every_store
def test_goal_conversions_match_the_journeys(client: Client) -> None:
    rng = random.Random(5)
    counted: list[tuple[str, list[tuple]]] = []  # (visitor, events) of the range's human sessions
    for n in range(150):
        anon = f"a{rng.randrange(90)}"  # visitors with several sessions
        events, seen = one_session(rng, f"g{n}", anon, D + rng.randrange(0, 20 * 60) * MIN // 2)
        bot = rng.random() < 0.1
        send(client, events, **({"ua": BOT} if bot else {}))
        if not bot:
            counted.append((anon, seen))
    # began the evening before: its goal events after midnight count for no session of the range
    send(client, [event("pageview", D - 5 * MIN, "y1", "y", "/"), event("pageview", D + MIN, "y1", "y", "/cart"),
                  event("pageview", D + 2 * MIN, "y1", "y", "/product/1"),
                  event("cart", D + 3 * MIN, "y1", "y", "/cart", action="add", item=ITEM),
                  event("track", D + 4 * MIN, "y1", "y", "/", name="signup", props={"plan": "pro", "seats": 1})])
    for number, (goal, _) in enumerate(GOALS):
        body = {"site": "test", "name": f"g{number}", **goal}
        answer = client.http.post("/api/goals", headers=client.admin, json=body)
        assert answer.status_code == 201, answer.text
    answer = client.http.get(f"/api/overview?site=test&from={DATE}&to={DATE}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    found = [(g["name"], g["visitors"], g["sessions"]) for g in answer.json()["goals"]]
    expected = []
    for number, (_, matches) in enumerate(GOALS):
        holding = [(visitor, seen) for visitor, seen in counted if any(matches(*e) for e in seen)]
        expected.append((f"g{number}", len({visitor for visitor, _ in holding}), len(holding)))
    assert found == expected
    # the day before holds one session, y1's: its goal events, all after midnight, reach every goal
    assert [g["previous"] for g in answer.json()["goals"]] == [1] * len(GOALS)
    # every goal has sessions; some visitors reached one in more than one session
    assert all(sessions > 0 for _, _, sessions in expected)
    assert any(visitors < sessions for _, visitors, sessions in expected)
