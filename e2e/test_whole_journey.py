"""The whole journey in real Chromium: a shopper buys in the demo shop, an analyst finds every trace of it.

The shopper arrives from a newsletter link with a desktop Chrome user agent, through a proxy that
names their address in X-Forwarded-For (the demo GeoIP maps it to London), and runs the demo shop
journey of e2e/test_demo_shop.py. The analyst then asks the API and the dashboard: the session's
channel, device and country, its replay, the product page's heatmap, the purchase funnel and NPS.
Each analyst page is kept as artifacts/screenshots/journey-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from collector.app import create_app
from collector.demo.journeys import USER_AGENTS
from collector.demo.places import GEO_DB, PLACES
from collector.demo.shop import DEMO_KEY, DEMO_SITE
from collector.store import SQLiteStore
from e2e.test_demo_shop import buy_and_answer_nps
from e2e.test_replay import stored_events
from tests.support.browser import chromium, wait_until
from tests.support.collector import Server, ThreadedServer, free_port, make_settings

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
LONDON = next(p for p in PLACES if p.country == "GB")
SHOPPER_IP = LONDON.address(41)
JACKET = "/demo/product/storm-shell-jacket"
CAP = "/demo/product/summit-cap"
FUNNEL = [{"type": "pageview", "url": "/demo/product/*"}, {"type": "cart", "name": "add"}, {"type": "purchase"}]
DESKTOP = USER_AGENTS["desktop"][0][0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    db = tmp_path / "journey.db"
    store = SQLiteStore(db)
    store.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
    port = free_port()
    settings = make_settings(db, demo=True, geoip=GEO_DB, trusted_proxies=("127.0.0.1",))
    with ThreadedServer(create_app(settings, store), port):
        yield Server(f"http://127.0.0.1:{port}", port, db, store, key=DEMO_KEY)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium(DESKTOP) as browser:
        yield browser


def shop(browser: Browser, base: str) -> tuple[str, str]:
    """The shopper's visit, ended by leaving the site; returns (session id, order id).

    Beacons leave without the context's extra headers, so only the SDK's fetches name the shopper's
    address: the session takes its place from the first request that has one.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 860}, user_agent=DESKTOP,
                                  extra_http_headers={"X-Forwarded-For": SHOPPER_IP})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    order_id = buy_and_answer_nps(page, base)
    page.wait_for_function("window.trailmark && window.trailmark._replay === true")
    session_id = str(page.evaluate("trailmark._ctx().session_id"))
    page.evaluate("trailmark.flush()")
    page.goto("about:blank")  # pagehide: the recorder's last chunk leaves as a keepalive request
    context.close()
    assert errors == []
    return session_id, order_id


def stored(server: Server, session_id: str, order_id: str) -> bool:
    """The purchase, the NPS answer and the recording up to the thank-you answer are all in SQLite."""
    kinds = {r["type"] for r in server.rows("SELECT type FROM events WHERE session_id = ?", session_id)}
    recorded = json.dumps(stored_events(server, session_id))
    return {"purchase", "survey"} <= kinds and order_id in recorded and "Thanks for telling us!" in recorded


class Analyst:
    """A signed-in dashboard tab and the admin API, both scoped to the demo site."""

    def __init__(self, browser: Browser, server: Server) -> None:
        self.url = server.url
        self.http = httpx.Client(base_url=server.url, headers=server.admin)
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url + "/login")
        self.page.fill("#token", server.admin_token)
        self.page.click("#token-form button[type=submit]")
        self.page.wait_for_url(server.url + "/overview")

    def api(self, path: str, **params: str) -> Any:
        answer = self.http.get(path, params={"site": DEMO_SITE, **params})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def open(self, path: str, ready: str = "body[data-ready='1']", **params: str) -> Page:
        self.page.goto(f"{self.url}{path}?{urlencode({'site': DEMO_SITE, **params})}")
        self.page.wait_for_selector(ready)
        expect(self.page.locator("#content .alert:not([hidden])")).to_have_count(0)
        return self.page

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"journey-{name}.png"), full_page=True)
        assert self.errors == []

    def close(self) -> None:
        self.http.close()
        self.context.close()


def test_shopper_journey_seen_by_the_analyst(server: Server, browser: Browser) -> None:
    session_id, order_id = shop(browser, server.url)
    wait_until("the whole visit is stored, recording included", lambda: stored(server, session_id, order_id))
    analyst = Analyst(browser, server)
    try:
        check_session(analyst, session_id, order_id)
        check_replay(analyst, session_id, order_id)
        check_funnel(analyst)
        check_surveys(analyst)
        check_heatmap(analyst)
    finally:
        analyst.close()


def check_session(analyst: Analyst, session_id: str, order_id: str) -> None:
    (row,) = analyst.api("/api/sessions")["sessions"]
    assert row["id"] == session_id
    assert (row["channel"], row["utm_source"], row["utm_medium"]) == ("email", "newsletter", "email")
    assert (row["device"], row["browser"], row["is_bot"]) == ("desktop", "Chrome", 0)
    assert (row["country"], row["city"]) == (LONDON.country, LONDON.city)
    assert (row["cart_adds"], row["purchases"], row["revenue"], row["has_replay"]) == (2, 1, 189.0, 1)

    page = analyst.open("/sessions")
    link = page.locator(f"#sessions-table tbody a[href^='/sessions/{session_id}']")
    expect(link).to_have_count(1)
    row_cells = page.locator("#sessions-table tbody tr").first.locator("td")
    cells = row_cells.all_text_contents()
    # channel in words, the device type with its browser on hover, the country by name
    assert "Email" in cells and "desktop" in cells and LONDON.country_name in cells
    device = row_cells.nth(cells.index("desktop")).locator("span")
    expect(device).to_have_attribute("title", "desktop · Windows · Chrome")
    analyst.shot("sessions")

    one = analyst.api(f"/api/sessions/{session_id}")
    purchase = next(e for e in one["events"] if e["type"] == "purchase")
    assert purchase["name"] == order_id
    page = analyst.open(f"/sessions/{session_id}")
    expect(page.locator("#timeline li .badge")).to_have_text([e["type"] for e in one["events"]])
    expect(page.locator("#replay iframe")).to_have_attribute("src", f"/sessions/{session_id}/replay")
    analyst.shot("session")


def check_replay(analyst: Analyst, session_id: str, order_id: str) -> None:
    page = analyst.open(f"/sessions/{session_id}/replay", ready="#replay[data-ready='1']")
    titles = [t.split(" ", 1)[1] for t in page.eval_on_selector_all(".tm-marker", "ms => ms.map(m => m.title)")]
    assert [t for t in titles if t.startswith(("Cart ", "Purchase", "Survey"))] == [
        "Cart add Storm Shell Jacket (Ember, M)", "Cart add Summit Cap (Oat, One size)",
        "Cart remove Summit Cap (Oat, One size)", "Purchase 189 EUR", "Survey NPS 9"]
    # the shop as the shopper saw it: paused on the jacket's page when it went into the cart ...
    added = page.get_attribute(".tm-marker[title$='Cart add Storm Shell Jacket (Ember, M)']", "data-offset")
    page.evaluate("t => document.getElementById('replay').trailmarkPlayer.goto(t, false)", int(added or -1))
    replayed = page.frame_locator("#replay iframe").locator("body")
    expect(replayed).to_contain_text("Storm Shell Jacket")
    expect(replayed).to_contain_text("Colour: Ember")
    expect(replayed).not_to_contain_text(order_id)
    # ... then played on to the order and the NPS answer
    page.evaluate("() => { const p = document.getElementById('replay').trailmarkPlayer; p.setSpeed(8); p.play(); }")
    expect(replayed).to_contain_text(order_id, timeout=20_000)
    expect(replayed).to_contain_text("Thanks for telling us!", timeout=20_000)
    page.evaluate("document.getElementById('replay').trailmarkPlayer.pause()")
    analyst.shot("replay")


def check_funnel(analyst: Analyst) -> None:
    body = {"site": DEMO_SITE, "steps": FUNNEL, "window_s": 86400}
    answer = analyst.http.post("/api/funnel", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [s["visitors"] for s in result["steps"]] == [1, 1, 1]
    assert result["overall_conversion"] == 1.0

    analyst.open("/funnels", steps=json.dumps(FUNNEL), window_s="86400")
    expect(analyst.page.locator("[data-step='3'] [data-field=visitors]")).to_have_text("1 visitor")
    expect(analyst.page.locator("[data-kpi=completed] .value")).to_have_text("1")
    analyst.shot("funnel")


def check_surveys(analyst: Analyst) -> None:
    nps = analyst.api("/api/surveys")["nps"]
    assert (nps["responses"], nps["promoters"], nps["passives"], nps["detractors"], nps["score"]) == (1, 1, 0, 0, 100.0)
    assert {k: v for k, v in nps["distribution"].items() if v} == {"9": 1}

    analyst.open("/surveys")
    expect(analyst.page.locator("#survey-nps [data-field=score]")).to_have_text("100.0")
    expect(analyst.page.locator("#survey-nps [data-field=responses]")).to_have_text("1 response")
    analyst.shot("surveys")


def check_heatmap(analyst: Analyst) -> None:
    pages = {p["route"]: p["clicks"] for p in analyst.api("/api/heatmap/pages")["pages"]}
    assert JACKET in pages and CAP in pages
    jacket = analyst.api("/api/heatmap", url=JACKET, device="desktop")
    adds = next(e for e in jacket["elements"] if e["sel"] == "#add-to-cart")
    assert adds["count"] == 2  # the first click asked for a size, the second added the jacket
    assert adds["cells"] and sum(n for _, _, n in adds["cells"]) == 2
    cap = analyst.api("/api/heatmap", url=CAP, device="desktop")
    assert next(e["count"] for e in cap["elements"] if e["sel"] == "#add-to-cart") == 1

    page = analyst.open("/heatmaps", ready="body[data-heatmap]", hm_page=JACKET, hm_device="desktop")
    assert page.get_attribute("body", "data-heatmap") == "snapshot"  # drawn on the recorded page
    expect(page.locator("#f-chips .chip")).to_have_count(0)  # the viewer's choices are not session filters
    expect(page.locator("#hm-elements tr[data-sel='#add-to-cart'] td").nth(2)).to_have_text("2")
    # heat is drawn on the canvas where the rebuilt page has its add-to-cart button
    heat = page.evaluate("""() => {
        const box = document.querySelector('#hm-stage iframe').contentDocument
            .querySelector('#add-to-cart').getBoundingClientRect();
        const canvas = document.getElementById('hm-canvas');
        const alpha = (x, y) => canvas.getContext('2d').getImageData(x, y, 1, 1).data[3];
        return {button: alpha(box.left + box.width / 2, box.top + box.height / 2),
                footer: alpha(4, canvas.height - 4)};
    }""")
    assert heat["button"] > 0 and heat["footer"] == 0  # nobody clicked the footer's corner
    analyst.shot("heatmap")
