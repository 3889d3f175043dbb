"""Acquisition: the channel a visit came from, from its referrer and UTM tags."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import SplitResult, parse_qsl, urlsplit

import msgspec

Channel = Literal[
    "direct", "organic_search", "paid_search", "organic_social", "paid_social", "email",
    "referral", "internal",
]  # fmt: skip

# Site names: the label left of the public suffix ("www.google.co.uk" -> "google").
SEARCH_ENGINES = frozenset(
    {
        "google", "bing", "duckduckgo", "yahoo", "yandex", "ya", "baidu", "ecosia", "qwant",
        "startpage", "naver", "seznam", "sogou", "ask", "kagi", "aol", "brave",
    }
)  # fmt: skip
SOCIAL_NETWORKS = frozenset(
    {
        "facebook", "fb", "messenger", "instagram", "t", "twitter", "x", "linkedin", "lnkd",
        "reddit", "redd", "pinterest", "pin", "youtube", "youtu", "tiktok", "snapchat",
        "threads", "bsky", "mastodon", "tumblr", "vk", "whatsapp", "telegram", "discord",
        "quora", "weibo",
    }
)  # fmt: skip
# Web mail hosts; checked before search so that mail.google.com is email, not Google search.
EMAIL_HOSTS = frozenset(
    {"mail.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com"}
)
EMAIL_APPS = frozenset({"com.google.android.gm", "com.microsoft.office.outlook"})
EMAIL_SOURCES = frozenset({"email", "e-mail", "e_mail", "mail", "newsletter", "gmail", "outlook"})

PAID_SEARCH_CLICK_IDS = ("gclid", "msclkid", "wbraid", "gbraid", "dclid")
PAID_MEDIA = frozenset({"cpc", "ppc", "paid", "sem", "paidsearch", "paid_search", "paid-search"})
PAID_SOCIAL_MEDIA = frozenset(
    {"paid_social", "paidsocial", "paid-social", "social_paid", "social-paid", "socialpaid"}
)
SOCIAL_MEDIA = frozenset({"social", "social-media", "social_media", "sm", "social-network"})
EMAIL_MEDIA = frozenset({"email", "e-mail", "e_mail", "mail", "newsletter"})
# Second-level labels of country suffixes such as co.uk, com.au, co.jp.
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "gob"})
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_UTM_MAX = 256


class Acquisition(msgspec.Struct, frozen=True, kw_only=True):
    """How a visit was acquired; kept on the session from its first pageview."""

    channel: Channel = "direct"
    referrer_host: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""


@lru_cache(maxsize=16384)  # landing URLs and referrers repeat across visitors
def classify(url: str | None, referrer: str | None) -> Acquisition:
    """Classify a landing page URL and its referrer; campaign tags win over the referrer."""
    page = _split(url)
    ref = _split(referrer)
    page_host = _host(page)
    ref_host = _host(ref)
    from_app = ref is not None and ref.scheme == "android-app"
    params = _query(page)
    utm = {name: params.get(name, "").strip()[:_UTM_MAX] for name in _UTM}
    channel = _tagged_channel(params, utm["utm_source"].lower(), utm["utm_medium"].lower())
    if channel is None:
        channel = _app_channel(ref_host) if from_app else _referrer_channel(ref_host, page_host)
    if channel == "direct" and utm["utm_source"]:
        channel = _source_channel(utm["utm_source"].lower())
    return Acquisition(channel=channel, referrer_host=ref_host, **utm)


def site_name(host: str) -> str:
    """The label naming the site: "www.google.co.uk" -> "google", "t.co" -> "t"."""
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else host


def _tagged_channel(params: dict[str, str], source: str, medium: str) -> Channel | None:
    social_source = _is_social(source)
    if medium in PAID_SOCIAL_MEDIA or (medium in PAID_MEDIA and social_source):
        return "paid_social"
    if medium in PAID_MEDIA or any(params.get(name) for name in PAID_SEARCH_CLICK_IDS):
        return "paid_search"
    if medium in EMAIL_MEDIA:
        return "email"
    if medium in SOCIAL_MEDIA:
        return "organic_social"
    if medium == "organic":
        return "organic_social" if social_source else "organic_search"
    if medium == "referral":
        return "referral"
    if params.get("fbclid"):
        # Facebook adds fbclid to every outbound link, ads or not; only a paid medium says "paid".
        return "organic_social"
    return None


def _referrer_channel(ref_host: str, page_host: str) -> Channel:
    if not ref_host:
        return "direct"
    if ref_host == page_host:
        return "internal"
    if ref_host in EMAIL_HOSTS or ref_host.startswith(("mail.", "webmail.")):
        return "email"
    if ref_host == "search.brave.com" or (
        site_name(ref_host) in SEARCH_ENGINES and ref_host != "brave.com"
    ):
        return "organic_search"
    if _is_social(ref_host):
        return "organic_social"
    return "referral"


def _app_channel(package: str) -> Channel:
    """Android apps send `android-app://com.google.android.gm` as the referrer."""
    if package in EMAIL_APPS:
        return "email"
    if package == "com.google.android.googlequicksearchbox":
        return "organic_search"
    if any(label in SOCIAL_NETWORKS for label in package.split(".")[1:]):
        return "organic_social"
    return "referral"


def _source_channel(source: str) -> Channel:
    """Channel of a tagged link whose medium said nothing we know (e.g. utm_source=google only)."""
    if source in EMAIL_SOURCES:
        return "email"
    name = site_name(source) if "." in source else source
    if name in SEARCH_ENGINES:
        return "organic_search"
    if name in SOCIAL_NETWORKS or name == "ig":
        return "organic_social"
    return "referral"


def _is_social(source_or_host: str) -> bool:
    if not source_or_host:
        return False
    name = site_name(source_or_host) if "." in source_or_host else source_or_host
    return name in SOCIAL_NETWORKS or name == "ig"


def _split(url: str | None) -> SplitResult | None:
    if not url:
        return None
    try:
        return urlsplit(url.strip())
    except ValueError:
        return None


def _host(parts: SplitResult | None) -> str:
    """Lower-case host without "www."; an android-app:// referrer gives the app's package."""
    if parts is None:
        return ""
    try:
        host = parts.hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _query(parts: SplitResult | None) -> dict[str, str]:
    if parts is None or not parts.query:
        return {}
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        params.setdefault(name.lower(), value)
    return params
