from __future__ import annotations

import pytest

from collector.enrich import route_for
from collector.ingest.pipeline import path_of

TEMPLATES = ["/product/:id", "/c/:category/:page", "/docs/*", "/product/:id/reviews"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Site templates, first match wins, segments compared exactly.
        ("/product/blue-shoes", "/product/:id"),
        ("/product/123", "/product/:id"),
        ("/product/123/reviews", "/product/:id/reviews"),
        ("/c/shoes/2", "/c/:category/:page"),
        ("/docs/guide/install", "/docs/*"),
        ("/docs/", "/docs/*"),
        ("/product/", "/product/"),
        ("/products/123", "/products/:id"),
        # Automatic folding when no template matches.
        ("/", "/"),
        ("", "/"),
        ("/about", "/about"),
        ("/order/98765", "/order/:id"),
        ("/order/98765/", "/order/:id/"),
        ("/u/0f8fad5b-d9cb-469f-a165-70867728950e/settings", "/u/:uuid/settings"),
        ("/u/0F8FAD5B-D9CB-469F-A165-70867728950E", "/u/:uuid"),
        ("/files/9e107d9d372bb6826bd81d3542a419d6", "/files/:hash"),
        ("/commit/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commit/:hash"),
        ("/s/aZ3kQ9xPm2LtR8vW4nB6cY1d", "/s/:hash"),
        ("/blog/2024/11/my-post-3", "/blog/:id/:id/my-post-3"),
        ("/cafebabe", "/cafebabe"),
        ("/deadbeefdeadbeef", "/deadbeefdeadbeef"),
        ("/abcdefghijklmnopqrstuvwxyz", "/abcdefghijklmnopqrstuvwxyz"),
    ],
)
def test_route_for(path: str, expected: str) -> None:
    assert route_for(path, TEMPLATES) == expected


def test_without_templates_only_folding_applies() -> None:
    assert route_for("/product/123") == "/product/:id"
    assert route_for("/product/blue-shoes") == "/product/blue-shoes"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("https://a.example/todo/#/active", "/todo/#/active"),
        ("https://a.example/#!/inbox/12?tab=2", "/#!/inbox/12"),
        ("https://a.example/app?x=1#/orders/9", "/app#/orders/9"),
        ("https://a.example/docs#pricing", "/docs"),
        ("https://a.example/docs#", "/docs"),
        ("https://a.example", "/"),
    ],
)
def test_hash_routes_are_part_of_the_path_and_anchors_are_not(url: str, path: str) -> None:
    assert path_of(url) == path


def test_hash_routes_match_templates_on_their_fragment_else_fold_both_parts() -> None:
    assert route_for("/app#/orders/9", ["/orders/:id"]) == "/orders/:id"
    assert route_for("/app/42#/orders/9") == "/app/:id#/orders/:id"
    assert route_for("/#!/inbox/12") == "/#!/inbox/:id"
    assert route_for("/todo/#/active", ["/todo/"]) == "/todo/#/active"
