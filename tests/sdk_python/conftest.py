"""Fixtures of the SDK tests: a scripted stub endpoint and clients that are always shut down."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The SDK is its own distribution; import it from the tree even where the editable install
# (`pip install -e sdk_python`) was skipped, so these tests always test this checkout.
SDK_PATH = str(Path(__file__).resolve().parents[2] / "sdk_python")
if SDK_PATH not in sys.path:
    sys.path.insert(0, SDK_PATH)

import trailmark  # noqa: E402

from .stub import Stub, serve_stub  # noqa: E402


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    with serve_stub() as served:
        yield served


class Errors(list):
    """An on_error that records (exception, events) pairs."""

    def __call__(self, exc: Exception, events: list[dict[str, Any]]) -> None:
        self.append((exc, events))


@pytest.fixture
def errors() -> Errors:
    return Errors()


@pytest.fixture
def make_client(errors: Errors) -> Iterator[Callable[..., trailmark.Client]]:
    clients: list[trailmark.Client] = []

    def make(host: str, key: str = "wk_test", **options: Any) -> trailmark.Client:
        options.setdefault("on_error", errors)
        client = trailmark.Client(key, host, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown(timeout=5)
