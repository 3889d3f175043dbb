"""The demo shop's pages at /demo/: one layout with the real snippet around a body per page."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from collector.config import Settings

HERE = Path(__file__).parent
DEMO_SITE, DEMO_KEY = "demo", "wk_demo"
# The demo shop's backend vouches for its customers (identify) with this secret server key. It is
# well known on purpose: the demo site exists only under `serve --demo` and `demo seed`.
DEMO_SECRET = "sk_demo_backend"

# body file -> page title; the body's data-page tells shop.js what to render
TITLES = {
    "home": "Outdoor gear for wet weekends",
    "category": "Category",
    "product": "Product",
    "search": "Search",
    "cart": "Your cart",
    "checkout": "Checkout",
    "thanks": "Thank you",
    "help": "Help centre",
    "support": "Contact support",
    "account": "Account",
    "notfound": "Page not found",
}


@cache
def catalog() -> dict[str, object]:
    """The shop's categories and products (the seeder picks from the same list)."""
    data: dict[str, object] = json.loads((HERE / "catalog.json").read_text())
    return data


@cache
def render(page: str) -> str:
    """A full HTML page: the layout with the page's body and title filled in."""
    layout = (HERE / "layout.html").read_text()
    body = (HERE / "pages" / f"{page}.html").read_text()
    return (
        layout.replace("{{title}}", TITLES[page]).replace("{{page}}", page).replace("{{body}}", body)
    )


def page(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        status = 404 if name == "notfound" else 200
        return HTMLResponse(render(name), status, headers={"Cache-Control": "no-cache"})

    return endpoint


async def catalog_js(request: Request) -> Response:
    # a script, not a fetch: pages render synchronously, so heatmap positions do not shift
    body = "window.CATALOG = " + json.dumps(catalog(), separators=(",", ":")) + ";\n"
    return Response(body, media_type="text/javascript; charset=utf-8")


async def to_slash(request: Request) -> Response:
    return RedirectResponse("/demo/", 308)


shop_routes: list[BaseRoute] = [
    Route("/", page("home")),
    Route("/category/{slug}", page("category")),
    Route("/product/{slug}", page("product")),
    Route("/search", page("search")),
    Route("/cart", page("cart")),
    Route("/checkout", page("checkout")),
    Route("/thanks", page("thanks")),
    Route("/help", page("help")),
    Route("/support", page("support")),
    # the account area is a single-page app: every path under it loads the same page
    Route("/account/", page("account")),
    Route("/account/{rest:path}", page("account")),
    Route("/assets/catalog.js", catalog_js),
    Mount("/assets", StaticFiles(directory=HERE / "assets")),
    Route("/{rest:path}", page("notfound")),
]


def routes(settings: Settings) -> list[BaseRoute]:
    """The /demo routes when the demo is on (`trailmark serve --demo`), else none."""
    if not settings.demo:
        return []
    return [Route("/demo", to_slash), Mount("/demo", routes=shop_routes)]
