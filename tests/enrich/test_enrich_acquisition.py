from __future__ import annotations

import pytest

from collector.enrich import Acquisition, classify
from collector.enrich.acquisition import site_name

PAGE = "https://shop.example.com/landing"

CHANNELS = [
    # direct
    (PAGE, None, "direct", ""),
    (PAGE, "", "direct", ""),
    (None, None, "direct", ""),
    # internal: the referrer is the page's own host (www. ignored)
    (PAGE, "https://shop.example.com/cart?x=1", "internal", "shop.example.com"),
    ("https://www.example.com/a", "https://example.com/b", "internal", "example.com"),
    # organic search
    (PAGE, "https://www.google.com/", "organic_search", "google.com"),
    (PAGE, "https://www.google.co.uk/", "organic_search", "google.co.uk"),
    (PAGE, "https://www.google.de/search?q=x", "organic_search", "google.de"),
    (PAGE, "https://www.bing.com/search?q=shoes", "organic_search", "bing.com"),
    (PAGE, "https://duckduckgo.com/", "organic_search", "duckduckgo.com"),
    (PAGE, "https://search.yahoo.com/", "organic_search", "search.yahoo.com"),
    (PAGE, "https://search.yahoo.co.jp/", "organic_search", "search.yahoo.co.jp"),
    (PAGE, "https://yandex.ru/", "organic_search", "yandex.ru"),
    (PAGE, "https://www.baidu.com/link?url=abc", "organic_search", "baidu.com"),
    (PAGE, "https://www.ecosia.org/", "organic_search", "ecosia.org"),
    (PAGE, "https://search.brave.com/", "organic_search", "search.brave.com"),
    (
        PAGE,
        "android-app://com.google.android.googlequicksearchbox/",
        "organic_search",
        "com.google.android.googlequicksearchbox",
    ),
    (f"{PAGE}?utm_source=google&utm_medium=organic", None, "organic_search", ""),
    (f"{PAGE}?utm_source=google", None, "organic_search", ""),
    # paid search
    (
        f"{PAGE}?utm_source=google&utm_medium=cpc",
        "https://www.google.com/",
        "paid_search",
        "google.com",
    ),
    (f"{PAGE}?utm_source=bing&utm_medium=ppc", None, "paid_search", ""),
    (f"{PAGE}?utm_source=google&utm_medium=Paid", None, "paid_search", ""),
    (f"{PAGE}?gclid=Cj0KCQ", "https://www.google.com/", "paid_search", "google.com"),
    (f"{PAGE}?msclkid=abc123", "https://www.bing.com/", "paid_search", "bing.com"),
    (f"{PAGE}?wbraid=x1", None, "paid_search", ""),
    (f"{PAGE}?GBRAID=x1", None, "paid_search", ""),
    # organic social
    (PAGE, "https://l.facebook.com/", "organic_social", "l.facebook.com"),
    (PAGE, "https://m.facebook.com/", "organic_social", "m.facebook.com"),
    (PAGE, "https://www.instagram.com/", "organic_social", "instagram.com"),
    (PAGE, "https://t.co/abc123", "organic_social", "t.co"),
    (PAGE, "https://twitter.com/", "organic_social", "twitter.com"),
    (PAGE, "https://x.com/someone/status/1", "organic_social", "x.com"),
    (PAGE, "https://www.linkedin.com/feed/", "organic_social", "linkedin.com"),
    (PAGE, "https://lnkd.in/abc", "organic_social", "lnkd.in"),
    (PAGE, "https://out.reddit.com/t3_x", "organic_social", "out.reddit.com"),
    (PAGE, "https://www.pinterest.co.uk/", "organic_social", "pinterest.co.uk"),
    (PAGE, "https://m.youtube.com/", "organic_social", "m.youtube.com"),
    (PAGE, "https://www.tiktok.com/", "organic_social", "tiktok.com"),
    (PAGE, "android-app://com.linkedin.android/", "organic_social", "com.linkedin.android"),
    (f"{PAGE}?fbclid=IwAR0abc", "https://l.facebook.com/", "organic_social", "l.facebook.com"),
    (f"{PAGE}?fbclid=IwAR0abc", None, "organic_social", ""),
    (f"{PAGE}?utm_source=twitter&utm_medium=social", None, "organic_social", ""),
    (f"{PAGE}?utm_source=instagram", None, "organic_social", ""),
    # paid social
    (
        f"{PAGE}?utm_source=facebook&utm_medium=paid_social",
        "https://l.facebook.com/",
        "paid_social",
        "l.facebook.com",
    ),
    (f"{PAGE}?utm_source=fb&utm_medium=paidsocial&fbclid=IwAR0", None, "paid_social", ""),
    (f"{PAGE}?utm_source=linkedin&utm_medium=cpc", None, "paid_social", ""),
    (f"{PAGE}?utm_source=tiktok.com&utm_medium=paid", None, "paid_social", ""),
    (f"{PAGE}?fbclid=IwAR0&utm_medium=cpc&utm_source=facebook", None, "paid_social", ""),
    # email
    (f"{PAGE}?utm_source=newsletter&utm_medium=email", None, "email", ""),
    (f"{PAGE}?utm_medium=E-Mail", "https://mail.google.com/", "email", "mail.google.com"),
    (PAGE, "https://mail.google.com/mail/u/0/", "email", "mail.google.com"),
    (PAGE, "https://outlook.live.com/", "email", "outlook.live.com"),
    (PAGE, "https://mail.yahoo.com/", "email", "mail.yahoo.com"),
    (PAGE, "android-app://com.google.android.gm/", "email", "com.google.android.gm"),
    (f"{PAGE}?utm_source=newsletter", None, "email", ""),
    # referral
    (PAGE, "https://news.ycombinator.com/item?id=1", "referral", "news.ycombinator.com"),
    (PAGE, "https://blog.example.org/post", "referral", "blog.example.org"),
    (PAGE, "https://example.com/", "referral", "example.com"),
    (PAGE, "https://brave.com/download", "referral", "brave.com"),
    (f"{PAGE}?utm_source=partner&utm_medium=referral", None, "referral", ""),
    (f"{PAGE}?utm_source=partner-site", None, "referral", ""),
    (PAGE, "not a url", "direct", ""),
]


@pytest.mark.parametrize(("url", "referrer", "channel", "host"), CHANNELS)
def test_channel(url: str | None, referrer: str | None, channel: str, host: str) -> None:
    acquisition = classify(url, referrer)
    assert (acquisition.channel, acquisition.referrer_host) == (channel, host)


def test_every_channel_has_cases() -> None:
    assert {case[2] for case in CHANNELS} == {
        "direct", "organic_search", "paid_search", "organic_social", "paid_social", "email",
        "referral", "internal",
    }  # fmt: skip


def test_utm_fields_are_kept_as_sent() -> None:
    url = (
        "https://shop.example.com/?UTM_SOURCE=Google&utm_medium=cpc&utm_campaign=Winter+Sale"
        "&utm_term=red%20shoes&utm_content=ad-2&utm_campaign=ignored-second"
    )
    assert classify(url, "https://www.google.com/") == Acquisition(
        channel="paid_search",
        referrer_host="google.com",
        utm_source="Google",
        utm_medium="cpc",
        utm_campaign="Winter Sale",
        utm_term="red shoes",
        utm_content="ad-2",
    )


def test_utm_values_are_bounded() -> None:
    assert len(classify("https://a.example/?utm_campaign=" + "x" * 5000, None).utm_campaign) == 256


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("www.google.co.uk", "google"),
        ("google.com", "google"),
        ("t.co", "t"),
        ("l.facebook.com", "facebook"),
        ("search.yahoo.co.jp", "yahoo"),
        ("localhost", "localhost"),
    ],
)
def test_site_name(host: str, name: str) -> None:
    assert site_name(host) == name
