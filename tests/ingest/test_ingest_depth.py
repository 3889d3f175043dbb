"""Deeply nested JSON: one refused event or a 400, never a RecursionError (a 500) for the batch.

Over a real uvicorn: how deep msgspec may recurse depends on the server's own call stack."""

from __future__ import annotations

import gzip
import json
import time
import uuid

import httpx
import pytest

from collector.depth import MAX_DEPTH, MAX_REPLAY_DEPTH, deep_items, deeper_than
from tests.support.collector import Server

NOW = int(time.time() * 1000)
ORIGIN = "https://shop.example"
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def track(props_json: str = "{}") -> tuple[str, str]:
    """(id, event JSON) of a track event whose props are the given JSON text."""
    event_id = str(uuid.uuid4())
    text = (f'{{"id":"{event_id}","type":"track","ts":{NOW},"anon_id":"a-1","session_id":"s-1",'
            f'"name":"probe","props":{props_json}}}')
    return event_id, text


def post_batch(server: Server, *events: str) -> httpx.Response:
    body = f'{{"key":"{server.key}","sent_at":{NOW},"events":[' + ",".join(events) + "]}"
    return httpx.post(f"{server.url}/v1/batch", content=body,
                      headers={"content-type": "text/plain", "origin": ORIGIN})


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, 967, 2000, 100_000])
def test_a_deep_event_is_one_rejection_and_the_rest_is_stored(collector_server: Server, levels: int) -> None:
    # event object (1) + props object (2) + `levels` arrays: MAX_DEPTH - 1 arrays is one too many
    first, deep, last = track(), track('{"p":' + nested(levels) + "}"), track('{"ok":[[1]]}')
    answer = post_batch(collector_server, first[1], deep[1], last[1])
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 2, "rejected": [{"index": 1, "error": TOO_DEEP}]}
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert [r["id"] for r in collector_server.rows("SELECT id FROM events ORDER BY rowid")] == [first[0], last[0]]
    dead = collector_server.rows("SELECT source, reason FROM dead_letters")
    assert dead == [{"source": "batch", "reason": TOO_DEEP}]


def test_an_event_at_the_limit_is_stored(collector_server: Server) -> None:
    at_limit = track('{"p":' + nested(MAX_DEPTH - 2) + "}")
    answer = post_batch(collector_server, at_limit[1])
    assert answer.json() == {"accepted": 1, "rejected": []}
    stored = collector_server.rows("SELECT data FROM events")
    assert json.loads(stored[0]["data"])["props"] == {"p": json.loads(nested(MAX_DEPTH - 2))}


def test_two_deep_events_among_good_ones_keep_their_indexes(collector_server: Server) -> None:
    events = [track(), track('{"p":' + nested(3000) + "}"), track('{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}'),
              track('{"q":{"r":' + nested(1500) + "}}"), track()]
    answer = post_batch(collector_server, *(text for _, text in events))
    assert answer.json() == {"accepted": 3, "rejected": [{"index": 1, "error": TOO_DEEP},
                                                         {"index": 3, "error": TOO_DEEP}]}
    stored = [r["id"] for r in collector_server.rows("SELECT id FROM events ORDER BY rowid")]
    assert stored == [events[0][0], events[2][0], events[4][0]]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"key":"wk_test","events":[' + "[" * 5000, id="unclosed"),
        pytest.param('{"key":' + nested(5000) + ',"events":[{}]}', id="deep-key"),
        pytest.param(nested(100_000), id="deep-body"),
    ],
)
def test_deep_json_outside_events_is_a_400(collector_server: Server, body: str) -> None:
    answer = httpx.post(f"{collector_server.url}/v1/batch", content=body, headers={"content-type": "text/plain"})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(("malformed JSON", "invalid batch"))
    assert collector_server.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_a_deep_replay_chunk_is_a_400(collector_server: Server) -> None:
    rrweb = f'{{"type":2,"timestamp":{NOW},"data":{{"node":' + nested(MAX_REPLAY_DEPTH + 100) + "}}"
    body = '{"key":"wk_test","session_id":"s-1","seq":0,"events":[' + rrweb + "]}"
    answer = httpx.post(f"{collector_server.url}/v1/replay", content=gzip.compress(body.encode()),
                        headers={"content-type": "application/json", "content-encoding": "gzip"})
    assert answer.status_code == 400
    assert answer.json() == {"error": f"invalid replay chunk: JSON nested deeper than {MAX_REPLAY_DEPTH + 2} levels"}
    assert collector_server.rows("SELECT count(*) AS n FROM replay_chunks") == [{"n": 0}]


def test_a_deep_api_body_is_a_400(collector_server: Server) -> None:
    body = '{"site":"test","steps":' + nested(5000) + "}"
    answer = httpx.post(f"{collector_server.url}/api/funnel", content=body, headers=collector_server.admin)
    assert answer.status_code == 400
    assert answer.json() == {"error": f"invalid request: JSON nested deeper than {MAX_DEPTH} levels"}


@pytest.mark.parametrize(
    ("text", "limit", "deeper"),
    [
        (b"{}", 1, False), (b"[[]]", 1, True), (b'[{"a":[1,2,{"b":null}]}]', 4, False),
        (b'[{"a":[1,2,{"b":null}]}]', 3, True), (b'["[[[[[[", "]]]]]"]', 1, False),
        (b'["\\"[[[[", 1]', 1, False), (b'["unterminated [[[[', 3, True), (b"[[[", 3, False),
        (b"[[[[", 3, True), (b"]]]][[", 2, False),
    ],
)
def test_depth_scan(text: bytes, limit: int, deeper: bool) -> None:
    assert deeper_than(text, limit) is deeper


def test_deep_items_finds_the_spans_of_deep_values() -> None:
    body = b'{"events":[{"a":1},{"b":[[[[]]]]},{"c":"[[[[["}]}'
    assert [body[s:e] for s, e in deep_items(body, 2, 3) or []] == [b'{"b":[[[[]]]]}']
    assert deep_items(body, 2, 5) == []


def test_deep_items_gives_up_on_a_body_built_to_be_slow() -> None:
    body = b'{"events":[' + b"[]," * 100_000 + nested(40).encode() + b"]}"
    assert deep_items(body, 2, MAX_DEPTH) is None
