"""The demo shop in real Chromium against a real collector: browse, fill a cart, buy, answer NPS."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from collector.app import create_app
from collector.demo.journeys import USER_AGENTS
from collector.demo.places import GEO_DB
from collector.demo.shop import DEMO_KEY, DEMO_SITE
from collector.store import SQLiteStore
from tests.support.browser import chromium
from tests.support.collector import ThreadedServer, free_port, make_settings, read_rows

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"

CAMPAIGN = "?utm_source=newsletter&utm_medium=email&utm_campaign=autumn-launch"


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    db = tmp_path / "shop.db"
    store = SQLiteStore(db)
    store.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
    port = free_port()
    settings = make_settings(db, demo=True, geoip=GEO_DB)
    with ThreadedServer(create_app(settings, store), port):
        yield f"http://127.0.0.1:{port}", db


@pytest.fixture
def page() -> Iterator[Page]:
    desktop = USER_AGENTS["desktop"][0][0]
    with chromium(desktop) as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 860}, user_agent=desktop)
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        yield tab
    assert errors == []


def _events(db: Path, last_path: str, attempts: int = 100) -> list[dict[str, Any]]:
    """Stored events once the pageview of `last_path` is there (the SDK sends in batches)."""
    sql = "SELECT type, name, path, data, session_id, user_id FROM events WHERE site_id = 'demo' ORDER BY ts, rowid"
    for _ in range(attempts):
        rows = read_rows(db, sql)
        if any(r["type"] == "pageview" and r["path"] == last_path for r in rows):
            return rows
        time.sleep(0.1)
    return read_rows(db, sql)


def buy_and_answer_nps(page: Page, base: str) -> str:
    """The shopper's journey from the campaign link to the NPS answer (9); returns the order id."""
    page.goto(base + "/demo/" + CAMPAIGN)
    page.click('[data-testid="tile-jackets"]')
    page.click('[data-testid="product-storm-shell-jacket"]')
    page.click("#add-to-cart")  # no size yet: the shop asks for one and adds nothing
    assert page.text_content("#add-notice") == "Please choose a size"
    page.click("#colour-2")
    page.click("#size-3")
    page.click("#add-to-cart")
    assert page.text_content("#cart-count") == "1"
    page.click('[data-testid="nav-accessories"]')
    page.click('[data-testid="product-summit-cap"]')
    page.click("#add-to-cart")  # one size: nothing to choose
    page.click("#cart-link")
    page.click('[data-testid="remove-1"]')
    assert page.text_content("#cart-count") == "1"
    # The cart page fills its total from the stored cart after it loads: the assertion waits for it.
    expect(page.locator("#cart-total")).to_have_text("€189.00")
    page.click("#go-checkout")
    for field, value in {"#email": "ada@example.com", "#first-name": "Ada", "#last-name": "Lovelace",
                         "#address": "1 Ridge Road", "#postcode": "10115", "#city": "Berlin",
                         "#card": "4242 4242 4242 4242", "#expiry": "12/30", "#cvc": "123"}.items():
        page.fill(field, value)
    page.click("#place-order")
    page.wait_for_url("**/demo/thanks?order=*")
    order_id = page.text_content("#order-id")
    page.click("#nps-9")
    assert page.text_content("#nps-thanks") == "Thanks for telling us!"
    return str(order_id)


def test_shopper_buys_and_answers_nps(shop: tuple[str, Path], page: Page) -> None:
    base, db = shop
    order_id = buy_and_answer_nps(page, base)
    page.click('[data-testid="account-link"]')
    page.click("#tab-orders")  # the single-page account area: pushState, not a page load
    assert page.url == base + "/demo/account/orders"
    assert page.text_content("#account-view td") == order_id
    page.click("#tab-profile")
    page.evaluate("window.trailmark.flush()")

    rows = _events(db, "/demo/account/profile")
    assert len({r["session_id"] for r in rows}) == 1
    pages = [r["path"] for r in rows if r["type"] == "pageview"]
    assert pages == ["/demo/", "/demo/category/jackets", "/demo/product/storm-shell-jacket",
                     "/demo/category/accessories", "/demo/product/summit-cap", "/demo/cart", "/demo/checkout",
                     "/demo/thanks", "/demo/account/", "/demo/account/orders", "/demo/account/profile"]
    carts = [(r["name"], json.loads(r["data"])["item"]) for r in rows if r["type"] == "cart"]
    jacket = {"sku": "JK-STORM-EMBER-M", "name": "Storm Shell Jacket (Ember, M)", "price": 189.0, "qty": 1,
              "currency": "EUR", "category": "Jackets"}
    cap = {"sku": "AC-CAP-OAT-ONESIZE", "name": "Summit Cap (Oat, One size)", "price": 29.0, "qty": 1,
           "currency": "EUR", "category": "Accessories"}
    assert carts == [("add", jacket), ("add", cap), ("remove", cap)]
    (checkout,) = [json.loads(r["data"]) for r in rows if r["type"] == "checkout"]
    assert (checkout["items"], checkout["value"], checkout["currency"]) == ([jacket], 189.0, "EUR")
    (purchase,) = [r for r in rows if r["type"] == "purchase"]
    assert purchase["name"] == order_id
    assert json.loads(purchase["data"])["value"] == 189.0
    assert purchase["user_id"] and purchase["user_id"].startswith("cust-")
    (survey,) = [json.loads(r["data"]) for r in rows if r["type"] == "survey"]
    assert (survey["kind"], survey["score"], survey["survey_id"]) == ("nps", 9, "post-purchase")
    clicks = [r["name"] for r in rows if r["type"] == "click"]
    assert clicks.count("#add-to-cart") == 3 and "#place-order" in clicks and "#nps-9" in clicks

    (session,) = read_rows(
        db, "SELECT channel, utm_campaign, device, is_bot, cart_adds, purchases, revenue FROM sessions")
    assert session == {"channel": "email", "utm_campaign": "autumn-launch", "device": "desktop", "is_bot": 0,
                       "cart_adds": 2, "purchases": 1, "revenue": 189.0}


def fill_checkout(page: Page) -> None:
    for field, value in {"#email": "ada@example.com", "#first-name": "Ada", "#last-name": "Lovelace",
                         "#address": "1 Ridge Road", "#postcode": "10115", "#city": "Berlin",
                         "#card": "4242 4242 4242 4242", "#expiry": "12/30", "#cvc": "123"}.items():
        page.fill(field, value)


def test_the_coupon_discount_is_what_checkout_charges_and_the_purchase_records(
    shop: tuple[str, Path], page: Page
) -> None:
    base, db = shop
    page.goto(base + "/demo/product/storm-shell-jacket")
    page.click("#size-3")
    page.click("#add-to-cart")
    page.goto(base + "/demo/product/summit-cap")
    page.click("#add-to-cart")
    page.click("#cart-link")
    expect(page.locator("#cart-total")).to_have_text("€218.00")
    page.fill("#coupon-input", "trail10")
    page.click("#apply-coupon")
    assert page.text_content("#coupon-notice") == "10% off applied"
    assert page.text_content("#cart-discount") == "\u2212€21.80"
    expect(page.locator("#cart-total")).to_have_text("€196.20")
    page.click("[data-testid=inc-1]")  # one more cap: the discount follows the cart
    assert page.text_content("#cart-discount") == "\u2212€24.70"
    expect(page.locator("#cart-total")).to_have_text("€222.30")
    page.click("#go-checkout")
    assert page.text_content("[data-testid=checkout-discount]") == "\u2212€24.70"
    assert page.text_content("[data-testid=checkout-total]") == "€222.30"
    fill_checkout(page)
    page.click("#place-order")
    page.wait_for_url("**/demo/thanks?order=*")
    page.click('[data-testid="account-link"]')
    rows = _events(db, "/demo/account/")
    (checkout,) = [json.loads(r["data"]) for r in rows if r["type"] == "checkout"]
    (purchase,) = [json.loads(r["data"]) for r in rows if r["type"] == "purchase"]
    assert (checkout["value"], purchase["value"]) == (222.3, 222.3)
    (session,) = read_rows(db, "SELECT revenue FROM sessions")
    assert session == {"revenue": 222.3}
    # A code is for one order: the next cart is at full price.
    page.goto(base + "/demo/product/summit-cap")
    page.click("#add-to-cart")
    page.click("#cart-link")
    expect(page.locator("#cart-total")).to_have_text("€33.95")  # 29.00 and 4.95 shipping
    assert page.is_hidden("#cart-discount-row")


def test_mobile_account_pages_fit_390_px_and_no_favicon_is_missing(shop: tuple[str, Path]) -> None:
    base, _ = shop
    mobile = USER_AGENTS["mobile"][0][0]
    with chromium(mobile) as browser:
        tab = browser.new_page(viewport={"width": 390, "height": 844}, user_agent=mobile)
        missing: list[str] = []
        tab.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        # Two orders in the history, so the orders table has rows to lay out.
        tab.goto(base + "/demo/")
        tab.evaluate("""localStorage.setItem('fernhill_orders', JSON.stringify([
            {id: 'FH-LONGORDERID1', value: 1234.5, items: 3, at: '2026-01-02'},
            {id: 'FH-LONGORDERID2', value: 29, items: 1, at: '2026-01-01'}]))""")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for route in ("", "orders", "wishlist", "profile"):
            tab.goto(f"{base}/demo/account/{route}")
            tab.wait_for_selector("#account-view *")
            assert tab.evaluate("document.documentElement.scrollWidth") <= 390, route
            tabs = tab.eval_on_selector_all("#account-tabs a", "els => els.map(e => e.getBoundingClientRect().right)")
            assert max(tabs) <= 390, (route, tabs)
            # Nothing in the view is cut off at the side: its box does not scroll sideways either.
            view = tab.eval_on_selector("#account-view", "e => [e.scrollWidth, e.clientWidth]")
            assert view[0] <= view[1], (route, view)
            tab.screenshot(path=str(SCREENSHOTS / f"demo-account-{route or 'overview'}-390.png"), full_page=True)
        for path in ("/demo/", "/demo/cart", "/demo/help", "/login"):
            tab.goto(base + path)
            icons = tab.eval_on_selector_all("link[rel~=icon]", "els => els.map(e => e.href)")
            assert icons, path
            for icon in [*icons, base + "/favicon.ico"]:
                answer = tab.request.get(icon)
                assert answer.status == 200 and answer.headers["content-type"].startswith("image/"), icon
        assert missing == []
