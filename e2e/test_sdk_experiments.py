"""trailmark-experiments.js in real Chromium: the variant the shared hash gives, before the core
loads and after, one exposure per session, QA pins, and trailmark('exposure', ...)."""
# ruff: noqa: F811  (pytest fixtures imported above are test parameters of the same name)

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.pages.sdk.site import browser, sdk_site  # noqa: F401  (`browser` is a fixture)
from e2e.test_sdk_capture import rows_until

SDK_PATH = str(Path(__file__).resolve().parents[1] / "sdk_python")
if SDK_PATH not in sys.path:
    sys.path.insert(0, SDK_PATH)
from trailmark import assign  # noqa: E402

pytestmark = pytest.mark.e2e
EXPOSURES = ("SELECT name, json_extract(data, '$.variant') AS variant, anon_id, session_id FROM events"
             " WHERE type = 'exposure' ORDER BY ts, rowid")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1000, "height": 800})
    yield ctx
    ctx.close()


def test_variant_exposures_and_pins(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        # the core arrives after the experiments script has run, as on a slow network: the
        # method must survive the core replacing window.trailmark
        held: list[Any] = []
        page.route("**/trailmark.js", lambda route: held.append(route))
        page.goto(site + "/experiment.html", wait_until="domcontentloaded")
        assert page.evaluate("[window.trailmark.v, typeof window.trailmark.experiment]") == [None, "function"]
        assert len(held) == 1
        held[0].continue_()
        page.unroute("**/trailmark.js")
        page.wait_for_function("window.trailmark && window.trailmark.v === 1")
        anon = page.evaluate("localStorage.getItem('tm_aid')")
        session = page.evaluate("localStorage.getItem('tm_sid').split('|')[0]")
        expected = assign.assign("cta", anon, ["control", "green"])
        assert page.evaluate("window.assigned") == {"cta": expected, "ramp": "new"}
        assert page.inner_text("#variant") == expected
        # the core replaced the stub; the method is still there and answers the same
        assert page.evaluate("trailmark.experiment('cta', ['control', 'green'])") == expected
        rows = rows_until(srv, EXPOSURES, n=3)
        assert sorted((r["name"], r["variant"]) for r in rows) == [("cta", expected), ("hero", "b"), ("ramp", "new")]
        assert {(r["anon_id"], r["session_id"]) for r in rows} == {(anon, session)}

        # the next page of the same session records nothing new
        page.click("#next")
        page.wait_for_url("**/experiment.html?page=2")
        page.wait_for_function("window.trailmark && window.trailmark.v === 1")
        rows_until(srv, "SELECT 1 FROM events WHERE type = 'pageview'", n=2)
        # a QA pin shows its variant and records nothing
        pinned = "green" if expected == "control" else "control"
        page.goto(f"{site}/experiment.html?tm_variant_cta={pinned}")
        assert page.inner_text("#variant") == pinned
        page.wait_for_function("window.trailmark && window.trailmark.v === 1")
        page.evaluate("trailmark.flush()")
        rows_until(srv, "SELECT 1 FROM events WHERE type = 'pageview'", n=3)
        cta = [r for r in srv.rows(EXPOSURES) if r["name"] == "cta"]
        assert [r["variant"] for r in cta] == [expected]

        # a new session (the old one expired) is exposed again, to the same variant
        page.evaluate("localStorage.setItem('tm_sid', 'old|' + (Date.now() - 31 * 60 * 1000))")
        page.goto(site + "/experiment.html")
        cta = [r for r in rows_until(srv, EXPOSURES, n=6) if r["name"] == "cta"]
        assert [r["variant"] for r in cta] == [expected, expected]
        assert cta[1]["session_id"] not in (session, "old")


def test_opted_out_visitors_see_the_control_and_store_nothing(collector_server: Any, context: Any) -> None:
    srv = collector_server
    with sdk_site(srv.url, srv.key) as site:
        page = context.new_page()
        page.goto(site + "/experiment.html")
        page.evaluate("trailmark.optOut()")
        page.goto(site + "/experiment.html")
        assert page.evaluate("window.assigned") == {"cta": "control", "ramp": "control"}
        assert page.evaluate("localStorage.getItem('tm_aid')") is None
