"""The HTTP server `trailmark serve` runs (collector/server.py): huge headers, slow clients, slow bodies.

Real sockets against the real server on loopback; timeouts are set short through the server's own
configuration. Loop bounds below only stop a broken server from hanging the test run."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from collector.app import create_app
from collector.ingest import http as body_module
from collector.server import MAX_HEADER_BYTES, config
from tests.support.collector import free_port, make_settings, make_store

pytestmark = pytest.mark.slow

IDLE_S = 0.5  # the header timeout the tests run with


class HardenedServer:
    """collector.server's uvicorn configuration in a thread, stopped by the fixture."""

    def __init__(self, app: object, port: int, header_timeout_s: float) -> None:
        self.port = port
        self.server = uvicorn.Server(config(app, "127.0.0.1", port, header_timeout_s=header_timeout_s))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> HardenedServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join()


@pytest.fixture
def hardened(tmp_path: Path) -> Iterator[HardenedServer]:
    db = tmp_path / "trailmark.db"
    app = create_app(make_settings(db), make_store(db))
    with HardenedServer(app, free_port(), IDLE_S) as server:
        yield server


def healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz").text == "ok"


def flood_header(port: int, megabytes: int = 64) -> tuple[int, bytes]:
    """Sends one header line of up to `megabytes` MiB; returns (bytes sent, what came back) once the
    server answered or closed the connection."""
    chunk = b"a" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Flood: ")
        try:
            while sent < megabytes * 2**20:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(chunk)
                sent += len(chunk)
            sock.settimeout(30)
            return sent, sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return sent, b""


def test_a_huge_header_is_refused_before_it_is_read_whole(hardened: HardenedServer) -> None:
    sent, answer = flood_header(hardened.port)
    # refused with a 4xx, or cut off: either way long before the 64 MiB were taken in
    assert answer == b"" or answer.split(b" ")[1] in (b"400", b"431"), answer[:100]
    assert sent < 64 * 2**20
    assert healthy(hardened.port)


def test_headers_just_under_the_limit_are_served(hardened: HardenedServer) -> None:
    cookie = "a=" + "b" * (MAX_HEADER_BYTES - 1024)
    answer = httpx.get(f"http://127.0.0.1:{hardened.port}/healthz", headers={"cookie": cookie})
    assert (answer.status_code, answer.text) == (200, "ok")


def slowloris(port: int, *, trickles: int = 200, every_s: float = 0.05) -> int | None:
    """Trickles a header one byte at a time; the number of bytes sent when the server closed the
    connection, or None if it never did within `trickles` bytes."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
        for sent in range(trickles):
            readable, _, _ = select.select([sock], [], [], every_s)
            if readable and sock.recv(4096) == b"":
                return sent
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                return sent
    return None


def test_a_slowloris_connection_is_closed_by_the_server(hardened: HardenedServer) -> None:
    # 200 trickles at 0.05 s span 10 s, twenty times the configured 0.5 s header timeout
    closed_after = slowloris(hardened.port)
    assert closed_after is not None
    assert healthy(hardened.port)


def test_real_requests_are_served_while_slow_clients_wait(hardened: HardenedServer) -> None:
    slow = [socket.create_connection(("127.0.0.1", hardened.port)) for _ in range(50)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        assert [healthy(hardened.port) for _ in range(5)] == [True] * 5
    finally:
        for sock in slow:
            sock.close()


def test_an_idle_connection_that_never_sends_is_closed(hardened: HardenedServer) -> None:
    with socket.create_connection(("127.0.0.1", hardened.port)) as sock:
        sock.settimeout(30)
        assert sock.recv(1) == b""


def test_a_trickling_body_is_answered_408(hardened: HardenedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(body_module, "BODY_TIMEOUT_S", 0.5)
    with socket.create_connection(("127.0.0.1", hardened.port)) as sock:
        sock.sendall(b"POST /v1/batch HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: 100000\r\n\r\n{")
        sock.settimeout(0.2)
        answer = b""
        for _ in range(100):  # a byte every 0.2 s keeps the server's read timeout from firing
            try:
                piece = sock.recv(4096)
            except TimeoutError:
                if not answer:
                    sock.sendall(b" ")
                continue
            answer += piece
            if not piece or answer.endswith(b"}"):
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert json.loads(body) == {"error": "body not received within 0.5 s"}


def test_trailmark_serve_runs_the_hardened_server(tmp_path: Path) -> None:
    """The Docker image's CMD: a huge header is cut off, and SIGTERM stops it."""
    port = free_port()
    env = {**os.environ, "TRAILMARK_ADMIN_TOKEN": "t" * 32}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "serve", "--port", str(port), "--db", str(tmp_path / "t.db")],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(500):
            try:
                if healthy(port):
                    break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.05)
        sent, answer = flood_header(port)
        assert answer == b"" or answer.split(b" ")[1] in (b"400", b"431")
        assert sent < 64 * 2**20
        assert healthy(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught: killed by SIGTERM
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM), log.read_text()
