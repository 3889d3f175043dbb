"""Calling the ASGI app in process as a server would: the demo seeder and the fuzz benchmark."""

from __future__ import annotations

import asyncio
from typing import Any


async def call(
    app: Any, method: str, path: str, *, headers: list[tuple[bytes, bytes]], body: bytes = b"",
    query: bytes = b"", client: tuple[str, int] = ("127.0.0.1", 50000),
) -> tuple[int, bytes]:
    """One request through the app's ASGI interface; returns (status, body)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode("utf-8", "replace"), "query_string": query,
        "root_path": "", "server": ("127.0.0.1", 8000), "client": client, "state": {},
        "headers": [*headers, (b"host", b"127.0.0.1:8000")],
    }
    done = asyncio.Event()
    sent_body = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()  # a client that stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)
