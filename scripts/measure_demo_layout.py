"""Measure where the demo shop's buttons are on each device, for the seeder's heatmap clicks.

Run after changing the shop's pages or CSS:
    .venv/bin/python scripts/measure_demo_layout.py
It serves the shop on a free port, opens each page in Chromium at a phone, a tablet and a desktop
viewport, and writes collector/demo/layout.json: per device and page the viewport, the document
size and the page box (x, y, w, h in document px) of every element the seeder clicks.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.app import create_app  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.demo.shop import DEMO_KEY, DEMO_SITE  # noqa: E402
from collector.store import SQLiteStore  # noqa: E402
from tests.support.collector import ThreadedServer, free_port  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEVICES = {"desktop": (1440, 900), "tablet": (820, 1180), "mobile": (390, 844)}
CART = [{"sku": "JK-STORM-PINE-M", "slug": "storm-shell-jacket", "name": "Storm Shell Jacket (Pine, M)",
         "price": 189.0, "qty": 1, "category": "Jackets", "hex": "#2f5d50"}]
NAV = ['[data-testid="nav-jackets"]', '[data-testid="nav-footwear"]', '[data-testid="nav-packs"]',
       '[data-testid="nav-accessories"]', "#search-input", "#cart-link", "#help-link", "#logo"]
PAGES: dict[str, tuple[str, list[str]]] = {
    "home": ("/demo/", [*NAV, "#hero-cta", "#hero-secondary", '[data-testid="tile-jackets"]',
                        '[data-testid="tile-footwear"]', '[data-testid="featured-storm-shell-jacket"]',
                        '[data-testid="featured-fellrunner-shoe"]', '[data-testid="featured-daypack-22"]']),
    "category": ("/demo/category/jackets", [*NAV, "#sort-select", '[data-testid="product-storm-shell-jacket"]',
                                            '[data-testid="product-ridge-down-parka"]',
                                            '[data-testid="product-trail-fleece"]']),
    "product": ("/demo/product/storm-shell-jacket", [*NAV, "#product-image", "#colour-1", "#colour-2", "#size-1",
                                                     "#size-2", "#size-3", "#size-4", "#add-to-cart",
                                                     "#size-guide-link", "#qty-input"]),
    "cart": ("/demo/cart", [*NAV, "#coupon-input", "#apply-coupon", "#go-checkout", '[data-testid="inc-0"]',
                            '[data-testid="remove-0"]']),
    "checkout": ("/demo/checkout", [*NAV, "#email", "#card", "#place-order"]),
    "thanks": ("/demo/thanks?order=FH-1", [*NAV, *(f"#nps-{i}" for i in range(11))]),
    "help": ("/demo/help", [*NAV, *(f"#ces-{i}" for i in range(1, 6)), "#contact-support",
                            '[data-testid="faq-shipping"] > summary', '[data-testid="faq-returns"] > summary']),
    "support": ("/demo/support", [*NAV, "#send-support", "#support-message"]),
    "account": ("/demo/account/", [*NAV, "#tab-orders", "#tab-wishlist", "#tab-profile"]),
}
BOXES = """sels => {
  const out = {};
  for (const s of sels) {
    const el = document.querySelector(s);
    if (!el) continue;
    const r = el.getBoundingClientRect();
    out[s] = [Math.round(r.left + scrollX), Math.round(r.top + scrollY), Math.round(r.width), Math.round(r.height)];
  }
  const de = document.documentElement;
  return {boxes: out, dw: de.scrollWidth, dh: de.scrollHeight};
}"""


def measure(base: str) -> dict[str, object]:
    layout: dict[str, object] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for device, (vw, vh) in DEVICES.items():
            page = browser.new_page(viewport={"width": vw, "height": vh})
            page.goto(base + "/demo/")
            page.evaluate("c => localStorage.setItem('fernhill_cart', JSON.stringify(c))", CART)
            pages: dict[str, object] = {}
            for name, (path, selectors) in PAGES.items():
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                found = page.evaluate(BOXES, selectors)
                missing = sorted(set(selectors) - set(found["boxes"]))
                assert not missing, f"{device} {name}: not on the page: {missing}"
                pages[name] = {"path": path, "dw": found["dw"], "dh": found["dh"], "boxes": found["boxes"]}
            layout[device] = {"vw": vw, "vh": vh, "pages": pages}
            page.close()
        browser.close()
    return layout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "layout.db"
        store = SQLiteStore(db)
        store.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
        port = free_port()
        settings = Settings(db=db, rate_limit=0.0, demo=True)
        with ThreadedServer(create_app(settings, store), port):
            layout = measure(f"http://127.0.0.1:{port}")
    out = ROOT / "collector" / "demo" / "layout.json"
    out.write_text(json.dumps(layout, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
