"""Copies of recorded assets: a real collector on 127.0.0.1 copies what a recording loads from a
real site server on another port, serves the copies, points replays at them, and refuses what it
must not fetch or keep. Every test runs on each store (a real SQLite file, ClickHouse through chdb),
real HTTP both ways."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.assets.fetch import REASONS, Limits
from collector.assets.service import QUEUE_CHUNKS, AssetCopies
from collector.store import Store
from collector.store.assets import AssetCopy, AssetRef, AssetStore, copy_id
from tests.support.asset_site import AssetSite, asset_site
from tests.support.browser import wait_until
from tests.support.collector import ThreadedServer, every_store, free_port, make_settings, open_engine, stored_rows

pytestmark = every_store

KEY = "wk_own"
NOW = int(time.time() * 1000)
MAX_BYTES = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200  # the copier keeps bytes as served; it renders nothing
FONT = b"wOF2" + b"\1" * 300
DATA = "data:image/png;base64,AA=="


@dataclass
class Collector:
    url: str
    store: Store
    copies: AssetCopies

    def assets(self) -> list[tuple[str, str, int, bytes]]:
        """Every stored copy: (id, content type, size, bytes)."""
        return stored_rows(self.store, "replay_assets", ("id", "content_type", "size", "data"))

    def refs(self) -> list[tuple[str, str, str]]:
        """Every stored reference: (session, url, copy id)."""
        return stored_rows(self.store, "replay_asset_refs", ("session_id", "url", "asset_id"))

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


def start_collector(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest, origins: tuple[str, ...], **settings: Any,
) -> Iterator[Collector]:
    store = open_engine(engine, tmp_path, request)
    store.add_site("own", "Own site", origins=origins, key=KEY)
    limits = settings.pop("limits", Limits(allow_private=True, max_bytes=MAX_BYTES))
    app = create_app(make_settings(tmp_path / "trailmark.db", asset_copies=limits, **settings), store)
    port = free_port()
    with ThreadedServer(app, port):
        yield Collector(f"http://127.0.0.1:{port}", store, app.state.asset_copies)


@pytest.fixture
def collector(engine: str, tmp_path: Path, request: pytest.FixtureRequest, site: AssetSite) -> Iterator[Collector]:
    yield from start_collector(engine, tmp_path, request, (site.url, "http://10.255.255.1"))


def el(node_id: int, tag: str, attributes: dict[str, Any] | None = None, *children: dict[str, Any]) -> dict[str, Any]:
    return {"type": 2, "id": node_id, "tagName": tag, "attributes": attributes or {}, "childNodes": list(children)}


def page(head: list[dict[str, Any]], body: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": 0, "id": 1, "childNodes": [el(3, "html", {}, el(4, "head", {}, *head), el(5, "body", {}, *body))]}


def record(collector: Collector, session: str, node: dict[str, Any], anon: str = "a1", ts: int = NOW) -> None:
    """A pageview and a recording (meta and full snapshot) of one page at `ts`, as the SDK sends them."""
    batch = {"key": KEY, "sent_at": NOW, "events": [
        {"id": f"pv-{session}", "type": "pageview", "ts": ts, "anon_id": anon, "session_id": session,
         "url": "https://own.example/", "vw": 1280, "vh": 800}]}
    assert httpx.post(f"{collector.url}/v1/batch", json=batch).json() == {"accepted": 1, "rejected": []}
    events = [{"type": 4, "timestamp": ts, "data": {"href": "https://own.example/", "width": 1280, "height": 800}},
              {"type": 2, "timestamp": ts + 1, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}}]
    chunk = {"key": KEY, "session_id": session, "anon_id": anon, "seq": 0, "events": events}
    answer = httpx.post(f"{collector.url}/v1/replay", json=chunk)
    assert answer.json() == {"accepted": 2, "stored": True}
    collector.idle()


def img(src: str) -> dict[str, Any]:
    return page([], [el(10, "img", {"src": src})])


def copies(collector: Collector, session: str) -> dict[str, str]:
    return {url: asset_id for session_id, url, asset_id in collector.refs() if session_id == session}


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
    kinds = {asset_id: (kind, size) for asset_id, kind, size, _ in collector.assets()}
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
    assert sorted(data for *_, data in collector.assets()) == [PNG + b"autumn", PNG + b"spring"]


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
    assert collector.assets() == [] and collector.refs() == []
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
    assert [r[0] for r in collector.assets()] == [shared_id]
    assert collector.refs() == [("s-kept", shared, shared_id)]
    assert served(collector, own_id).status_code == 404
    assert served(collector, shared_id).content == PNG + b"s"


def test_retention_removes_copies_with_their_recordings(collector: Collector, site: AssetSite) -> None:
    old, kept = site.put("/old.png", PNG + b"old", "image/png"), site.put("/kept.png", PNG + b"kept", "image/png")
    two_days_ago = NOW - 2 * 86_400_000
    record(collector, "s-old", page([], [el(10, "img", {"src": old}), el(11, "img", {"src": kept})]), ts=two_days_ago)
    record(collector, "s-new", img(kept))
    kept_id = copies(collector, "s-new")[kept]
    assert len(collector.assets()) == 2
    counts = collector.store.purge(NOW - 86_400_000)
    # the answer counts what it counts on every store; copies and references go uncounted
    assert {table: counts[table] for table in ("events", "sessions", "replay_chunks")} == {
        "events": 1, "sessions": 1, "replay_chunks": 1}
    assert not {"replay_assets", "replay_asset_refs"} & set(counts)
    assert collector.assets() == [(kept_id, "image/png", len(PNG) + 4, PNG + b"kept")]
    assert collector.refs() == [("s-new", kept, kept_id)]
    assert served(collector, kept_id).content == PNG + b"kept"


def test_copies_count_against_the_sites_replay_budget(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest, site: AssetSite,
) -> None:
    # the hour's budget holds the recording (a few hundred compressed bytes) but not a 20 KB image
    for collector in start_collector(engine, tmp_path, request, (site.url,), replay_site_hour_bytes=10_000):
        url = site.put("/x.png", PNG + b"\1" * 20_000, "image/png")
        record(collector, "s-budget", img(url))
        assert site.hits("/x.png") == 1
        assert collector.assets() == []
        small = site.put("/small.png", PNG, "image/png")
        record(collector, "s-budget-2", img(small))
        assert list(copies(collector, "s-budget-2")) == [small]


def test_a_site_without_origins_gets_no_copies(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest, site: AssetSite,
) -> None:
    for collector in start_collector(engine, tmp_path, request, ()):
        url = site.put("/x.png", PNG, "image/png")
        record(collector, "s-open", img(url))
        assert collector.copies.counts.refused[url] == "the site lists no origins, so no host is known to be its own"
        assert site.seen == []


def test_a_persons_export_lists_their_asset_references(collector: Collector, site: AssetSite) -> None:
    url = site.put("/shared.png", PNG, "image/png")
    record(collector, "s-exported", img(url), anon="exported")
    record(collector, "s-someone", img(url), anon="someone")
    asset_id = copies(collector, "s-exported")[url]
    found = httpx.get(f"{collector.url}/api/persons/exported/export?site=own", headers=collector.admin).json()
    (ref,) = found["asset_refs"]
    assert list(ref) == ["site_id", "session_id", "url", "asset_id", "ts", "fetched_at"]
    assert {k: v for k, v in ref.items() if k != "fetched_at"} == {
        "site_id": "own", "session_id": "s-exported", "url": url, "asset_id": asset_id, "ts": NOW + 1}
    assert NOW <= ref["fetched_at"] <= int(time.time() * 1000)


def asset_metrics(collector: Collector) -> dict[str, int]:
    text = httpx.get(f"{collector.url}/metrics", headers=collector.admin).text
    return {name: int(value) for name, value in (
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("trailmark_asset_"))}


NO_REFUSALS = {f'trailmark_asset_refused_total{{reason="{reason}"}}': 0 for reason in REASONS}


def test_the_copiers_counts_are_on_metrics(collector: Collector, site: AssetSite, other: AssetSite) -> None:
    assert asset_metrics(collector) == {
        "trailmark_asset_chunks_offered_total": 0, "trailmark_asset_chunks_dropped_total": 0,
        "trailmark_asset_fetches_total": 0, **NO_REFUSALS, "trailmark_asset_stored_bytes_total": 0}
    css = site.put("/a.css", b"body { background: url(bg.png) }", "text/css")
    site.put("/bg.png", PNG + b"bg", "image/png")
    ok = site.put("/ok.png", PNG + b"ok", "image/png")
    refused = [site.url + "/gone.png", other.put("/x.png", PNG, "image/png"),
               site.put("/big.png", PNG + b"\0" * MAX_BYTES, "image/png"),
               site.put("/page.png", b"<html>", "text/html")]
    node = page([el(6, "link", {"rel": "stylesheet", "href": css})],
                [el(10 + i, "img", {"src": src}) for i, src in enumerate([ok, *refused])])
    record(collector, "s-counted", node)
    record(collector, "s-fresh", img(ok))  # its copy is fresh: nothing fetched
    bg = copies(collector, "s-counted")[site.url + "/bg.png"]
    stored_css = f'body {{ background: url("/replay-assets/{bg}") }}'.encode()
    assert served(collector, copies(collector, "s-counted")[css]).content == stored_css
    assert asset_metrics(collector) == {
        "trailmark_asset_chunks_offered_total": 2, "trailmark_asset_chunks_dropped_total": 0,
        "trailmark_asset_fetches_total": 3,
        **NO_REFUSALS, **{f'trailmark_asset_refused_total{{reason="{r}"}}': 1
                          for r in ("status", "other_origin", "size", "type")},
        "trailmark_asset_stored_bytes_total": len(stored_css) + len(PNG + b"bg") + len(PNG + b"ok")}


def test_a_full_copier_queue_drops_offers_and_counts_them(collector: Collector, site: AssetSite) -> None:
    entered, release = threading.Event(), threading.Event()

    def held_charge(_site: str, _size: int) -> bool:  # the copier waits inside its first chunk
        entered.set()
        release.wait()
        return True

    collector.copies.charge = held_charge
    url = site.put("/x.png", PNG, "image/png")
    events = [{"type": 2, "timestamp": NOW, "data": {"node": img(url), "initialOffset": {"top": 0, "left": 0}}}]
    chunk = {"key": KEY, "session_id": "s-first", "anon_id": "a1", "seq": 0, "events": events}
    assert httpx.post(f"{collector.url}/v1/replay", json=chunk).json() == {"accepted": 1, "stored": True}
    assert entered.wait(60)
    own = collector.store.site_for_key(KEY)
    assert own is not None
    stored = gzip.compress(json.dumps(events).encode())
    for _ in range(QUEUE_CHUNKS + 5):  # as ingest offers each stored chunk
        collector.copies.offer(own, "s-flood", NOW, stored)
    release.set()
    collector.idle()
    counts = asset_metrics(collector)
    assert (counts["trailmark_asset_chunks_offered_total"], counts["trailmark_asset_chunks_dropped_total"],
            counts["trailmark_asset_fetches_total"]) == (1 + QUEUE_CHUNKS + 5, 5, 1)
    assert counts["trailmark_asset_stored_bytes_total"] == len(PNG)
    assert copies(collector, "s-flood") == copies(collector, "s-first") == {url: copy_id("own", "image/png", PNG)}


def test_a_reference_to_a_copy_erased_meanwhile_is_not_stored(collector: Collector) -> None:
    # The copier found a fresh copy, then an erasure removed it before the copier's write: the
    # session gets no reference to a copy that is gone (its replay keeps the recorded URL).
    kept = AssetCopy(id=copy_id("own", "image/png", PNG), site_id="own", content_type="image/png", data=PNG)
    gone = copy_id("own", "image/png", PNG + b"erased")
    refs = [AssetRef(session_id="s-late", url="https://own.example/gone.png", asset_id=gone, ts=NOW),
            AssetRef(session_id="s-late", url="https://own.example/kept.png", asset_id=kept.id, ts=NOW)]
    store = collector.store
    assert isinstance(store, AssetStore)
    assert store.save_asset_copies("own", [kept], refs, NOW) == len(PNG)
    assert collector.refs() == [("s-late", "https://own.example/kept.png", kept.id)]
    # stored again, nothing is added: the copy and the reference are held
    assert store.save_asset_copies("own", [kept], refs, NOW) == 0
    assert collector.refs() == [("s-late", "https://own.example/kept.png", kept.id)]
