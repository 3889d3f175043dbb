"""The dashboard's pictures agree with its numbers: what is drawn is measured in real Chromium.

Each test seeds the known journeys of e2e/dashboard_data.py (plus what it needs on top) through
/v1/batch, opens a page signed in, reads the rendered text and the boxes the browser laid out,
compares them with the JSON API's answer, and keeps a screenshot in artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from e2e.dashboard_data import HOUR, SITE, browser_fixture, recording, seed, server_fixture  # noqa: F401
from e2e.test_dashboard_pages import CHANNELS, Dashboard, f_duration, f_int, f_pct
from tests.support.collector import KEY, ORIGINS

pytestmark = pytest.mark.e2e

LONG_VISITOR = "3f2c9a7e-5b1d-4c8e-9a60-7d4e2b1f0c39"
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
COUNTRIES = {"DE": "Germany", "FR": "France", "US": "United States"}


def eur(value: float) -> str:
    """Intl.NumberFormat("en-US", {style: "currency", currency: "EUR", currencyDisplay: "code"})."""
    return f"EUR\u00a0{value:,.2f}"


def send(server: Any, events: list[dict[str, Any]], sent_at: int | None = None) -> None:
    body: dict[str, Any] = {"key": server.key, "events": events}
    if sent_at is not None:
        body["sent_at"] = sent_at
    answer = httpx.post(server.url + "/v1/batch", json=body, headers={"User-Agent": DESKTOP_UA})
    assert answer.json() == {"accepted": len(events), "rejected": []}, answer.text



def ev(kind: str, ts: int, session: str, anon: str, path: str, **fields: Any) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "type": kind, "ts": ts, "session_id": session, "anon_id": anon,
            "url": SITE + path, "vw": 1280, "vh": 800, **fields}


def big_spender(server: Any, now: int) -> str:
    """A long anonymous id, a purchase above a thousand, a rage click and a replay: every badge but one."""
    start = now - 3 * HOUR
    session = "big-" + uuid.uuid4().hex[:8]
    item = {"sku": "sku-9", "name": "Tent", "price": 1234.5, "qty": 1, "currency": "EUR"}
    send(server, [
        ev("pageview", start, session, LONG_VISITOR, "/product/9", referrer="https://www.google.com/"),
        ev("click", start + 4_000, session, LONG_VISITOR, "/product/9", x=5, y=5, sel="div.hero", rage=True),
        ev("cart", start + 8_000, session, LONG_VISITOR, "/product/9", action="add", item=item),
        ev("purchase", start + 61_500, session, LONG_VISITOR, "/checkout", order_id="o-9", value=1234.5,
           currency="EUR", items=[item]),
    ])
    replay = httpx.post(server.url + "/v1/replay", json={
        "key": server.key, "session_id": session, "anon_id": LONG_VISITOR, "seq": 0,
        "events": recording(start)})
    assert replay.status_code == 200, replay.text
    return session


def with_currency(server: Any, currency: str = "EUR") -> None:
    server.store.add_site("test", "Test site", origins=ORIGINS, key=KEY, settings={"currency": currency})


@pytest.fixture(name="board")
def board_fixture(server: Any, browser: Browser) -> Any:
    seed(server.url, server.key)
    with_currency(server)
    board = Dashboard(server, browser, 1280)
    yield board
    board.close()


def boxes(board: Dashboard, selector: str) -> list[dict[str, float]]:
    return board.page.eval_on_selector_all(selector, """els => els.map(e => {
        const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height, right: r.right,
        bottom: r.bottom, text: e.textContent.trim()}; })""")


def test_sessions_list_badges_visible_one_line_total_sort_and_short_ids(board: Dashboard) -> None:
    big = big_spender(board.server, int(time.time() * 1000))
    data = board.api("/api/sessions", limit="50")
    assert data["total"] == 8 and len(data["sessions"]) == 8
    page = board.open("/sessions")
    assert board.text("#sessions-total") == "8 sessions"

    # Every outcome badge lies inside the window and inside the scrolling table box, unclipped.
    wrap = boxes(board, "#sessions-table")[0]
    panel = board.page.eval_on_selector(".table-wrap", "e => { const r = e.getBoundingClientRect(); "
                                        "return {right: r.right, scroll: e.scrollWidth, client: e.clientWidth}; }")
    widths = " ".join(f"{b['text']}={round(b['w'])}" for b in boxes(board, "#sessions-table th"))
    assert panel["scroll"] <= panel["client"], ("the session table scrolls sideways at 1280 px", widths)
    badges = boxes(board, "#sessions-table .badge")
    assert {b["text"] for b in badges} == {"purchase", "cart abandoned", "frustrated", "replay"}
    for badge in badges:
        assert badge["right"] <= min(1280, panel["right"], wrap["right"]) and badge["x"] >= 0, badge
    # One line per row: every row is as tall as the shortest.
    heights = [b["h"] for b in boxes(board, "#sessions-table tbody tr")]
    assert max(heights) - min(heights) <= 3 and max(heights) < 40, heights  # a second line would add ~18 px

    # The big spender's row: revenue with currency and separators, the id cut short with the whole id on hover.
    row = f"#sessions-table tbody tr:has(a[href^='/sessions/{big}'])"
    assert board.text(f"{row} td:nth-child(5)") == eur(1234.5)
    visitor = page.locator(f"{row} td:nth-child(2) a")
    assert visitor.text_content() == LONG_VISITOR[:10] + "…"
    assert visitor.get_attribute("title") == LONG_VISITOR
    assert board.texts(f"{row} .badge") == ["purchase", "frustrated", "replay"]
    assert board.text(f"{row} td:nth-child(7)") == "Organic search"
    board.shot("pictures-sessions")

    # Sorted by a header click: the server's order, shown as the API gives it, and the other way round.
    for label, sort in (("Duration", "duration"), ("Pages", "pages"), ("Revenue", "revenue")):
        page.click(f"#sessions-table th a[data-sort={sort}]")
        page.wait_for_url(f"**sort={sort}&order=desc**")
        page.wait_for_selector("body[data-ready='1']")
        expected = board.api("/api/sessions", sort=sort, order="desc")["sessions"]
        links = page.locator("#sessions-table tbody td:first-child a").all()
        assert [a.get_attribute("href").split("?")[0] for a in links] == [f"/sessions/{s['id']}" for s in expected]
        assert board.text("#sessions-table th[aria-sort=descending]") == f"{label} ▼"
    column = {"duration": 3, "pages": 4, "revenue": 5}
    durations = board.texts(f"#sessions-table tbody td:nth-child({column['duration']})")
    assert durations == [f_duration(s["duration_ms"] / 1000) for s in board.api(
        "/api/sessions", sort="revenue", order="desc")["sessions"]]
    page.click("#sessions-table th a[data-sort=revenue]")
    page.wait_for_url("**sort=revenue&order=asc**")
    page.wait_for_selector("body[data-ready='1']")
    ascending = board.api("/api/sessions", sort="revenue", order="asc")["sessions"]
    assert board.texts("#sessions-table tbody td:nth-child(5)") == [
        eur(s["revenue"]) if s["purchases"] else "–" for s in ascending]
    assert board.texts("#sessions-table tbody td:nth-child(5)")[-1] == eur(1234.5)


def test_funnel_first_step_full_height_and_paged_dropoffs(board: Dashboard) -> None:
    now = int(time.time() * 1000)
    # 24 more visitors who only look: the first step's drop-off list needs more than one page.
    for i in range(24):
        send(board.server, [ev("pageview", now - 2 * HOUR + i * 1000, f"look-{i:02d}", f"looker-{i:02d}", "/")])
    steps = [{"type": "pageview"}, {"type": "cart", "name": "add"}, {"type": "purchase"}]
    body = {"steps": steps, "window_s": 86400, "from": board.start, "to": board.end, "filters": {}, "site": "test"}
    data = board.http.post("/api/funnel", json=body).json()
    assert [s["visitors"] for s in data["steps"]] == [30, 4, 2]
    assert [s["dropped"] for s in data["steps"]] == [26, 2, 0]
    page = board.open("/funnels")
    chart = boxes(board, "#funnel-chart")[0]
    stacks = boxes(board, "#funnel-chart .stack")
    # Step 1 fills the chart (less its top padding and bottom border); the others in proportion to it.
    full = stacks[0]["h"]
    assert abs(full - (chart["h"] - 9)) <= 1, (full, chart)
    for stack, step in zip(stacks, data["steps"], strict=True):
        assert abs(stack["h"] - full * step["visitors"] / 30) <= 1, step
    lost = boxes(board, "#funnel-chart .stack[data-step='1'] .lost")[0]
    assert abs(lost["h"] - full * 26 / 30) <= 1

    first = "[data-dropped-step='1']"
    listed = data["steps"][0]["dropped_sessions"]
    assert len(listed) == 26
    shown = [a.get_attribute("href").split("?")[0] for a in page.locator(f"{first} a.mono").all()]
    assert shown == [f"/sessions/{d['id']}" for d in listed[:10]]
    assert board.text(f"{first} [data-field=page]") == "1–10 of 26"
    page.click(f"{first} button[data-action=next]")
    page.click(f"{first} button[data-action=next]")
    shown = [a.get_attribute("href").split("?")[0] for a in page.locator(f"{first} a.mono").all()]
    assert shown == [f"/sessions/{d['id']}" for d in listed[20:]]
    assert board.text(f"{first} [data-field=page]") == "21–26 of 26"
    assert page.locator(f"{first} button[data-action=next]").is_disabled()
    board.shot("pictures-funnels")


def test_retention_future_weeks_blank_and_current_week_marked(board: Dashboard) -> None:
    today = dt.datetime.now(dt.UTC).date()
    start = (today - dt.timedelta(days=today.weekday() + 14)).isoformat()  # three cohorts: two weeks back
    board.scope["from"] = start
    data = board.api("/api/retention", weeks="8")
    board.open("/retention")
    monday = today - dt.timedelta(days=today.weekday())
    assert data["current_week"] == monday.isoformat()
    assert data["cohorts"], "the seeded visitors make at least the current week's cohort"
    for cohort in data["cohorts"]:
        row = f"#cohorts tr[data-cohort='{cohort['week']}']"
        past = (monday - dt.date.fromisoformat(cohort["week"])).days // 7
        expected = ["100%"] + [f_pct(r) if r is not None else "" for r in cohort["rates"][1:]]
        assert board.texts(f"{row} td.cell") == expected
        assert all(r is None for r in cohort["rates"][past + 1:]) and None not in cohort["rates"][:past + 1]
        assert board.page.locator(f"{row} td.cell.future").count() == 8 - past - 1
        marked = board.page.locator(f"{row} td.cell[data-partial='1']")
        assert marked.count() == 1 and marked.get_attribute("data-week") == str(past)
    assert "is still under way" in board.text("#retention-legend")
    board.shot("pictures-retention")


def test_people_counts_every_session_paged_and_sorted(board: Dashboard) -> None:
    now = int(time.time() * 1000)
    # One visitor with three sessions among 60 one-session visitors: more than one page of people.
    for i in range(3):
        send(board.server, [ev("pageview", now - (10 + i) * HOUR, f"thrice-{i}", "visitor-thrice", "/")])
    for i in range(60):
        send(board.server, [ev("pageview", now - 30 * HOUR + i * 1000, f"once-{i:02d}", f"visitor-{i:02d}", "/")])
    api = board.api("/api/persons", sort="sessions", order="desc", limit="50")
    assert api["total"] == 6 + 1 + 60
    assert [(p["id"], p["sessions"]) for p in api["people"][:2]] == [("visitor-thrice", 3), ("user_42", 2)]
    page = board.open("/people", sort="sessions", order="desc")
    assert board.text("#people-total") == f"{api['total']} visitors"
    rows = page.locator("#people-table tbody tr")
    assert rows.count() == 50
    shown = [(a.get_attribute("title"), board.page.locator("#people-table tbody tr").nth(i).locator("td").nth(2)
              .text_content()) for i, a in enumerate(page.locator("#people-table tbody td:first-child a").all())]
    assert shown == [(p["id"], f_int(p["sessions"])) for p in api["people"]]
    assert board.texts("#people-table tbody td:nth-child(6)") == [eur(p["revenue"]) for p in api["people"]]
    assert board.text("#people-pager [data-field=page]") == "1–50 of 67"
    page.click("#people-pager a[data-action=next]")
    page.wait_for_selector("body[data-ready='1']")
    second = board.api("/api/persons", sort="sessions", order="desc", limit="50", offset="50")
    assert [a.get_attribute("title") for a in page.locator("#people-table tbody td:first-child a").all()] == [
        p["id"] for p in second["people"]]
    assert board.text("#people-pager [data-field=page]") == "51–67 of 67"
    page.click("#people-table th a[data-sort=revenue]")
    page.wait_for_url("**sort=revenue&order=desc**")
    page.wait_for_selector("body[data-ready='1']")
    by_revenue = board.api("/api/persons", sort="revenue", order="desc", limit="50")
    assert [a.get_attribute("title") for a in page.locator("#people-table tbody td:first-child a").all()] == [
        p["id"] for p in by_revenue["people"]]
    assert board.texts("#people-table tbody td:nth-child(6)")[:2] == [eur(120.0), eur(59.0)]
    board.shot("pictures-people")


def test_paths_labels_fit_and_the_rest_folds_into_other(board: Dashboard) -> None:
    now = int(time.time() * 1000)
    # Eleven different next pages after "/", some with long paths: more than a column can show.
    for i in range(11):
        path = f"/collections/outdoor-equipment/category-{i}/very-long-product-name-{i}" if i % 2 else f"/p/{i}"
        send(board.server, [ev("pageview", now - 5 * HOUR + i * 60_000, f"walk-{i}", f"walker-{i}", "/"),
                            ev("pageview", now - 5 * HOUR + i * 60_000 + 5_000, f"walk-{i}", f"walker-{i}", path)])
    data = board.api("/api/paths", from_url="/", depth="3")
    page = board.open("/paths", from_url="/")
    first = data["next"][0]["pages"]
    assert len(first) > 7
    drawn = [g.get_attribute("data-path") for g in page.locator("#flow g.node[data-col='1']").all()]
    assert len(drawn) == 7 and drawn[-1] == "(other)"
    assert drawn[:6] == [p["path"] for p in first[:6]]
    # The API folds the column: every session reaches one page at step 1, and those the six
    # drawn pages do not hold are the other node's.
    folded = data["folded"]["next"][0]
    assert folded >= 11 - 6  # the eleven pages at least, less the six drawn
    assert board.text("#flow g.node[data-col='1'][data-path='(other)'] text.count") == f_int(
        data["sessions"] - sum(p["sessions"] for p in first[:6]))
    assert board.text("#flow g.node[data-col='1'][data-path='(other)'] text.label").startswith(
        f"other ({folded} pages)")
    svg = boxes(board, "#flow svg")[0]
    labels = boxes(board, "#flow svg text")
    for label in labels:
        assert svg["x"] <= label["x"] and label["right"] <= svg["right"] + 0.5, label
        assert svg["y"] <= label["y"] and label["bottom"] <= svg["bottom"] + 0.5, label
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            overlap_x = min(a["right"], b["right"]) - max(a["x"], b["x"])
            overlap_y = min(a["bottom"], b["bottom"]) - max(a["y"], b["y"])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (a, b)
    board.shot("pictures-paths")


def test_session_detail_one_duration_causal_order_and_type_filter(board: Dashboard) -> None:
    now = int(time.time() * 1000)
    t = now - 2 * HOUR
    item = {"sku": "sku-1", "name": "Boots", "price": 59.0, "qty": 1, "currency": "EUR"}
    session, anon = "causal-1", "anon-causal"
    first = [ev("pageview", t - 5_000, session, anon, "/product/1"),
             ev("cart", t, session, anon, "/product/1", action="add", item=item),
             ev("vital", t + 100, session, anon, "/product/1", name="INP", value=40),
             ev("vital", t + 200, session, anon, "/product/1", name="CLS", value=0.01)]
    # The SDK holds a click a second to learn whether it was dead: it reaches the collector later,
    # with a clock offset a few milliseconds off the first batch's.
    send(board.server, first, sent_at=t + 300)
    send(board.server, [ev("click", t, session, anon, "/product/1", x=5, y=5, sel="button.add", text="Add")],
         sent_at=t + 260)
    one = board.http.get(f"/api/sessions/{session}").json()
    assert [e["type"] for e in one["events"]] == ["pageview", "click", "cart", "vital", "vital"]
    page = board.open(f"/sessions/{session}")
    assert board.texts("#timeline li .badge") == ["pageview", "click", "cart", "vital", "vital"]
    visible = [li.get_attribute("data-type") for li in page.locator("#timeline li:visible").all()]
    assert visible == ["pageview", "click", "cart"]  # vitals are noise until asked for
    page.check("#type-filter input[data-type=vital]")
    page.uncheck("#type-filter input[data-type=click]")
    visible = [li.get_attribute("data-type") for li in page.locator("#timeline li:visible").all()]
    assert visible == ["pageview", "cart", "vital", "vital"]
    assert board.texts("#type-filter label") == ["pageview (1)", "click (1)", "cart (1)", "vital (2)"]

    # One duration: the facts, the list and the player's facts say the same.
    big = big_spender(board.server, now)
    row = board.http.get(f"/api/sessions/{big}").json()
    assert row["duration_ms"] == 61_500
    page = board.open(f"/sessions/{big}")
    assert board.text("[data-fact=Duration] dd") == f_duration(61.5) == "1m 02s"
    player = page.frame_locator("#replay iframe")
    player.locator("dt:text-is('Duration') + dd").wait_for()
    assert (player.locator("dt:text-is('Duration') + dd").text_content() or "").strip() == "1m 02s"
    board.open("/sessions")
    assert board.text(f"#sessions-table tbody tr:has(a[href^='/sessions/{big}']) td:nth-child(3)") == "1m 02s"
    board.shot("pictures-session-list-duration")


def test_money_countries_channels_ticks_and_a_reversed_range(board: Dashboard) -> None:
    # Geo needs a GeoIP file: countries are stamped on the sessions as enrichment would set them.
    db = sqlite3.connect(board.server.db_path)
    with db:
        ids = [r[0] for r in db.execute("SELECT id FROM sessions ORDER BY first_ts")]
        for session_id, code in zip(ids, ["DE", "FR", "US", "DE", "DE", "FR", "US"], strict=False):
            db.execute("UPDATE sessions SET country = ? WHERE id = ?", (code, session_id))
    db.close()
    big_spender(board.server, int(time.time() * 1000))
    data = board.api("/api/overview")
    board.open("/overview")
    assert board.text("[data-kpi=revenue] .value") == eur(data["metrics"]["revenue"]["value"])
    assert data["metrics"]["revenue"]["value"] == 1234.5 + 179.0
    assert board.text("[data-kpi=revenue] .value") == "EUR\u00a01,413.50"
    assert board.texts("#breakdown-countries tbody td:first-child") == [
        COUNTRIES.get(r["name"], r["name"]) for r in data["countries"]]
    assert "Germany" in board.texts("#breakdown-countries tbody td:first-child")
    assert board.texts("#breakdown-channels tbody td:first-child") == [
        CHANNELS.get(r["name"], r["name"]) for r in data["channels"]]
    # The y axis of counts: uPlot draws on a canvas, the chart leaves the labels it drew beside it.
    ticks = (board.page.get_attribute("#chart .uplot", "data-ticks-y") or "").split()
    assert len(ticks) >= 2 and all(t.replace(",", "").isdigit() for t in ticks), ticks
    assert len(set(ticks)) == len(ticks), ticks  # no "1, 1, 2, 2" from rounding halves
    board.shot("pictures-overview")

    commerce = board.api("/api/commerce")
    board.open("/commerce")
    assert board.text("[data-kpi=revenue] .value") == eur(commerce["revenue"])
    assert board.texts("#products tbody td:last-child") == [eur(p["revenue"]) for p in commerce["products"]]
    orders_axis = (board.page.get_attribute("#chart .uplot", "data-ticks-orders") or "").split()
    assert len(orders_axis) >= 2 and all(t.isdigit() for t in orders_axis), orders_axis
    assert len(set(orders_axis)) == len(orders_axis), orders_axis

    # A reversed range: the API says so in words, and every page shows that sentence.
    board.scope.update({"from": board.end, "to": board.start})
    answer = board.http.get("/api/overview", params=board.scope)
    message = f"the date range is reversed: from {board.end} is after to {board.start}; swap them"
    assert (answer.status_code, answer.json()) == (400, {"error": message})
    for path in ("/overview", "/sessions", "/funnels", "/retention", "/people"):
        board.page.goto(f"{board.server.url}{path}?site=test&from={board.end}&to={board.start}")
        board.page.wait_for_selector("body[data-ready='1']")
        assert board.text("#content .alert") == f"T{message[1:]}.", path
    board.shot("pictures-reversed-range")


def test_heatmap_toolbar_offers_no_segment_or_filters_it_would_not_apply(board: Dashboard) -> None:
    made = board.http.post("/api/segments", json={"site": "test", "name": "Mobile", "filters": {"device": "mobile"}})
    assert made.status_code == 201, made.text
    segment = str(made.json()["id"])
    page = board.open("/heatmaps", segment=segment, country="DE")
    assert page.locator("#f-segment").is_hidden()
    assert page.locator("#f-chips .chip").count() == 0
    assert board.text("#f-unscoped") == (
        "Heatmaps count every visit in the range: segments and filters do not apply here.")
    # Leaving the heatmaps keeps the analyst's segment and filters for the pages that apply them.
    href = page.get_attribute("[data-nav=overview]", "href") or ""
    assert f"segment={segment}" in href and "country=DE" in href
    board.shot("pictures-heatmap-toolbar")
    board.open("/overview", segment=segment, country="DE")
    assert page.locator("#f-segment").is_visible()
    assert board.texts("#f-chips .chip")[0].startswith("Segment: Mobile")
