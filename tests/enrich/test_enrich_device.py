from __future__ import annotations

import json

import msgspec
import pytest

from collector.enrich import Device, parse_device
from tests.support import ROOT

CORPUS = json.loads((ROOT / "tests" / "data" / "user_agents.json").read_text())
FIELDS = ("browser", "browser_version", "os", "os_version", "device", "brand", "model", "is_bot")


def test_corpus_is_large_and_covers_every_device_type() -> None:
    assert len(CORPUS) >= 60
    assert len({case["ua"] for case in CORPUS}) == len(CORPUS)
    kinds = {case["device"] for case in CORPUS}
    assert kinds == {"desktop", "mobile", "tablet", "bot", "server"}


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case["ua"][:60])
def test_user_agent_classification(case: dict[str, object]) -> None:
    expected = {field: case[field] for field in FIELDS}
    assert msgspec.to_builtins(parse_device(case["ua"])) == expected


@pytest.mark.parametrize(
    ("ua", "browser"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0", "Headless"),
        ("curl/8.4.0", "curl"),
        ("python-requests/2.31.0", "Python Requests"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot"),
    ],
)
def test_automation_is_a_bot_device(ua: str, browser: str) -> None:
    device = parse_device(ua)
    assert (device.device, device.is_bot) == ("bot", True)
    assert device.browser.startswith(browser)


def test_empty_user_agent_is_a_bot() -> None:
    assert parse_device("") == Device(device="bot", is_bot=True)


def test_lighthouse_on_a_phone_is_a_bot_not_a_phone() -> None:
    ua = (
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse"
    )
    assert parse_device(ua).device == "bot"
    assert parse_device(ua.removesuffix(" Chrome-Lighthouse")).device == "mobile"


def test_ipados_desktop_mode_is_indistinguishable_from_a_mac() -> None:
    # iPadOS 13+ Safari sends exactly a macOS Safari UA by default; documented limitation.
    ua = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
    )
    assert parse_device(ua).device == "desktop"


def test_parses_are_cached() -> None:
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:99.0) Gecko/20100101 Firefox/99.0"
    before = parse_device.cache_info().hits
    first = parse_device(ua)
    assert parse_device(ua) is first
    assert parse_device.cache_info().hits == before + 1
    assert parse_device.cache_info().maxsize == 8192
