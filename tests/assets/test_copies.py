"""Copies of recorded assets: a real collector on 127.0.0.1 copies what a recording loads from a
real site server on another port, serves the copies, points replays at them, and refuses what it
must not fetch or keep. Real SQLite, real HTTP both ways."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.assets.fetch import Limits
from collector.assets.service import AssetCopies
from collector.store import SQLiteStore
from tests.support.asset_site import AssetSite, asset_site
from tests.support.browser import wait_until
from tests.support.collector import ThreadedServer, free_port, make_settings, make_store, read_rows

KEY = "wk_own"
NOW = int(time.time() * 1000)
MAX_BYTES = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200  # the copier keeps bytes as served; it renders nothing
FONT = b"wOF2" + b"\1" * 300
DATA = "data:image/png;base64,AA=="


@dataclass
class Collector:
    url: str
    db_path: Path
    store: SQLiteStore
    copies: AssetCopies

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return read_rows(self.db_path, sql, *params)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": "Bearer test-admin-token-0123456789"}

    def idle(self) -> None:
        wait_until("the copier handled every chunk", lambda: self.copies.wait_idle(0.5))


@pytest.fixture
def site() -> Iterator[AssetSite]:
    with asset_site() as s:
        yield s


@pytest.fixture
def other() -> Iterator[AssetSite]:
    """Another host (another port: another origin), not on the site's list."""
    with asset_site() as s:
        yield s


def start_collector(tmp_path: Path, origins: tuple[str, ...], **settings: Any) -> Iterator[Collector]:
    db = tmp_path / "trailmark.db"
    store = make_store(db)
    store.add_site("own", "Own site", origins=origins, key=KEY)
    limits = settings.pop("limits", Limits(allow_private=True, max_bytes=MAX_BYTES))
    app = create_app(make_settings(db, asset_copies=limits, **settings), store)
    port = free_port()
    with ThreadedServer(app, port):
        yield Collector(f"http://127.0.0.1:{port}", db, store, app.state.asset_copies)


@pytest.fixture
def collector(tmp_path: Path, site: AssetSite) -> Iterator[Collector]:
    yield from start_collector(tmp_path, (site.url, "http://10.255.255.1"))


def el(node_id: int, tag: str, attributes: dict[str, Any] | None = None, *children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes or {}, "childNodes": list(children)}


def page(head: list[dict[str, Any]], body: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": 0, "id": 1, "childNodes": [el(3, "html", {}, el(4, "head", {}, *head), el(5, "body", {}, *body))]}


def record(collector: Collector, session: str, node: dict[str, Any], anon: str = "a1") -> None:
    """A pageview and a recording (meta and full snapshot) of one page, as the SDK sends them."""
    batch = {"key": KEY, "sent_at": NOW, "events": [
        {"id": f"pv-{session}", "type": "pageview", "ts": NOW, "anon_id": anon, "session_id": session,
         "url": "https://own.example/", "vw": 1280, "vh": 800}]}
    assert httpx.post(f"{collector.url}/v1/batch", json=batch).json() == {"accepted": 1, "rejected": []}
    events = [{"type": 4, "timestamp": NOW, "data": {"href": "https://own.example/", "width": 1280, "height": 800}},
              {"type": 2, "timestamp": NOW + 1, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}}]
    chunk = {"key": KEY, "session_id": session, "anon_id": anon, "seq": 0, "events": events}
    answer = httpx.post(f"{collector.url}/v1/replay", json=chunk)
    assert answer.json() == {"accepted": 2, "stored": True}
    collector.idle()


def img(src: str) -> dict[str, Any]:
    return page([], [el(10, "img", {"src": src})])


def copies(collector: Collector, session: str) -> dict[str, str]:
    rows = collector.rows("SELECT url, asset_id FROM replay_asset_refs WHERE session_id = ?", session)
    return {r["url"]: r["asset_id"] for r in rows}


def served(collector: Collector, asset_id: str) -> httpx.Response:
    return httpx.get(f"{collector.url}/replay-assets/{asset_id}", headers=collector.admin)


def test_a_recording_gets_copies_of_its_stylesheets_fonts_and_images(collector: Collector, site: AssetSite) -> None:
    u = site.url
    inline_css = (f"@font-face {{ font-family: Brand; src: url(\"{u}/fonts/brand.woff2\") format('woff2') }}"
                  f" body {{ background: url({u}/img/bg.png) }} .logo {{ background: url({DATA}) }}")
    site.put("/fonts/brand.woff2", FONT, "font/woff2")
    site.put("/img/bg.png", PNG + b"bg", "image/png")
    # a stylesheet rrweb could not read (no CORS): kept as a <link>, its own URLs relative to it
    site.put("/css/linked.css", b"@import 'more.css'; h1 { font-family: Other; }"
             b" @font-face { font-family: Other; src: url(../fonts/other.ttf) }", "text/css; charset=utf-8")
    site.put("/css/more.css", b"h2 { background-image: url('/img/more.png') }", "text/css")
    site.put("/fonts/other.ttf", FONT + b"ttf", "application/octet-stream")  # typed by its name
    site.put("/img/more.png", PNG + b"more", "image/png")
    site.put("/img/hero.png", PNG + b"hero", "image/png")
    site.put("/img/hero-2x.png", PNG + b"hero2x", "image/png")
    node = page(
        [el(6, "style", {"_cssText": inline_css}), el(7, "link", {"rel": "stylesheet", "href": f"{u}/css/linked.css"}),
         el(8, "link", {"rel": "canonical", "href": f"{u}/not-an-asset"})],
        [el(10, "img", {"src": f"{u}/img/hero.png", "srcset": f"{u}/img/hero.png 1x, {u}/img/hero-2x.png 2x"}),
         el(11, "a", {"href": f"{u}/img/linked-page.png"})],
    )
    record(collector, "s-all", node)

    got = copies(collector, "s-all")
    assert sorted(got) == sorted(f"{u}{p}" for p in (
        "/fonts/brand.woff2", "/img/bg.png", "/css/linked.css", "/css/more.css", "/fonts/other.ttf",
        "/img/more.png", "/img/hero.png", "/img/hero-2x.png"))
    kinds = {r["id"]: (r["content_type"], r["size"]) for r in collector.rows("SELECT * FROM replay_assets")}
    assert kinds[got[f"{u}/fonts/other.ttf"]] == ("font/ttf", len(FONT) + 3)
    assert kinds[got[f"{u}/img/hero.png"]] == ("image/png", len(PNG) + 4)
    assert len(kinds) == 8
    # each fetched once, without cookies or credentials, and nothing that is no asset
    assert sorted(p for p, _ in site.seen) == sorted(p.removeprefix(u) for p in got)
    assert all("cookie" not in h and "authorization" not in h and "referer" not in h for _, h in site.seen)

    # the stylesheet's own URLs point at the copies
    linked = served(collector, got[f"{u}/css/linked.css"])
    assert linked.status_code == 200
    assert linked.headers["content-type"] == "text/css; charset=utf-8"
    assert linked.headers["x-content-type-options"] == "nosniff"
    assert linked.headers["content-security-policy"].startswith("default-src 'none';")
    more, other_font = got[f"{u}/css/more.css"], got[f"{u}/fonts/other.ttf"]
    assert linked.text == (f"@import \"/replay-assets/{more}\"; h1 {{ font-family: Other; }}"
                           f" @font-face {{ font-family: Other; src: url(\"/replay-assets/{other_font}\") }}")
    assert served(collector, got[f"{u}/img/hero.png"]).content == PNG + b"hero"

    # the replay answer names the copies, whole URLs only, and leaves other URLs as recorded
    replay = httpx.get(f"{collector.url}/api/sessions/s-all/replay", headers=collector.admin).json()
    snapshot = replay["events"][1]["data"]["node"]["childNodes"][0]["childNodes"]
    head, body = snapshot[0]["childNodes"], snapshot[1]["childNodes"]
    path = {url: f"/replay-assets/{asset_id}" for url, asset_id in got.items()}
    assert head[0]["attributes"]["_cssText"] == (
        f"@font-face {{ font-family: Brand; src: url(\"{path[u + '/fonts/brand.woff2']}\") format('woff2') }}"
        f" body {{ background: url({path[u + '/img/bg.png']}) }} .logo {{ background: url({DATA}) }}")
    assert head[1]["attributes"]["href"] == path[f"{u}/css/linked.css"]
    assert head[2]["attributes"]["href"] == f"{u}/not-an-asset"
    assert body[0]["attributes"] == {
        "src": path[f"{u}/img/hero.png"],
        "srcset": f"{path[u + '/img/hero.png']} 1x, {path[u + '/img/hero-2x.png']} 2x"}
    assert body[1]["attributes"]["href"] == f"{u}/img/linked-page.png"
    paged = httpx.get(f"{collector.url}/api/sessions/s-all/replay?from_seq=0", headers=collector.admin).json()
    assert paged["events"] == replay["events"]


def test_the_copy_route_wants_a_login_and_an_id(collector: Collector, site: AssetSite) -> None:
    record(collector, "s-one", img(site.put("/a.png", PNG, "image/png")))
    (asset_id,) = copies(collector, "s-one").values()
    assert httpx.get(f"{collector.url}/replay-assets/{asset_id}").status_code == 401
    for wrong in ("0" * 40, asset_id.upper(), "x" * 40):
        answer = httpx.get(f"{collector.url}/replay-assets/{wrong}", headers=collector.admin)
        assert (answer.status_code, answer.json()) == (404, {"error": "no such asset copy"})


def test_months_later_a_replay_shows_what_the_site_served_when_it_was_recorded(
    collector: Collector, site: AssetSite,
) -> None:
    url = site.put("/hero.png", PNG + b"spring", "image/png")
    record(collector, "s-spring", img(url))
    record(collector, "s-spring-2", img(url))  # fetched once: within the freshness window
    assert site.hits("/hero.png") == 1
    collector.copies.fresh_ms = 0  # months pass: every later recording fetches again
    site.put("/hero.png", PNG + b"autumn", "image/png")
    record(collector, "s-autumn", img(url))
    record(collector, "s-autumn-2", img(url))  # the same bytes again: one copy, two sessions
    assert site.hits("/hero.png") == 3
    del site.files["/hero.png"]  # then the site removes it
    spring, autumn = copies(collector, "s-spring")[url], copies(collector, "s-autumn")[url]
    assert copies(collector, "s-spring-2")[url] == spring and copies(collector, "s-autumn-2")[url] == autumn
    assert served(collector, spring).content == PNG + b"spring"
    assert served(collector, autumn).content == PNG + b"autumn"
    assert len(collector.rows("SELECT id FROM replay_assets")) == 2


@pytest.mark.parametrize("case", ["other_origin", "oversized", "html", "script", "redirect_elsewhere",
                                  "private_network", "not_found"])
def test_what_must_not_be_copied_is_refused_and_not_stored(
    collector: Collector, site: AssetSite, other: AssetSite, case: str,
) -> None:
    if case == "other_origin":
        url, reason = other.put("/x.png", PNG, "image/png"), f"{other.url} is not one of the site's origins"
    elif case == "oversized":
        url = site.put("/big.png", PNG + b"\0" * MAX_BYTES, "image/png")
        reason = f"{url} is {len(PNG) + MAX_BYTES} bytes, over the {MAX_BYTES} byte limit"
    elif case == "html":
        url, reason = site.put("/x.png", b"<html>", "text/html"), "is text/html, not a stylesheet, font or image"
    elif case == "script":
        url, reason = site.put("/x.css", b"alert(1)", "text/javascript"), "is text/javascript, not a stylesheet"
    elif case == "redirect_elsewhere":
        url = site.redirect("/moved.png", other.put("/x.png", PNG, "image/png"))
        reason = f"{url} redirects to another host ({other.url})"
    elif case == "private_network":
        url, reason = "http://10.255.255.1/x.png", "10.255.255.1 resolves to 10.255.255.1, a private address"
        collector.copies.limits = Limits(max_bytes=MAX_BYTES)  # the operator did not allow private addresses
    else:
        url, reason = site.url + "/gone.png", f"{site.url}/gone.png answered 404"
    record(collector, "s-refused", img(url))
    assert reason in collector.copies.counts.refused[url]
    assert collector.rows("SELECT count(*) AS n FROM replay_assets") == [{"n": 0}]
    assert collector.rows("SELECT count(*) AS n FROM replay_asset_refs") == [{"n": 0}]
    assert other.seen == []  # another host is never asked, not even by a redirect
    # the replay still answers, as recorded
    replay = httpx.get(f"{collector.url}/api/sessions/s-refused/replay", headers=collector.admin).json()
    assert url in str(replay["events"][1])


def test_a_loopback_site_is_refused_unless_the_operator_allows_private_addresses(
    collector: Collector, site: AssetSite,
) -> None:
    collector.copies.limits = Limits(max_bytes=MAX_BYTES)
    url = site.put("/x.png", PNG, "image/png")
    record(collector, "s-loop", img(url))
    assert "resolves to 127.0.0.1, a loopback address; the collector calls public addresses only unless the" \
           " operator sets TRAILMARK_ASSETS_ALLOW_PRIVATE=1" in collector.copies.counts.refused[url]
    assert site.seen == [] and copies(collector, "s-loop") == {}


def test_a_redirect_on_the_same_host_is_followed(collector: Collector, site: AssetSite) -> None:
    site.put("/new.png", PNG + b"new", "image/png")
    url = site.redirect("/old.png", "/new.png")
    record(collector, "s-moved", img(url))
    assert served(collector, copies(collector, "s-moved")[url]).content == PNG + b"new"


def test_a_site_can_turn_copies_off(collector: Collector, site: AssetSite) -> None:
    answer = httpx.patch(f"{collector.url}/api/sites/own", json={"replay_assets": False}, headers=collector.admin)
    assert answer.json()["settings"]["replay_assets"] is False
    record(collector, "s-off", img(site.put("/x.png", PNG, "image/png")))
    assert site.seen == [] and copies(collector, "s-off") == {}


def test_erasing_a_person_removes_the_copies_only_they_used(collector: Collector, site: AssetSite) -> None:
    shared, own = site.put("/shared.png", PNG + b"s", "image/png"), site.put("/own.png", PNG + b"o", "image/png")
    record(collector, "s-erased", page([], [el(10, "img", {"src": shared}), el(11, "img", {"src": own})]), anon="gone")
    record(collector, "s-kept", img(shared), anon="stays")
    own_id, shared_id = copies(collector, "s-erased")[own], copies(collector, "s-erased")[shared]
    answer = httpx.delete(f"{collector.url}/api/persons/gone?site=own", headers=collector.admin)
    assert answer.status_code == 200
    assert copies(collector, "s-erased") == {}
    assert [r["id"] for r in collector.rows("SELECT id FROM replay_assets")] == [shared_id]
    assert served(collector, own_id).status_code == 404
    assert served(collector, shared_id).content == PNG + b"s"


def test_retention_removes_copies_with_their_recordings(collector: Collector, site: AssetSite) -> None:
    record(collector, "s-old", img(site.put("/old.png", PNG, "image/png")))
    assert len(collector.rows("SELECT id FROM replay_assets")) == 1
    collector.store.purge(NOW + 10_000)
    assert collector.rows("SELECT count(*) AS n FROM replay_assets") == [{"n": 0}]
    assert collector.rows("SELECT count(*) AS n FROM replay_asset_refs") == [{"n": 0}]


def test_copies_count_against_the_sites_replay_budget(tmp_path: Path, site: AssetSite) -> None:
    # the hour's budget holds the recording (a few hundred compressed bytes) but not a 20 KB image
    for collector in start_collector(tmp_path, (site.url,), replay_site_hour_bytes=10_000):
        url = site.put("/x.png", PNG + b"\1" * 20_000, "image/png")
        record(collector, "s-budget", img(url))
        assert site.hits("/x.png") == 1
        assert collector.rows("SELECT count(*) AS n FROM replay_assets") == [{"n": 0}]
        small = site.put("/small.png", PNG, "image/png")
        record(collector, "s-budget-2", img(small))
        assert list(copies(collector, "s-budget-2")) == [small]


def test_a_site_without_origins_gets_no_copies(tmp_path: Path, site: AssetSite) -> None:
    for collector in start_collector(tmp_path, ()):
        url = site.put("/x.png", PNG, "image/png")
        record(collector, "s-open", img(url))
        assert collector.copies.counts.refused[url] == "the site lists no origins, so no host is known to be its own"
        assert site.seen == []


@pytest.mark.parametrize("engine", ["chdb"], indirect=True)
def test_a_clickhouse_store_keeps_no_copies_and_says_so(collector_server: Any) -> None:
    server = collector_server
    answer = httpx.get(f"{server.url}/replay-assets/{'0' * 40}", headers=server.admin)
    assert (answer.status_code, answer.json()) == (
        501, {"error": "the clickhouse store does not answer copies of recorded assets yet"})
    events = [{"type": 4, "timestamp": NOW, "data": {"href": "https://shop.example/", "width": 1280, "height": 800}},
              {"type": 2, "timestamp": NOW + 1, "data": {"node": img("https://shop.example/x.png"),
                                                         "initialOffset": {"top": 0, "left": 0}}}]
    chunk = {"key": "wk_test", "session_id": "s-ch", "anon_id": "a1", "seq": 0, "events": events}
    assert httpx.post(f"{server.url}/v1/replay", json=chunk).json() == {"accepted": 2, "stored": True}
    replay = httpx.get(f"{server.url}/api/sessions/s-ch/replay", headers=server.admin).json()
    assert replay["events"][1]["data"]["node"]["childNodes"][0]["childNodes"][1]["childNodes"][0]["attributes"] == {
        "src": "https://shop.example/x.png"}  # as recorded
