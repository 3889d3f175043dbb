"""A real webhook receiver on 127.0.0.1 for trigger tests: scripted answers, every request kept."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    status: int  # what the receiver answered
    wall_ms: int = 0  # time.time() on arrival, in ms: to compare with a payload's fired_at

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery(self) -> str:
        return self.headers["trailmark-delivery"]


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers), then `default`."""

    port: int = 0
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default: int = 200
    hold: threading.Event | None = None  # set: answer; unset: keep the request waiting
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)  # a request came in (held or not)
    tls: ssl.SSLContext | None = None  # serve HTTPS with this context

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                wall_ms = int(time.time() * 1000)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.arrived.set()
                if owner.hold is not None:
                    owner.hold.wait()
                with owner._lock:
                    status, headers = owner.script.pop(0) if owner.script else (owner.default, {})
                    owner.received.append(Received(
                        {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic(), status, wall_ms))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def answered(self, status: int = 200) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status == status]


def wait_for(condition: Callable[[], Any], what: str, limit: float = 60.0) -> Any:
    """Poll until `condition()` is truthy; a generous limit, never a timing assert."""
    deadline = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)
