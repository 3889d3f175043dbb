"""Real Chromium for the tests: Debian's build, with the flags this machine needs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # `playwright install` cannot download browsers here
# Without the background-networking flags Chromium keeps dialling Google's hosts on a closed network.
ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run")
# Headless Chromium says "HeadlessChrome", which enrichment rightly counts as a bot.
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
              " Chrome/124.0.0.0 Safari/537.36")


@contextmanager
def chromium(user_agent: str | None = None) -> Iterator[Browser]:
    """A browser for a `with` block. A user agent is set browser-wide: a context's own does not
    reach sendBeacon and keepalive requests, which would then file the session as a bot."""
    args = [*ARGS, f"--user-agent={user_agent}"] if user_agent else list(ARGS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            yield browser
        finally:
            browser.close()


def wait_until(what: str, check: Callable[[], Any], timeout_s: float = 30) -> Any:
    """Poll until `check` returns something truthy; fail with `what` when it never does."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.1)


def recent_days() -> str:
    """`from` and `to` of a page's range over yesterday and today (UTC), taken when asked: events
    sent moments ago are stored at their receipt, which may fall either side of a midnight that a
    day taken when the test module was imported would miss."""
    now = time.time()
    yesterday, today = (time.strftime("%Y-%m-%d", time.gmtime(t)) for t in (now - 86_400, now))
    return f"from={yesterday}&to={today}"
