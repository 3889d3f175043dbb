"""GET /api/heatmap, /pages and /snapshot: exact counts from the rollups and from the events."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

from tests.support.analytics_journeys import CHROME, DATE, DAY_MS, GOOGLEBOT, NEXT_DATE, PREVIOUS_DATE, SHOP, D
from tests.support.collector import Client, every_adapter

pytestmark = every_adapter

WIDTHS = {"desktop": (1280, 800), "tablet": (800, 1000), "mobile": (390, 700)}


def click(session: str, path: str, ts: int, device: str, sel: str | None, **fields: Any) -> dict[str, Any]:
    vw, vh = WIDTHS[device]
    body = {"id": str(uuid.uuid4()), "type": "click", "ts": ts, "session_id": session, "anon_id": "a-" + session,
            "url": SHOP + path, "vw": vw, "vh": vh, "x": 100, "y": 200, "rx": 0.5, "ry": 0.5,
            "tag": "button", "dw": vw, "dh": 2000, **fields}
    if sel is not None:
        body["sel"] = sel
    return body


def view(session: str, path: str, ts: int, device: str, type_: str = "pageview", **fields: Any) -> dict[str, Any]:
    vw, vh = WIDTHS[device]
    return {"id": str(uuid.uuid4()), "type": type_, "ts": ts, "session_id": session, "anon_id": "a-" + session,
            "url": SHOP + path, "vw": vw, "vh": vh, **fields}


def send(client: Client, events: list[dict[str, Any]], ua: str = CHROME) -> None:
    answer = client.http.post("/v1/batch", json={"key": "wk_test", "events": events}, headers={"User-Agent": ua})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": len(events), "rejected": []}


def get(client: Client, query: str, path: str = "/api/heatmap") -> dict[str, Any]:
    answer = client.http.get(f"{path}?site=test&from={DATE}&to={DATE}&{query}", headers=client.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def counts(answer: dict[str, Any]) -> dict[str | None, int]:
    return {e["sel"]: e["count"] for e in answer["elements"]}


T = D + 10 * 3_600_000


def build_clicks(client: Client) -> None:
    send(client, [
        view("s1", "/product/1", T, "desktop"),
        click("s1", "/product/1", T + 1000, "desktop", "#buy", rx=0.0, ry=0.99, x=33, y=47),
        click("s1", "/product/1", T + 2000, "desktop", "#buy", rx=0.5, ry=0.5, x=40, y=50, text="Buy"),
        click("s1", "/product/1", T + 3000, "desktop", "nav > a:nth-of-type(2)", rage=True, dead=True),
        view("s2", "/product/2", T, "tablet"),
        click("s2", "/product/2", T + 1000, "tablet", "#buy", rx=1.0, ry=0.25, x=700, y=900),
        view("s3", "/product/2", T, "mobile"),
        click("s3", "/product/2", T + 1000, "mobile", "#buy", rage=True),
        click("s3", "/product/2", T + 2000, "mobile", None, x=15, y=16),
        view("s4", "/about", T, "desktop"),
        click("s4", "/about", T + 1000, "desktop", "#buy"),
        # the next day: outside a one-day range
        view("s5", "/product/1", T + DAY_MS, "desktop"),
        click("s5", "/product/1", T + DAY_MS + 1000, "desktop", "#buy"),
    ])
    send(client, [view("sb", "/product/1", T, "desktop"),
                  click("sb", "/product/1", T + 1000, "desktop", "#buy")], ua=GOOGLEBOT)


def test_clicks_by_route_device_and_element(client: Client) -> None:
    build_clicks(client)
    everything = get(client, "url=/product/:id")
    assert everything["total"] == 6
    assert counts(everything) == {"#buy": 4, "nav > a:nth-of-type(2)": 1, None: 1}
    assert [e["sel"] for e in everything["elements"]] == ["#buy", None, "nav > a:nth-of-type(2)"]
    desktop = get(client, "url=/product/:id&device=desktop")
    assert counts(desktop) == {"#buy": 2, "nav > a:nth-of-type(2)": 1}
    buy = desktop["elements"][0]
    assert buy["share"] == pytest.approx(2 / 3)
    assert buy["text"] == "Buy" and buy["tag"] == "button"
    assert buy["cells"] == [[0, 15, 1], [8, 8, 1]]  # rx/ry on the 16 x 16 grid
    assert buy["points"] == [[1, 1, 2]]  # page px on the 32 px grid: (33, 47) and (40, 50)
    assert desktop["elements"][1]["dead"] == 1
    assert counts(get(client, "url=/product/:id&device=tablet")) == {"#buy": 1}
    assert get(client, "url=/product/:id&device=tablet")["elements"][0]["cells"] == [[15, 4, 1]]
    assert counts(get(client, "url=/product/:id&device=mobile")) == {"#buy": 1, None: 1}
    assert counts(get(client, "url=/product/:id&rage=1")) == {"#buy": 1, "nav > a:nth-of-type(2)": 1}
    assert counts(get(client, "url=/about")) == {"#buy": 1}


def test_dates_widen_the_range(client: Client) -> None:
    build_clicks(client)
    answer = client.http.get(f"/api/heatmap?site=test&url=/product/:id&from={DATE}&to={NEXT_DATE}",
                             headers=client.admin).json()
    assert answer["total"] == 7
    before = client.http.get(f"/api/heatmap?site=test&url=/product/:id&from={PREVIOUS_DATE}&to={PREVIOUS_DATE}",
                             headers=client.admin).json()
    assert before["total"] == 0 and before["elements"] == []


@pytest.mark.parametrize(("url", "expected"), [
    ("/product/1", {"#buy": 2, "nav > a:nth-of-type(2)": 1}),
    ("/product/2", {"#buy": 2, None: 1}),
    (SHOP + "/product/2", {"#buy": 2, None: 1}),
    ("/product/*", {"#buy": 4, "nav > a:nth-of-type(2)": 1, None: 1}),
    ("/nothing", {}),
])
def test_paths_urls_and_wildcards_read_the_events(client: Client, url: str, expected: dict[str | None, int]) -> None:
    build_clicks(client)
    assert counts(get(client, f"url={url}")) == expected


def test_rollup_and_scan_agree(client: Client) -> None:
    build_clicks(client)
    for device in ("", "desktop", "tablet", "mobile"):
        for rage in ("0", "1"):
            rolled = get(client, f"url=/product/:id&device={device}&rage={rage}")
            scanned = get(client, f"url=/product/*&device={device}&rage={rage}")
            assert rolled["elements"] == scanned["elements"], (device, rage)


@pytest.mark.sqlite_only
def test_erasure_and_late_bots_take_clicks_back(client: Client) -> None:
    build_clicks(client)
    conn = sqlite3.connect(client.db_path)
    with conn:
        conn.execute("DELETE FROM events WHERE session_id = 's3'")
        conn.execute("UPDATE sessions SET is_bot = 1 WHERE id = 's2'")
    conn.close()
    assert counts(get(client, "url=/product/:id")) == {"#buy": 2, "nav > a:nth-of-type(2)": 1}
    assert get(client, "url=/product/:id&device=mobile")["elements"] == []


def test_scroll_counts_each_pageview_once_at_its_deepest(client: Client) -> None:
    send(client, [
        view("s1", "/article", T, "desktop"),
        view("s1", "/article", T + 1000, "desktop", "scroll", depth=40, dh=3000),
        view("s1", "/article", T + 2000, "desktop", "scroll", depth=80, dh=3000),
        # the same URL again in the same session: a new pageview
        view("s1", "/article", T + 3000, "desktop"),
        view("s1", "/article", T + 4000, "desktop", "scroll", depth=30, dh=3000),
        view("s2", "/article", T, "mobile"),
        view("s2", "/article", T + 5000, "mobile", "scroll", depth=100, dh=6000),
    ])
    # an earlier report of s2's pageview arriving late changes nothing
    send(client, [view("s2", "/article", T + 1000, "mobile", "scroll", depth=20, dh=6000)])
    answer = get(client, "url=/article&kind=scroll")
    assert answer["views"] == 3
    bands = {b["depth"]: b["views"] for b in answer["bands"]}
    assert (bands[0], bands[30], bands[35], bands[80], bands[85], bands[100]) == (3, 3, 2, 2, 1, 1)
    assert answer["reached"][31] == 2 and answer["reached"][81] == 1
    assert answer["avg_fold_px"] == pytest.approx((800 + 800 + 700) / 3)
    desktop = get(client, "url=/article&kind=scroll&device=desktop")
    assert desktop["views"] == 2 and desktop["avg_fold_px"] == 800
    by_path = get(client, "url=/art*&kind=scroll&device=desktop")
    assert by_path["reached"] == desktop["reached"]


def test_pages_rank_routes_by_clicks(client: Client) -> None:
    build_clicks(client)
    send(client, [view("s9", "/article", T, "desktop", "scroll", depth=50)])
    assert get(client, "", "/api/heatmap/pages")["pages"] == [
        {"route": "/product/:id", "clicks": 6, "scroll_views": 0},
        {"route": "/about", "clicks": 1, "scroll_views": 0},
        {"route": "/article", "clicks": 0, "scroll_views": 1},
    ]


@pytest.mark.parametrize(("query", "message"), [
    ("url=/x&kind=hover", "kind must be click or scroll"),
    ("url=/x&device=watch", "device must be desktop, tablet or mobile"),
    ("kind=click", "url is required: a route (/product/:id), a path, /path/* or a URL"),
    ("url=/x&rage=maybe", "rage must be 1 or 0, not 'maybe'"),
])
def test_bad_parameters(client: Client, query: str, message: str) -> None:
    answer = client.http.get(f"/api/heatmap?site=test&{query}", headers=client.admin)
    assert answer.status_code == 400
    assert answer.json() == {"error": message}


def test_needs_the_admin(client: Client) -> None:
    for path in ("/api/heatmap?url=/", "/api/heatmap/pages", "/api/heatmap/snapshot?url=/"):
        assert client.http.get(path).status_code == 401


def replay(client: Client, session: str, width: int, path: str, marker: str) -> None:
    meta = {"type": 4, "timestamp": T + 10, "data": {"href": SHOP + path, "width": width, "height": 700}}
    full = {"type": 2, "timestamp": T + 11, "data": {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "html", "attributes": {"data-marker": marker}, "childNodes": []}]},
        "initialOffset": {"left": 0, "top": 0}}}
    answer = client.http.post("/v1/replay", json={"key": "wk_test", "session_id": session, "anon_id": "a-" + session,
                                                  "seq": 0, "events": [meta, full]}, headers={"User-Agent": CHROME})
    assert answer.status_code == 200, answer.text


def test_snapshot_of_the_page_per_device(client: Client) -> None:
    send(client, [view("r1", "/product/1", T, "desktop"), view("r2", "/product/2", T + 1, "mobile"),
                  view("r3", "/about", T + 2, "desktop")])
    replay(client, "r1", 1280, "/product/1", "desk")
    replay(client, "r2", 390, "/product/2", "phone")
    replay(client, "r3", 1280, "/about", "about")
    found = get(client, "url=/product/:id&device=desktop", "/api/heatmap/snapshot")
    assert found["session_id"] == "r1"
    assert found["meta"]["data"]["width"] == 1280
    assert found["snapshot"]["data"]["node"]["childNodes"][0]["attributes"] == {"data-marker": "desk"}
    assert get(client, "url=/product/:id&device=mobile", "/api/heatmap/snapshot")["session_id"] == "r2"
    missing = client.http.get(f"/api/heatmap/snapshot?site=test&url=/product/:id&device=tablet&from={DATE}&to={DATE}",
                              headers=client.admin)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no recorded snapshot of this page for this device"}


def test_a_hash_route_is_drawn_on_its_documents_snapshot(client: Client) -> None:
    send(client, [view("h1", "/todo#/active", T, "desktop")])
    replay(client, "h1", 1280, "/todo", "todo")
    found = get(client, "url=/todo%23/active&device=desktop", "/api/heatmap/snapshot")
    assert found["snapshot"]["data"]["node"]["childNodes"][0]["attributes"] == {"data-marker": "todo"}


def test_click_moment_is_the_newest_recorded_click_on_the_element(client: Client) -> None:
    send(client, [view("m1", "/product/1", T, "desktop"), view("m2", "/product/1", T + 5, "desktop"),
                  click("m1", "/product/1", T + 1000, "desktop", "#menu-item", rx=0.25, ry=0.75, x=12, y=34),
                  click("m2", "/product/1", T + 2000, "desktop", "#menu-item", rx=0.5, ry=0.5, x=56, y=78),
                  click("m2", "/product/1", T + 3000, "desktop", "#other")])
    replay(client, "m1", 1280, "/product/1", "one")  # m2 has no recording
    found = get(client, "url=/product/:id&device=desktop&sel=%23menu-item", "/api/heatmap/moment")
    assert found == {"session_id": "m1", "ts": T + 1000, "rx": 0.25, "ry": 0.75, "x": 12, "y": 34}
    for query, status, error in (
        ("url=/product/:id&sel=%23other", 404, "no recorded session holds a click on this element"),
        ("url=/product/:id&device=mobile&sel=%23menu-item", 404, "no recorded session holds a click on this element"),
        ("url=/product/:id", 400, "sel is required: the clicked element's selector"),
    ):
        answer = client.http.get(f"/api/heatmap/moment?site=test&from={DATE}&to={DATE}&{query}", headers=client.admin)
        assert (answer.status_code, answer.json()) == (status, {"error": error})
