from __future__ import annotations

import pytest

from collector.enrich import DEFAULT_SENSITIVE_PARAMS, parse_param_names, strip_sensitive


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/", "https://a.example/"),
        ("https://a.example/p?q=shoes&page=2", "https://a.example/p?q=shoes&page=2"),
        ("https://a.example/p?token=abc", "https://a.example/p"),
        ("https://a.example/p?q=1&token=abc&page=2", "https://a.example/p?q=1&page=2"),
        ("https://a.example/p?Email=me%40x.org&utm_source=nl", "https://a.example/p?utm_source=nl"),
        ("https://a.example/p?PASSWORD=x&pwd=y&passwd=z", "https://a.example/p"),
        ("https://a.example/p?api%5Fkey=k&x=%20%2F", "https://a.example/p?x=%20%2F"),
        ("https://a.example/cb?code=abc&state=xyz", "https://a.example/cb?state=xyz"),
        ("https://a.example/p?sessionid=1&sid=2&session=3", "https://a.example/p"),
        # Keys without values, repeated keys, odd separators stay byte-identical.
        ("https://a.example/p?flag&x=1&x=2&&y=", "https://a.example/p?flag&x=1&x=2&&y="),
        ("https://a.example/p?token&flag", "https://a.example/p?flag"),
        ("https://a.example/p?tokens=1&my_token=2", "https://a.example/p?tokens=1&my_token=2"),
        # Fragments: OAuth implicit flow and SPA hash routes.
        (
            "https://a.example/cb#access_token=abc&expires_in=3600",
            "https://a.example/cb#expires_in=3600",
        ),
        ("https://a.example/cb#access_token=abc", "https://a.example/cb"),
        ("https://a.example/#/reset?token=abc&step=2", "https://a.example/#/reset?step=2"),
        ("https://a.example/#/reset?token=abc", "https://a.example/#/reset"),
        ("https://a.example/p?key=1#section-2", "https://a.example/p#section-2"),
        ("https://a.example/p#section-2", "https://a.example/p#section-2"),
        ("/relative/path?secret=1&a=b", "/relative/path?a=b"),
        ("", ""),
    ],
)
def test_strip_default_names(url: str, expected: str) -> None:
    assert strip_sensitive(url) == expected


def test_configured_names_replace_the_default() -> None:
    names = parse_param_names(" Order_Ref, coupon ")
    assert names == frozenset({"order_ref", "coupon"})
    url = "https://a.example/p?order_ref=9&coupon=X&token=t"
    assert strip_sensitive(url, names) == "https://a.example/p?token=t"


def test_empty_configuration_keeps_the_default() -> None:
    assert parse_param_names("") is DEFAULT_SENSITIVE_PARAMS
    assert parse_param_names(None) is DEFAULT_SENSITIVE_PARAMS


def test_default_list_matches_docs() -> None:
    assert DEFAULT_SENSITIVE_PARAMS >= {
        "token", "access_token", "auth", "password", "passwd", "pwd", "secret", "email", "mail",
        "key", "api_key", "apikey", "session", "sessionid", "sid", "code",
    }  # fmt: skip
