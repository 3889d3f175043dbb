"""Property-based tests over every ingest endpoint: hostile input never yields a 5xx or loses a good event."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from collector.app import create_app
from collector.enrich import strip_sensitive
from collector.ingest.replay_limits import MAX_PAGE_PX, MAX_VIEWPORT_PX
from tests.support import fuzzing
from tests.support.collector import KEY, make_settings, make_store, read_rows

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
CLIENT_STATUSES = {200, 400, 401, 403, 413, 415}


class App:
    """One collector for the whole module: examples use fresh ids, so rows never collide."""

    def __init__(self, http: TestClient, db_path: Path) -> None:
        self.http = http
        self.db_path = db_path

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return read_rows(self.db_path, sql, *params)

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    db_path = tmp_path_factory.mktemp("fuzz") / "trailmark.db"
    # NORMAL: fuzzing is about input handling; durability has its own crash tests.
    collector = create_app(make_settings(db_path, synchronous="NORMAL"), make_store(db_path))
    with TestClient(collector, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as http:
        yield App(http, db_path)


def _post(app: App, path: str, body: bytes, *, gz: bool = False, ctype: str = "application/json") -> Any:
    headers = {"Content-Type": ctype}
    if gz:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return app.http.post(path, content=body, headers=headers)


def _fresh_ids(events: list[Any]) -> None:
    """Hypothesis reuses values across examples; a prefix per example keeps ids apart in the shared db."""
    prefix = uuid.uuid4().hex[:16]
    for event in events:
        if isinstance(event, dict) and isinstance(event.get("id"), str) and len(event["id"]) == 36:
            event["id"] = f"{prefix}-{event['id']}"


@FUZZ
@given(batch=fuzzing.mixed_batches(), gz=st.booleans(), plain=st.booleans(), sent=st.booleans())
def test_mixed_batch_stores_each_good_event_exactly_once(
    app: App, batch: tuple[list[Any], list[bool]], gz: bool, plain: bool, sent: bool
) -> None:
    events, good = batch
    _fresh_ids(events)
    envelope: dict[str, Any] = {"key": KEY, "events": events}
    if sent:
        envelope["sent_at"] = fuzzing.NOW_MS
    body = json.dumps(envelope).encode()
    dead_before = app.count("dead_letters")
    answer = _post(app, "/v1/batch", body, gz=gz, ctype="text/plain" if plain else "application/json")
    if not events:
        assert answer.status_code == 400
        assert "error" in answer.json()
        return
    assert answer.status_code == 200, answer.text
    reply = answer.json()
    assert reply["accepted"] == sum(good)
    assert [r["index"] for r in reply["rejected"]] == [i for i, ok in enumerate(good) if not ok]
    assert app.count("dead_letters") == dead_before + sum(not ok for ok in good)

    # The first event with an id decides its stored type; later ones are duplicates.
    expected: dict[str, str] = {}
    for event, ok in zip(events, good, strict=True):
        if ok:
            expected.setdefault(event["id"], event["type"])
    bad_ids = {
        e["id"] for e, ok in zip(events, good, strict=True)
        if not ok and isinstance(e, dict) and isinstance(e.get("id"), str)
    } - set(expected)

    def stored() -> list[tuple[str, str]]:
        ids = list(expected) + list(bad_ids)
        return sorted(
            (r["id"], r["type"]) for r in app.rows(
                "SELECT id, type FROM events WHERE site_id = 'test'"
                " AND id IN (SELECT value FROM json_each(?))", json.dumps(ids),
            )
        )

    assert stored() == sorted(expected.items())
    # A retried batch (the SDK's answer to a lost reply) stores nothing twice.
    again = _post(app, "/v1/batch", body, gz=gz)
    assert again.status_code == 200
    assert again.json()["accepted"] == sum(good)
    assert stored() == sorted(expected.items())


@FUZZ
@given(
    path=st.sampled_from(["/v1/batch", "/v1/replay"]), body=fuzzing.raw_bodies,
    ctype=fuzzing.content_types, encoding=fuzzing.content_encodings,
)
def test_raw_bytes_never_cause_a_server_error(
    app: App, path: str, body: bytes, ctype: str, encoding: str
) -> None:
    headers = {"Content-Type": ctype}
    if encoding:
        headers["Content-Encoding"] = encoding
    answer = app.http.post(path, content=body, headers=headers)
    assert answer.status_code in CLIENT_STATUSES, answer.text
    if answer.status_code != 200:
        assert set(answer.json()) == {"error"}


@FUZZ
@given(data=st.binary(max_size=4096))
def test_gzip_of_garbage_and_garbage_claiming_gzip_is_refused_cleanly(app: App, data: bytes) -> None:
    for body in (data, gzip.compress(data)):
        answer = app.http.post(
            "/v1/batch", content=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        assert answer.status_code in {400, 401, 413}, answer.text


@FUZZ
@given(envelope=st.dictionaries(
    st.sampled_from(["key", "sent_at", "events", "extra"]), fuzzing.json_values, max_size=4,
) | fuzzing.json_values)
def test_any_json_envelope_is_answered_as_a_client_error(app: App, envelope: Any) -> None:
    answer = _post(app, "/v1/batch", json.dumps(envelope).encode())
    assert answer.status_code in {400, 401, 413}, answer.text
    assert set(answer.json()) == {"error"}


text_without_surrogates = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)


@FUZZ
@given(
    key=st.one_of(st.just(KEY), text_without_surrogates),
    url=text_without_surrogates, referrer=text_without_surrogates,
)
def test_pixel_always_answers_the_gif_and_stores_one_pageview_per_hit(
    app: App, key: str, url: str, referrer: str
) -> None:
    before = app.rows("SELECT max(rowid) AS last FROM events")[0]["last"] or 0
    answer = app.http.get("/v1/p.gif", params={"k": key, "u": url, "r": referrer})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/gif"
    assert answer.content == b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04" \
        b"\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x01D\x00;"
    new = app.rows("SELECT type, url, data FROM events WHERE rowid > ?", before)
    if key != KEY:
        assert new == []
        return
    cleaned = strip_sensitive(url[:2048]) if url else None  # enrichment drops secret query params
    assert [(r["type"], r["url"]) for r in new] == [("pageview", cleaned)]


rrweb_events = st.one_of(
    st.fixed_dictionaries({"type": st.integers(0, 6), "timestamp": st.integers(0, fuzzing.NOW_MS)},
                          optional={"data": fuzzing.json_values}),
    fuzzing.json_values,
)


def _px(value: Any, bound: float, low: float = 0) -> bool:
    return value is None or (type(value) in (int, float) and low <= value <= bound)


def _sizes_fit(event: dict[str, Any]) -> bool:
    """The page sizes a viewer would draw (replay_limits.py): checked in meta (4), full snapshot (2)
    and viewport resize (3, source 4) events, where `data` is given."""
    kind, data = event["type"], event.get("data")
    if kind not in (2, 3, 4) or data is None:
        return True
    if not isinstance(data, dict):
        return False
    viewport = _px(data.get("width"), MAX_VIEWPORT_PX) and _px(data.get("height"), MAX_VIEWPORT_PX)
    if kind == 4:
        return viewport
    if kind == 2:
        offset = data.get("initialOffset", {})
        return isinstance(offset, dict) and all(
            _px(offset.get(side), MAX_PAGE_PX, -MAX_PAGE_PX) for side in ("top", "left")
        )
    source = data.get("source")
    return (source is None or type(source) is int) and (source != 4 or viewport)


@FUZZ
@given(
    session=fuzzing.ids, seq=st.integers(-5, 1_000_005),
    events=st.lists(rrweb_events, max_size=6), gz=st.booleans(),
)
def test_replay_chunk_is_stored_once_or_refused(
    app: App, session: str, seq: int, events: list[Any], gz: bool
) -> None:
    session = f"{uuid.uuid4().hex[:16]}-{session}"  # fresh per example in the shared db
    body = json.dumps({"key": KEY, "session_id": session, "seq": seq, "events": events}).encode()
    answer = _post(app, "/v1/replay", body, gz=gz)
    well_formed = (
        0 <= seq <= 1_000_000 and bool(events) and all(
            isinstance(e, dict) and type(e.get("type")) is int
            and type(e.get("timestamp")) is int and 0 <= e["timestamp"] <= 4_102_444_800_000
            and _sizes_fit(e)
            for e in events
        )
    )
    chunks = app.rows("SELECT seq FROM replay_chunks WHERE site_id = 'test' AND session_id = ?", session)
    if not well_formed:
        assert answer.status_code == 400, answer.text
        assert chunks == []
        return
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": len(events), "stored": True}
    assert _post(app, "/v1/replay", body).json() == {"accepted": len(events), "stored": False}
    assert chunks == [{"seq": seq}]


@st.composite
def mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """A valid body with bytes flipped, cut or inserted (invalid UTF-8 inside strings included)."""
    buf = bytearray(body)
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, max(0, len(buf) - 1)))
        op = draw(st.sampled_from([3, 0, 1, 2]))  # shrinks toward the subtle case
        quotes = [i for i, b in enumerate(buf) if b == ord('"')]
        if op == 3 and quotes:  # bad UTF-8 right inside a string, the rest still valid JSON
            at = draw(st.sampled_from(quotes)) + 1
            buf[at:at] = draw(st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80"]))
        elif op == 0 and buf:
            buf[pos] = draw(st.integers(0, 255))
        elif op == 1:
            del buf[pos:pos + draw(st.integers(1, 8))]
        else:
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=4))
    return bytes(buf)


@FUZZ
@given(data=st.data(), path=st.sampled_from(["/v1/batch", "/v1/replay"]))
def test_mutated_well_formed_bodies_never_cause_a_server_error(app: App, data: st.DataObject, path: str) -> None:
    if path == "/v1/batch":
        events = [data.draw(fuzzing.valid_events)]
        body = json.dumps({"key": KEY, "events": events}).encode()
    else:
        body = json.dumps({"key": KEY, "session_id": "s", "seq": 1,
                           "events": [{"type": 2, "timestamp": 1, "data": {"href": "x"}}]}).encode()
    answer = _post(app, path, data.draw(mutated(body)))
    assert answer.status_code in CLIENT_STATUSES, answer.text


def test_invalid_utf8_inside_a_string_is_a_client_error(app: App) -> None:
    for path, body in (
        ("/v1/batch", b'{"key": "wk_\xff\xfetest", "events": [{}]}'),
        ("/v1/replay", b'{"key": "wk_test", "session_id": "\xc3(", "seq": 0, "events": [{}]}'),
    ):
        answer = _post(app, path, body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith("malformed JSON: 'utf-8' codec can't decode")
