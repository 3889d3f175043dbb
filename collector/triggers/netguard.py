"""Where the collector may call out (webhooks, copies of recorded assets): public addresses only,
unless the operator allows private ones.

A webhook URL is chosen by an admin, and a recorded asset URL by whoever holds a site's public
write key, but either is fetched by the collector, from inside its network: a URL naming
127.0.0.1, 169.254.169.254 (cloud metadata) or an intranet host would let them reach what only
the server can. The host is resolved and every address checked; the request then connects to an
address that passed (`connection`), so a DNS answer that changes between the check and the
connect (rebinding) cannot send it elsewhere.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class Refused(Exception):
    """The URL may not be called; the message says why, in a sentence."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked IP the request connects to


def split(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of a webhook URL, or Refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("the URL must start with http:// or https://")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("the URL must not hold a user or password (sign with the rule's secret instead)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def private_reason(address: str) -> str | None:
    """Why an address is not public (loopback, private, link-local...), or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # The most telling name first: Python counts link-local (cloud metadata) as private too.
    for name in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return None if ip.is_global else "not globally routable"


def resolve(url: str, *, allow_private: bool, switch: str = "TRAILMARK_WEBHOOK_ALLOW_PRIVATE") -> Target:
    """The URL's target with an address that passed the check; Refused otherwise (naming `switch`,
    the setting that would allow private addresses)."""
    scheme, host, port, path = split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        # Every address, not just the first: a name with one public and one internal address
        # would otherwise reach the internal one on a later attempt.
        for address in addresses:
            reason = private_reason(address)
            if reason is not None:
                raise Refused(
                    f"{host} resolves to {address}, a {reason} address; the collector calls public"
                    f" addresses only unless the operator sets {switch}=1"
                )
    if not addresses:
        raise Refused(f"cannot resolve {host}")
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address while the Host header names the URL's host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, with the certificate verified for the URL's host (SNI too)."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the target's checked address; it follows no redirect by itself."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    return kind(target, timeout)
