from __future__ import annotations

from typing import get_args
from urllib.parse import unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.enrich import DEFAULT_SENSITIVE_PARAMS, Channel, classify, parse_param_names, strip_sensitive

CHANNELS = set(get_args(Channel))


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


_PART = st.text(alphabet="abcdefgkorstnu_%=+&#?/:.-5A", max_size=12)


@given(base=st.sampled_from(["https://a.example/p", "/p", ""]), parts=st.lists(_PART, max_size=6))
def test_strip_keeps_every_other_parameter_byte_identical(base: str, parts: list[str]) -> None:
    query = "&".join(p.replace("&", "").replace("#", "") for p in parts)
    url = f"{base}?{query}" if query else base
    stripped = strip_sensitive(url)
    expected = [p for p in query.split("&") if _lower_name(p) not in DEFAULT_SENSITIVE_PARAMS]
    assert stripped == (f"{base}?{'&'.join(expected)}" if "&".join(expected) else base)


@given(url=st.text(max_size=60), referrer=st.text(max_size=60))
def test_classify_and_strip_never_raise(url: str, referrer: str) -> None:
    assert classify(url, referrer).channel in CHANNELS
    assert isinstance(strip_sensitive(url), str)


def _lower_name(part: str) -> str:
    return unquote_plus(part.partition("=")[0]).strip().lower()
