from __future__ import annotations

import pytest

from collector.enrich import client_ip, parse_trusted_proxies

TRUSTED = parse_trusted_proxies("10.0.0.0/8, 192.168.1.5 ,fd00::/8")


def test_parse_trusted_proxies() -> None:
    assert [str(n) for n in TRUSTED] == ["10.0.0.0/8", "192.168.1.5/32", "fd00::/8"]
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(None) == ()
    assert [str(n) for n in parse_trusted_proxies("10.1.2.3/8")] == ["10.0.0.0/8"]


def test_parse_trusted_proxies_names_the_bad_entry() -> None:
    with pytest.raises(ValueError, match="'proxy.local' is not an IP or CIDR"):
        parse_trusted_proxies("10.0.0.1, proxy.local")


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        # No proxy in front: the peer is the client.
        ("81.2.69.142", None, "81.2.69.142"),
        ("81.2.69.142", "", "81.2.69.142"),
        # Untrusted peer: a spoofed header is ignored.
        ("81.2.69.142", "1.1.1.1", "81.2.69.142"),
        ("81.2.69.142", "1.1.1.1, 10.0.0.2", "81.2.69.142"),
        # Trusted peer: the right-most untrusted entry.
        ("10.0.0.2", "81.2.69.142", "81.2.69.142"),
        ("10.0.0.2", "81.2.69.142, 10.0.0.7", "81.2.69.142"),
        ("192.168.1.5", "81.2.69.142,10.9.9.9,10.0.0.7", "81.2.69.142"),
        # A client-forged left part is skipped because a real client sits to its right.
        ("10.0.0.2", "6.6.6.6, 81.2.69.142", "81.2.69.142"),
        ("10.0.0.2", "127.0.0.1, 81.2.69.142, 10.0.0.3", "81.2.69.142"),
        # Only trusted hops: the left-most one is the best we know.
        ("10.0.0.2", "10.0.0.9, 10.0.0.3", "10.0.0.9"),
        # Garbage stops the walk at the last believable hop.
        ("10.0.0.2", "81.2.69.142, nonsense", "10.0.0.2"),
        ("10.0.0.2", "nonsense, 10.0.0.3", "10.0.0.3"),
        # Ports, brackets, IPv6 and IPv4-mapped forms are normalised.
        ("10.0.0.2", "81.2.69.142:51234", "81.2.69.142"),
        ("10.0.0.2", "[2400:4050:0:0::1]:443", "2400:4050::1"),
        ("fd00::2", "2400:4050::1", "2400:4050::1"),
        ("::ffff:10.0.0.2", "81.2.69.142", "81.2.69.142"),
        ("::ffff:81.2.69.142", None, "81.2.69.142"),
        ("2400:4050::1", "81.2.69.142", "2400:4050::1"),
        # Unknown peer (unix socket, test client): nothing to go on.
        (None, "81.2.69.142", ""),
        ("testclient", None, ""),
    ],
)
def test_client_ip(peer: str | None, xff: str | None, expected: str) -> None:
    assert client_ip(peer, xff, TRUSTED) == expected


def test_no_trusted_proxies_means_the_header_is_never_believed() -> None:
    assert client_ip("10.0.0.2", "81.2.69.142", ()) == "10.0.0.2"
