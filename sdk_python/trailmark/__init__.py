"""Trailmark's Python SDK: `Client`, and module-level functions on a default client for scripts."""

from __future__ import annotations

import threading
from typing import Any

from .client import DEFAULT_HOST, Client
from .errors import APIError, EncodeError, RejectedError, ShutdownError, TrailmarkError
from .sender import OnError
from .version import VERSION

__version__ = VERSION
__all__ = [
    "APIError",
    "Client",
    "EncodeError",
    "RejectedError",
    "ShutdownError",
    "TrailmarkError",
    "cart_add",
    "cart_remove",
    "checkout",
    "exposure",
    "flush",
    "identify",
    "page",
    "purchase",
    "shutdown",
    "survey",
    "track",
    "variant",
]

# Settings of the default client, read when the first module-level call creates it.
write_key: str | None = None
host: str = DEFAULT_HOST
on_error: OnError | None = None
sync_mode: bool = False
disabled: bool = False
default_client: Client | None = None
_lock = threading.Lock()


def _default() -> Client:
    global default_client
    with _lock:
        if default_client is None:
            if not write_key and not disabled:
                raise ValueError("set trailmark.write_key (and trailmark.host) before tracking")
            default_client = Client(
                write_key or "disabled",
                host,
                on_error=on_error,
                sync_mode=sync_mode,
                disabled=disabled,
            )
        return default_client


def track(*args: Any, **kwargs: Any) -> str:
    """Client.track on the default client."""
    return _default().track(*args, **kwargs)


def identify(*args: Any, **kwargs: Any) -> str:
    """Client.identify on the default client."""
    return _default().identify(*args, **kwargs)


def page(*args: Any, **kwargs: Any) -> str:
    """Client.page on the default client."""
    return _default().page(*args, **kwargs)


def cart_add(*args: Any, **kwargs: Any) -> str:
    """Client.cart_add on the default client."""
    return _default().cart_add(*args, **kwargs)


def cart_remove(*args: Any, **kwargs: Any) -> str:
    """Client.cart_remove on the default client."""
    return _default().cart_remove(*args, **kwargs)


def checkout(*args: Any, **kwargs: Any) -> str:
    """Client.checkout on the default client."""
    return _default().checkout(*args, **kwargs)


def purchase(*args: Any, **kwargs: Any) -> str:
    """Client.purchase on the default client."""
    return _default().purchase(*args, **kwargs)


def survey(*args: Any, **kwargs: Any) -> str:
    """Client.survey on the default client."""
    return _default().survey(*args, **kwargs)


def variant(*args: Any, **kwargs: Any) -> str:
    """Client.variant on the default client."""
    return _default().variant(*args, **kwargs)


def exposure(*args: Any, **kwargs: Any) -> str:
    """Client.exposure on the default client."""
    return _default().exposure(*args, **kwargs)


def flush(timeout: float | None = None) -> bool:
    """Client.flush on the default client, if one was made."""
    client = default_client
    return True if client is None else client.flush(timeout)


def shutdown(timeout: float | None = None) -> bool:
    """Shut the default client down; the next module-level call makes a new one."""
    global default_client
    with _lock:
        client, default_client = default_client, None
    return True if client is None else client.shutdown(timeout)
