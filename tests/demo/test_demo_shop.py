"""The demo shop at /demo/: every page is served with the real snippet, only when the demo is on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from collector.demo.shop import catalog
from tests.support import ROOT
from tests.support.collector import make_settings, make_store

SNIPPET = '<script async src="/trailmark.js" data-key="wk_demo" data-replay="1"></script>'
STUB = "<script>window.trailmark=window.trailmark||function(){(trailmark.q=trailmark.q||[]).push(arguments)}</script>"

PAGES = {
    "/demo/": "home",
    "/demo/category/jackets": "category",
    "/demo/product/storm-shell-jacket": "product",
    "/demo/search?q=jacket": "search",
    "/demo/cart": "cart",
    "/demo/checkout": "checkout",
    "/demo/thanks?order=FH-1": "thanks",
    "/demo/help": "help",
    "/demo/support": "support",
    "/demo/account/": "account",
    "/demo/account/orders": "account",
    "/demo/account/wishlist": "account",
}


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "demo.db"
    with TestClient(create_app(make_settings(db, demo=True), make_store(db))) as http:
        yield http


@pytest.mark.parametrize(("path", "page"), PAGES.items())
def test_pages_carry_the_snippet(demo: TestClient, path: str, page: str) -> None:
    response = demo.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert f'<body data-page="{page}">' in html
    # the stub comes first so that calls made before the script loads are queued, not lost
    assert html.index(STUB) < html.index(SNIPPET)
    assert html.count("trailmark.js") == 1
    # no external assets: everything the shop loads comes from the collector itself
    assert re.findall(r'(?:src|href)="(https?:)?//', html) == []


def test_assets_and_catalog(demo: TestClient) -> None:
    assert demo.get("/demo/assets/shop.css").status_code == 200
    shop_js = demo.get("/demo/assets/shop.js")
    assert shop_js.status_code == 200
    for call in ('tm("cart.add"', 'tm("cart.remove"', 'tm("checkout"', 'tm("purchase"', 'tm("survey", "nps"',
                 'tm("survey", "ces"', 'tm("survey", "csat"', "history.pushState"):
        assert call in shop_js.text
    catalog_js = demo.get("/demo/assets/catalog.js")
    assert catalog_js.text.startswith("window.CATALOG = {")
    assert len(catalog()["products"]) == 11  # type: ignore[arg-type]


def test_unknown_demo_page_is_a_404_page(demo: TestClient) -> None:
    response = demo.get("/demo/nope")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert demo.get("/demo", follow_redirects=False).headers["location"] == "/demo/"


def test_no_shop_without_demo(client) -> None:  # type: ignore[no-untyped-def]
    assert client.http.get("/demo/").status_code == 404


def test_buttons_have_stable_ids() -> None:
    """Heatmaps and e2e tests address these; the seeder's layout.json is measured from them."""
    pages = ROOT / "collector" / "demo" / "pages"
    html = "".join(p.read_text() for p in pages.glob("*.html"))
    for button in re.findall(r"<button[^>]*>", html):
        assert 'id="' in button and 'data-testid="' in button, button
