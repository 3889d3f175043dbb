"""A scripted HTTP endpoint on 127.0.0.1 for the failure modes a healthy collector never shows."""

from __future__ import annotations

import gzip
import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    """One scripted answer; `accept` answers 200 with the collector's accepted/rejected shape."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None  # answer only once this is set
    close: bool = False  # close the connection after answering, without saying so
    corrupt: bool = False  # forward to the upstream with the body's last bytes cut off


@dataclass
class Received:
    """One request as the stub saw it."""

    at: float
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any


class Stub:
    """Answers from a script of Replies, then 200 with everything accepted."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream  # a real collector to forward unscripted requests to
        self.script: list[Reply] = []
        self.requests: list[Received] = []
        self.connections = 0
        self.changed = threading.Condition()

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of every request, in arrival order (a retried batch appears twice)."""
        return [event for request in self.requests for event in request.body["events"]]

    def wait_requests(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` requests arrived (the timeout only keeps a broken run finite)."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.requests) >= count, timeout)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        raw = handler.rfile.read(length)
        data = gzip.decompress(raw) if handler.headers.get("Content-Encoding") == "gzip" else raw
        body = json.loads(data)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.changed:
            scripted = self.script.pop(0) if self.script else None
            reply = scripted or Reply()
            # Recorded before answering, so a client that got its answer sees it here.
            self.requests.append(Received(time.monotonic(), handler.path, headers, raw, body))
            self.changed.notify_all()
        if reply.hold is not None:
            reply.hold.wait(30)
        if self.upstream and (scripted is None or reply.corrupt):
            reply = self.forward(handler, raw[:-8] if reply.corrupt else raw)
        answer = reply.body
        if answer is None:
            answer = {"accepted": len(body["events"]), "rejected": []} if reply.status == 200 else {
                "error": f"scripted {reply.status}"
            }
        payload = json.dumps(answer).encode()
        handler.send_response(reply.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
        if reply.close:
            handler.close_connection = True


    def forward(self, handler: BaseHTTPRequestHandler, raw: bytes) -> Reply:
        """Pass a request on to the upstream collector and bring back its answer."""
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            headers = {k: v for k, v in handler.headers.items()
                       if k.lower() in ("content-type", "content-encoding", "user-agent")}
            conn.request("POST", handler.path, raw, headers)
            response = conn.getresponse()
            body = json.loads(response.read())
            retry = response.getheader("Retry-After")
            return Reply(response.status, body, {"Retry-After": retry} if retry else {})
        finally:
            conn.close()


@contextmanager
def serve_stub(upstream: str | None = None) -> Iterator[tuple[Stub, str]]:
    """Run a Stub on a free port of 127.0.0.1; yields it and its base URL."""
    stub = Stub(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK expects of the collector

        def setup(self) -> None:
            super().setup()
            stub.connections += 1

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            stub.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield stub, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
