"""The fidelity test pages on their own 127.0.0.1 port: recorded with replay on, assets served the
way many sites serve them (no CORS headers), and changeable while a test runs (a restyled sheet,
a removed image) to show what a recording keeps."""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.collector import ThreadedServer, free_port

PAGES = Path(__file__).parent
STUB = "<script>window.trailmark=window.trailmark||function(){(trailmark.q=trailmark.q||[]).push(arguments)}</script>"


@dataclass
class Site:
    url: str
    # path -> replacement bytes (None: the file is gone, 404), for "the site changed later"
    changes: dict[str, bytes | None] = field(default_factory=dict)


def site_app(collector: str, key: str, site: Site, attrs: dict[str, str]) -> Starlette:
    extra = "".join(f' data-{k}="{html.escape(v)}"' for k, v in attrs.items())
    snippet = f'{STUB}\n<script async src="{collector}/trailmark.js" data-key="{key}" data-replay="1"{extra}></script>'

    def serve(request: Request) -> Response:
        name = request.path_params["name"] or "index.html"
        path = (PAGES / name).resolve()
        if name in site.changes:
            body = site.changes[name]
            if body is None:
                return PlainTextResponse("gone", 404)
        elif path.is_file() and PAGES in path.parents and path.suffix != ".py":
            body = path.read_bytes()
        else:
            return PlainTextResponse("not found", 404)
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".html"):
            body = body.replace(b"{{SNIPPET}}", snippet.encode())
        # no Access-Control-Allow-Origin on anything, as on most sites
        return Response(body, media_type=kind, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/{name:path}", serve)])


@contextmanager
def fidelity_site(collector_url: str, key: str, **attrs: str) -> Iterator[Site]:
    port = free_port()
    site = Site(f"http://127.0.0.1:{port}")
    with ThreadedServer(site_app(collector_url, key, site, attrs), port):
        yield site
