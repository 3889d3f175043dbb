"""A two-page shop served on its own origin, with trailmark.js recording replays into a collector."""

from __future__ import annotations

from html import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

SECRET = "SECRET-4242-XYZ"
MASKED_NOTE = "PRIVATE-NOTE-77"
BLOCKED = "BLOCKED-CONTENT-99"
PAGE_ONE = "Welcome to page one"
PAGE_TWO = "Checkout page two"
CART_TEXT = "Cart: 1 item"


def _doc(collector: str, key: str, title: str, body: str, replay: str = "1", mask: str = "") -> str:
    mask_attr = f' data-replay-mask="{mask}"' if mask else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body {{ font: 16px sans-serif; margin: 24px; }} .card {{ border: 1px solid #ccc; padding: 12px; }}</style>
<script>window.trailmark=window.trailmark||function(){{(trailmark.q=trailmark.q||[]).push(arguments)}}</script>
<script async src="{collector}/trailmark.js" data-key="{key}" data-replay="{replay}"{mask_attr}></script>
</head><body>{body}</body></html>"""


PAGE_ONE_BODY = f"""<h1 id="title">{PAGE_ONE}</h1>
<div class="card"><p>Blue mug, 12 EUR</p>
<button id="add" type="button">Add to cart</button> <span id="cart">Cart: empty</span></div>
<label>Card number <input id="card" name="card" autocomplete="off"></label>
<p data-tm-mask>Note: {MASKED_NOTE}</p>
<div data-tm-block><p>{BLOCKED}</p></div>
<p><a id="next" href="/page2">Go to checkout</a></p>
<script>
document.getElementById("add").addEventListener("click", function () {{
  trailmark("cart.add", {{sku: "mug-1", name: "Blue mug", price: 12, qty: 1, currency: "EUR"}});
  document.getElementById("cart").textContent = "{CART_TEXT}";
}});
</script>"""

PAGE_TWO_BODY = f"""<h1 id="title">{PAGE_TWO}</h1>
<button id="pay" type="button">Pay now</button> <span id="paid"></span>
<script>
document.getElementById("pay").addEventListener("click", function () {{
  document.getElementById("paid").textContent = "Thank you";
}});
</script>"""


def big_page(n: int) -> str:
    """About `n` elements in a table, for measuring the recorder on a large DOM."""
    rows = "".join(
        f"<tr><td>{i}</td><td><a href='#r{i}'>item {i}</a></td><td><span>{i * 3} EUR</span></td></tr>"
        for i in range(n // 6)
    )
    return f"<h1>Big page</h1><table id='big'>{rows}</table>"


def site_app(collector: str, key: str, *, replay: str = "1", mask: str = "", nodes: int = 5000) -> Starlette:
    async def one(request: Request) -> HTMLResponse:
        return HTMLResponse(_doc(collector, key, "Page one", PAGE_ONE_BODY, replay, mask))

    async def two(request: Request) -> HTMLResponse:
        return HTMLResponse(_doc(collector, key, "Page two", PAGE_TWO_BODY, replay))

    async def big(request: Request) -> HTMLResponse:
        rate = request.query_params.get("replay", replay)
        return HTMLResponse(_doc(collector, key, "Big", big_page(nodes), rate))

    return Starlette(routes=[Route("/", one), Route("/page2", two), Route("/big", big)])
