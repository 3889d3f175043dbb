"""Believable shopper journeys through the demo shop, planned up front from one random seed.

The plan is pure data: the visits (sessions) with their device, place, channel and the wire events
the browser SDK would have sent. The seeder posts it through the real ingest path; tests compare
what was stored with what the plan says (`Plan.count`).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from collector.demo.places import PLACES, Place
from collector.demo.shop import catalog
from collector.query.definitions import DAY_MS

HOUR_MS = 3_600_000

# Real browsers' user agents; the collector's device parser turns each into the device named.
USER_AGENTS: dict[str, list[tuple[str, int]]] = {
    "desktop": [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36", 40),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Safari/605.1.15", 20),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36", 15),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", 13),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87", 12),
    ],
    "mobile": [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Mobile/15E148 Safari/604.1", 50),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.6478.122 Mobile Safari/537.36", 30),
        ("Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
         "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", 20),
    ],
    "tablet": [
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.5 Mobile/15E148 Safari/604.1", 70),
        ("Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0.0.0 Safari/537.36", 30),
    ],
}
DEVICES = {"desktop": 48, "mobile": 44, "tablet": 8}

# channel -> weight and how visits of it land: (url query, referrer)
CHANNELS: dict[str, int] = {
    "direct": 26, "organic_search": 24, "paid_search": 10, "email": 12, "organic_social": 10,
    "paid_social": 7, "referral": 11,
}
CAMPAIGNS = {
    "paid_search": [("google", "cpc", "trail-shoes-autumn"), ("google", "cpc", "rain-jackets"),
                    ("bing", "cpc", "rain-jackets")],
    "email": [("newsletter", "email", "october-newsletter"), ("newsletter", "email", "autumn-launch")],
    "paid_social": [("instagram", "paid_social", "autumn-launch"), ("facebook", "paid_social", "daypack-promo")],
}
REFERRERS = {
    "organic_search": ["https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/",
                       "https://duckduckgo.com/"],
    "organic_social": ["https://www.reddit.com/", "https://l.instagram.com/", "https://t.co/"],
    "referral": ["https://www.trailrunnermag.com/gear/best-trail-shoes", "https://hikingforum.net/threads/rain-shells",
                 "https://www.outdoorgearlab.com/topics/clothing-womens/best-rain-jacket"],
    "paid_search": ["https://www.google.com/"],
}
NPS_WEIGHTS = [2, 1, 1, 2, 2, 4, 6, 10, 14, 22, 20]  # 0..10
CES_WEIGHTS = [5, 8, 15, 35, 37]  # 1..5
CSAT_WEIGHTS = [4, 6, 12, 38, 40]  # 1..5
SEARCHES = ["rain jacket", "trail shoe", "boot", "daypack", "bottle", "fleece", "beanie", "gore-tex"]
NPS_COMMENTS = ["Great fit and fast delivery", "Checkout was quick", "Prices are a bit high",
                "Sizing was confusing", "Love the jacket", "Shipping took too long"]
ERRORS = [
    ("TypeError: Cannot read properties of undefined (reading 'hex')", "/demo/assets/shop.js", 118, 41),
    ("Uncaught ReferenceError: gtag is not defined", "/demo/checkout", 1, 1),
    ("NetworkError when attempting to fetch resource.", "/demo/assets/shop.js", 243, 9),
]


@cache
def layout() -> dict[str, Any]:
    """Element boxes of the real shop per device (scripts/measure_demo_layout.py writes it)."""
    data: dict[str, Any] = json.loads((Path(__file__).parent / "layout.json").read_text())
    return data


@dataclass
class Visit:
    """One session: who, from where, on what, and the events the SDK sent."""

    session_id: str
    anon_id: str
    ip: str
    user_agent: str
    device: str
    country: str
    channel: str
    start: int
    events: list[dict[str, Any]] = field(default_factory=list)

    def count(self, kind: str, name: str | None = None) -> int:
        return sum(1 for e in self.events if e["type"] == kind and name in (None, _name(e)))


def _name(event: dict[str, Any]) -> str | None:
    return event.get("action") or event.get("kind") or event.get("name") or event.get("sel")


@dataclass
class Plan:
    visits: list[Visit]

    @property
    def events(self) -> int:
        return sum(len(v.events) for v in self.visits)

    def count(self, attr: str) -> Counter[str]:
        """Visits by an attribute: channel, device or country."""
        return Counter(getattr(v, attr) for v in self.visits)

    def total(self, kind: str, name: str | None = None) -> int:
        return sum(v.count(kind, name) for v in self.visits)


def _pick(rng: random.Random, weighted: dict[str, int] | list[tuple[str, int]]) -> str:
    pairs = list(weighted.items()) if isinstance(weighted, dict) else weighted
    return rng.choices([p for p, _ in pairs], [w for _, w in pairs])[0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Journey:
    """Walks one visit through the shop, writing the events the browser SDK would send."""

    def __init__(self, rng: random.Random, visit: Visit, base_url: str, user_id: str | None) -> None:
        self.rng = rng
        self.visit = visit
        self.base = base_url.rstrip("/")
        self.user_id = user_id
        self.screen = layout()[visit.device]
        self.t = visit.start
        self.url: str | None = None
        self.page_key = "home"
        self.page_start = self.t

    def wait(self, low_s: float, high_s: float) -> None:
        self.t += int(self.rng.uniform(low_s, high_s) * 1000)

    def emit(self, event_type: str, /, **fields: Any) -> dict[str, Any]:
        v = self.visit
        event: dict[str, Any] = {
            "id": _uuid(self.rng), "type": event_type, "ts": self.t, "anon_id": v.anon_id, "session_id": v.session_id,
            "url": self.url, "vw": self.screen["vw"], "vh": self.screen["vh"],
        }
        if self.user_id:
            event["user_id"] = self.user_id
        event.update({k: val for k, val in fields.items() if val is not None})
        v.events.append(event)
        self.t += self.rng.randint(5, 60)
        return event

    def page(self, key: str, path: str, title: str, referrer: str | None = None) -> None:
        if self.url is not None:
            self.leave()
            referrer = self.url
        self.url = self.base + path
        self.page_key, self.page_start = key, self.t
        self.emit("pageview", referrer=referrer, title=f"{title} · Fernhill Outfitters")
        if len(self.visit.events) == 1:
            self.emit("vital", name="TTFB", value=round(self.rng.lognormvariate(5.3, 0.5), 1))
            self.emit("vital", name="LCP", value=round(self.rng.lognormvariate(7.4, 0.45), 1))
            self.emit("vital", name="CLS", value=round(self.rng.uniform(0, 0.15), 3))
        self.wait(3, 25)

    def leave(self) -> None:
        dh = self.screen["pages"][self.page_key]["dh"]
        seen = min(100, round(100 * self.screen["vh"] / dh + self.rng.uniform(0, 100)))
        self.emit("scroll", depth=seen, dh=dh)
        self.wait(1, 8)
        self.emit("page_leave", engaged_ms=self.t - self.page_start, depth=seen)

    def click(self, sel: str, *, rage: bool = False, dead: bool = False, times: int = 1) -> None:
        spot = self.screen["pages"][self.page_key]
        x0, y0, w, h = spot["boxes"][sel]
        tag = "a" if sel.startswith("[data-testid") or sel in ("#go-checkout", "#cart-link", "#help-link",
                                                                "#contact-support", "#hero-cta") else "button"
        if sel.endswith("summary"):
            tag = "summary"
        elif sel in ("#product-image",):
            tag = "div"
        for _ in range(times):
            rx = min(1.0, max(0.0, self.rng.gauss(0.5, 0.18)))
            ry = min(1.0, max(0.0, self.rng.gauss(0.5, 0.18)))
            self.emit("click", x=round(x0 + rx * w), y=round(y0 + ry * h), sel=sel, tag=tag,
                      rx=round(rx, 3), ry=round(ry, 3), dw=spot["dw"], dh=spot["dh"], rage=rage, dead=dead)
            if times > 1:
                self.t += self.rng.randint(120, 260)
        self.wait(0.5, 4)


def _item(product: dict[str, Any], rng: random.Random, currency: str) -> dict[str, Any]:
    colour = rng.choice(product["colours"])["name"]
    size = rng.choice(product["sizes"])
    sku = "-".join([product["sku"], colour, size]).upper().replace(" ", "")
    categories: list[dict[str, Any]] = catalog()["categories"]  # type: ignore[assignment]
    category = next(c["name"] for c in categories if c["slug"] == product["category"])
    return {"sku": sku, "name": f"{product['name']} ({colour}, {size})", "price": product["price"], "qty": 1,
            "currency": currency, "category": category}


def _browse(j: Journey, rng: random.Random, products: list[dict[str, Any]], cats: list[dict[str, Any]]) -> None:
    """A few pages of looking around: home, categories, products, a search."""
    for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
        roll = rng.random()
        if roll < 0.25:
            cat = rng.choice(cats)
            j.click(f'[data-testid="nav-{cat["slug"]}"]')
            j.page("category", f"/demo/category/{cat['slug']}", cat["name"])
        elif roll < 0.85:
            product = rng.choice(products)
            j.page("product", f"/demo/product/{product['slug']}", product["name"])
            if rng.random() < 0.12:
                j.click("#product-image", dead=True)
        else:
            query = rng.choice(SEARCHES)
            j.click("#search-input")
            j.page("home", "/demo/search?q=" + query.replace(" ", "+"), "Search")
            j.emit("track", name="search", props={"query": query, "results": rng.randint(0, 4)})


def _buy(j: Journey, rng: random.Random, products: list[dict[str, Any]], order_no: int) -> bool:
    """Add to cart, maybe change the mind, maybe check out and pay; True when paid."""
    currency = str(catalog()["currency"])
    cart: list[dict[str, Any]] = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        product = rng.choice(products)
        j.page("product", f"/demo/product/{product['slug']}", product["name"])
        if rng.random() < 0.5:
            j.click(f"#colour-{rng.randint(1, min(2, len(product['colours'])))}")
        if len(product["sizes"]) > 1 and rng.random() < 0.06:
            # "Please choose a size" goes unnoticed: a burst of clicks on the button
            j.click("#add-to-cart", rage=True, times=rng.randint(3, 5))
        if len(product["sizes"]) > 1:
            j.click(f"#size-{rng.randint(1, min(4, len(product['sizes'])))}")
        item = _item(product, rng, currency)
        j.click("#add-to-cart")
        j.emit("cart", action="add", item=item)
        cart.append(item)
    if rng.random() < 0.2:
        return False  # left with a full cart from the product page
    j.click("#cart-link")
    j.page("cart", "/demo/cart", "Your cart")
    if len(cart) > 1 and rng.random() < 0.3:
        j.click('[data-testid="remove-0"]')
        j.emit("cart", action="remove", item=cart.pop(0))
    if rng.random() < 0.1:
        j.click("#coupon-input")
        j.click("#apply-coupon", rage=True, times=rng.randint(3, 6))
    if rng.random() < 0.3:
        return False
    value = round(sum(i["price"] * i["qty"] for i in cart), 2)
    value = round(value + (0 if value >= 100 else 4.95), 2)
    j.click("#go-checkout")
    j.page("checkout", "/demo/checkout", "Checkout")
    j.emit("checkout", items=cart, value=value, currency=currency)
    j.click("#email")
    j.wait(20, 90)
    j.click("#card")
    if rng.random() < 0.3:
        return False
    j.click("#place-order")
    j.user_id = f"cust-{j.visit.anon_id[:8]}"
    j.emit("identify", user_id=j.user_id, traits={"orders": 1})
    order_id = f"FH-{order_no:06d}"
    j.emit("purchase", order_id=order_id, value=value, currency=currency, items=cart)
    j.page("thanks", f"/demo/thanks?order={order_id}", "Thank you")
    if rng.random() < 0.55:
        score = rng.choices(range(11), NPS_WEIGHTS)[0]
        j.click(f"#nps-{score}")
        comment = rng.choice(NPS_COMMENTS) if rng.random() < 0.3 else None
        j.emit("survey", kind="nps", score=score, comment=comment, survey_id="post-purchase")
    return True


def _help(j: Journey, rng: random.Random) -> None:
    j.click("#help-link")
    j.page("help", "/demo/help", "Help centre")
    j.click(rng.choice(['[data-testid="faq-shipping"] > summary', '[data-testid="faq-returns"] > summary']))
    if rng.random() < 0.5:
        score = rng.choices(range(1, 6), CES_WEIGHTS)[0]
        j.click(f"#ces-{score}")
        j.emit("survey", kind="ces", score=score, survey_id="help-centre")
    if rng.random() < 0.4:
        j.click("#contact-support")
        j.page("support", "/demo/support", "Contact support")
        j.click("#support-message")
        j.wait(20, 120)
        j.click("#send-support")
        j.emit("track", name="support_request", props={"topic": rng.choice(["order", "return", "product"])})
        if rng.random() < 0.65:
            j.emit("survey", kind="csat", score=rng.choices(range(1, 6), CSAT_WEIGHTS)[0], scale=5,
                   survey_id="support")


def _account(j: Journey) -> None:
    j.page("account", "/demo/account/", "Account")
    j.click("#tab-orders")
    # the account area is a single-page app: history.pushState, a pageview without a page load
    j.page("account", "/demo/account/orders", "Orders")


def _landing(rng: random.Random, channel: str, products: list[dict[str, Any]],
             cats: list[dict[str, Any]]) -> tuple[str, str, str, str | None]:
    """(layout key, path with campaign tags, title, referrer) of the first page of a visit."""
    roll = rng.random()
    if channel == "direct" and roll < 0.6 or channel == "organic_search" and roll < 0.2:
        key, path, title = "home", "/demo/", "Outdoor gear for wet weekends"
    elif roll < 0.7:
        product = rng.choice(products)
        key, path, title = "product", f"/demo/product/{product['slug']}", product["name"]
    else:
        cat = rng.choice(cats)
        key, path, title = "category", f"/demo/category/{cat['slug']}", cat["name"]
    if channel in CAMPAIGNS:
        source, medium, campaign = rng.choice(CAMPAIGNS[channel])
        path += f"?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}"
    referrer = rng.choice(REFERRERS[channel]) if channel in REFERRERS else None
    return key, path, title, referrer


def plan(visitors: int, seed: int, *, days: int, end_ms: int, base_url: str) -> Plan:
    """Every visit of `visitors` people over the `days` before `end_ms`, from `seed` alone."""
    rng = random.Random(seed)
    products: list[dict[str, Any]] = catalog()["products"]  # type: ignore[assignment]
    cats: list[dict[str, Any]] = catalog()["categories"]  # type: ignore[assignment]
    # two hours of margin: ingest refuses events older than its window, and seeding takes a while
    start = end_ms - days * DAY_MS + 2 * HOUR_MS
    span = end_ms - start - 2 * HOUR_MS
    visits: list[Visit] = []
    orders = 0
    for number in range(visitors):
        device = _pick(rng, DEVICES)
        place: Place = rng.choices(PLACES, [p.weight for p in PLACES])[0]
        anon_id = _uuid(rng)
        ua = _pick(rng, USER_AGENTS[device])
        ip = place.address(number)
        # later days get a little more traffic: the shop is growing
        first = start + int(span * rng.random() ** 0.8)
        sessions = rng.choices([1, 2, 3], [70, 20, 10])[0]
        user_id: str | None = None
        for n in range(sessions):
            begin = first + n * rng.randint(HOUR_MS * 20, DAY_MS * 3)
            if begin >= start + span:
                break
            channel = _pick(rng, CHANNELS) if n == 0 or rng.random() < 0.5 else "direct"
            visit = Visit(session_id=_uuid(rng), anon_id=anon_id, ip=ip, user_agent=ua, device=device,
                          country=place.country, channel=channel, start=begin)
            j = Journey(rng, visit, base_url, user_id)
            key, path, title, referrer = _landing(rng, channel, products, cats)
            j.page(key, path, title, referrer)
            if rng.random() < 0.03:
                message, source, line, col = rng.choice(ERRORS)
                j.emit("error", message=message, source=j.base + source, line=line, col=col)
            if rng.random() >= 0.36:  # the others bounce
                _browse(j, rng, products, cats)
                if rng.random() < 0.4:
                    orders += 1
                    _buy(j, rng, products, orders)
                if rng.random() < 0.08:
                    _help(j, rng)
                if n > 0 and rng.random() < 0.3:
                    _account(j)
            j.leave()
            user_id = j.user_id
            visits.append(visit)
    visits.sort(key=lambda v: (v.start, v.session_id))
    return Plan(visits)
