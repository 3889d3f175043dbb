"""Device classification from the User-Agent header."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import msgspec
import user_agents

DeviceType = Literal["desktop", "mobile", "tablet", "bot", "server"]

# ua-parser flags crawlers that announce themselves ("Spider"), but not HTTP libraries, headless
# browsers, audit tools or a few crawlers that look like Safari (Applebot).
_AUTOMATION = re.compile(
    r"headless|lighthouse|pagespeed|gtmetrix|phantomjs|puppeteer|playwright|selenium|webdriver"
    r"|applebot|bot/|crawler|spider|scrapy|curl/|wget/|python|go-http-client|java/|okhttp"
    r"|axios/|node-fetch|undici|libwww|httpclient|httpie|postmanruntime|insomnia",
    re.IGNORECASE,
)
# Every graphical browser (and in-app webview) still starts its UA with one of these.
_BROWSER_PREFIXES = ("Mozilla/", "Opera/")
# Trailmark's own backend SDKs ("trailmark-python/0.1.0"): real events about real visitors, sent
# from the site's servers. Not bots, but their UA and IP say nothing about the visitor.
_SERVER_SDK_PREFIX = "trailmark-"


class Device(msgspec.Struct, frozen=True, kw_only=True):
    """What a user agent says about the visitor's software and hardware."""

    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: DeviceType = "desktop"
    brand: str = ""
    model: str = ""
    is_bot: bool = False


def is_automation(ua: str, parsed_is_bot: bool) -> bool:
    """True for crawlers, headless browsers, HTTP libraries and anything not claiming a browser."""
    return parsed_is_bot or not ua.startswith(_BROWSER_PREFIXES) or bool(_AUTOMATION.search(ua))


@lru_cache(maxsize=8192)
def parse_device(ua: str) -> Device:
    """Classify a User-Agent; cached because repeat visitors send the same string."""
    if ua.startswith(_SERVER_SDK_PREFIX):
        name, _, version = ua.partition("/")
        return Device(browser=name, browser_version=version.split(".")[0], device="server")
    parsed = user_agents.parse(ua)
    bot = is_automation(ua, parsed.is_bot)
    if bot:
        kind: DeviceType = "bot"
    elif parsed.is_tablet or parsed.device.model == "Tablet":
        # Firefox for Android tablets says "(Android 13; Tablet; ...)", which ua-parser models as
        # a generic "Tablet" but user-agents calls mobile. iPadOS 13+ Safari defaults to a
        # Macintosh desktop UA, indistinguishable from a Mac, so those iPads count as desktop.
        kind = "tablet"
    elif parsed.is_mobile:
        kind = "mobile"
    else:
        kind = "desktop"
    browser_version = parsed.browser.version
    return Device(
        browser=_known(parsed.browser.family),
        browser_version=str(browser_version[0]) if browser_version else "",
        os=_known(parsed.os.family),
        os_version=parsed.os.version_string,
        device=kind,
        brand=parsed.device.brand or "",
        model=parsed.device.model or "",
        is_bot=bot,
    )


def _known(family: str) -> str:
    return "" if family == "Other" else family
