"""A tiny static site on its own 127.0.0.1 port serving the SDK test pages with the snippet filled in."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support.browser import chromium
from tests.support.collector import ThreadedServer, free_port

PAGES = Path(__file__).parent
STUB = "<script>window.trailmark=window.trailmark||function(){(trailmark.q=trailmark.q||[]).push(arguments)}</script>"


def snippet(collector: str, key: str, attrs: dict[str, str]) -> str:
    extra = "".join(f' data-{k}="{html.escape(v)}"' for k, v in attrs.items())
    return f'{STUB}\n<script async src="{collector}/trailmark.js" data-key="{key}"{extra}></script>'


def site_app(collector: str, key: str, attrs: dict[str, str], outbound: str) -> Starlette:
    """Pages by file name; any /app/... path is the single-page app, as a real SPA server would do."""

    def page(request: Request) -> Response:
        name = request.path_params["name"]
        if name.startswith("app/") or name == "app":
            name = "spa.html"
        path = PAGES / name
        if not name.endswith(".html") or not path.is_file():
            return PlainTextResponse("not found", 404)
        body = path.read_text().replace("{{SNIPPET}}", snippet(collector, key, attrs))
        body = body.replace("{{COLLECTOR}}", collector)
        return HTMLResponse(body.replace("{{OUTBOUND}}", outbound))

    return Starlette(routes=[Route("/{name:path}", page)])


@contextmanager
def sdk_site(collector_url: str, key: str, **attrs: str) -> Iterator[str]:
    """Serve the pages with `data-<name>="<value>"` options on the script tag; yields the site's base URL."""
    port = free_port()
    outbound = f"http://localhost:{port}"  # another host than 127.0.0.1: an outbound link, still local
    options = {k.replace("_", "-"): v for k, v in attrs.items()}
    with ThreadedServer(site_app(collector_url, key, options, outbound), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Real Chromium, one per test module."""
    with chromium() as b:
        yield b
