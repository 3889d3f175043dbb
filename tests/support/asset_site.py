"""A recorded site's web server on its own 127.0.0.1 port: files whose bytes, types and answers a
test sets and changes while it runs (the site restyled, an image removed, a redirect), and a log
of every request it got."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.collector import ThreadedServer, free_port


@dataclass
class File:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class AssetSite:
    url: str
    files: dict[str, File] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, request headers)

    def put(self, path: str, body: bytes, content_type: str) -> str:
        self.files[path] = File(body, content_type)
        return self.url + path

    def redirect(self, path: str, location: str) -> str:
        self.files[path] = File(b"", "text/plain", 302, {"Location": location})
        return self.url + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.seen if p == path)


def _app(site: AssetSite) -> Starlette:
    def serve(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        site.seen.append((path, dict(request.headers)))
        found = site.files.get(path)
        if found is None:
            return PlainTextResponse("gone", 404)
        # no Access-Control-Allow-Origin, as on most sites
        return Response(found.body, found.status, {"Cache-Control": "no-store", **found.headers},
                        media_type=found.content_type)

    return Starlette(routes=[Route("/{path:path}", serve)])


@contextmanager
def asset_site() -> Iterator[AssetSite]:
    port = free_port()
    site = AssetSite(f"http://127.0.0.1:{port}")
    with ThreadedServer(_app(site), port):
        yield site
