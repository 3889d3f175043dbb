"""The client's IP address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = tuple[Network, ...]


def parse_trusted_proxies(text: str | None) -> TrustedProxies:
    """Parse TRAILMARK_TRUSTED_PROXIES: comma separated IPs and CIDRs, e.g. `10.0.0.0/8, ::1`."""
    networks = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise ValueError(f"TRAILMARK_TRUSTED_PROXIES: {item!r} is not an IP or CIDR") from error
    return tuple(networks)


def client_ip(peer: str | None, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The visitor's address; X-Forwarded-For counts only behind trusted proxies.

    The header is read right to left (entries nearest to us first) and the first address that
    is not a trusted proxy wins: anything left of it was written by the client and can be forged.
    An unparseable peer gives "".
    """
    address = parse_address(peer)
    if address is None:
        return ""
    if not forwarded_for or not is_trusted(address, trusted):
        return str(address)
    for entry in reversed(forwarded_for.split(",")):
        hop = parse_address(entry)
        if hop is None:
            # Garbage in the chain: stop at the last hop we could believe.
            break
        address = hop
        if not is_trusted(hop, trusted):
            break
    return str(address)


def is_trusted(address: Address, trusted: Iterable[Network]) -> bool:
    """True when `address` lies in one of the trusted networks."""
    return any(address in network for network in trusted)


def parse_address(text: str | None) -> Address | None:
    """An address from a peer or an XFF entry; tolerates `[v6]:port` and `v4:port`."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
