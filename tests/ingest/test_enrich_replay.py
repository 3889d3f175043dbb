"""Recorded URLs stripped from rrweb events: the in-place path and the decoding path agree."""

from __future__ import annotations

import json

import pytest

from collector.enrich.replay import _scrub_decoded, scrub_events

EVENTS = [
    {"type": 4, "timestamp": 1, "data": {"href": "https://s.example/cb?q=1&apiKey=S1#access_token=S2&x=2"}},
    {"type": 3, "timestamp": 2, "data": {"source": 0, "texts": [{"id": 3, "value": "?token=typed text"}],
     "attributes": [{"id": 5, "attributes": {"href": None, "style": {"color": "red"}, "src": "/i?SIG=S3"}}],
     "adds": [{"parentId": 1, "node": {"type": 2, "tagName": "a", "id": 9, "childNodes": [],
               "attributes": {"href": "/n?Access-Token=S4&n=1", "srcset": " /a?jwt=S5 1x,\t/b 2x ",
                              "title": "?token=title", "style": "background:url('/bg?auth=S6&w=1')"}}}]}},
    {"type": 3, "timestamp": 3, "data": {"source": 1, "positions": [{"x": 1, "y": 2, "id": 5, "timeOffset": 0}]}},
]
EXPECTED = [
    {"type": 4, "timestamp": 1, "data": {"href": "https://s.example/cb?q=1#x=2"}},
    {"type": 3, "timestamp": 2, "data": {"source": 0, "texts": [{"id": 3, "value": "?token=typed text"}],
     "attributes": [{"id": 5, "attributes": {"href": None, "style": {"color": "red"}, "src": "/i"}}],
     "adds": [{"parentId": 1, "node": {"type": 2, "tagName": "a", "id": 9, "childNodes": [],
               "attributes": {"href": "/n?n=1", "srcset": " /a 1x,\t/b 2x ",
                              "title": "?token=title", "style": "background:url('/bg?w=1')"}}}]}},
    EVENTS[2],
]


@pytest.mark.parametrize(
    "dumps",
    [
        lambda e: json.dumps(e, separators=(",", ":"), ensure_ascii=False),  # as JSON.stringify writes
        lambda e: json.dumps(e),  # spaces after ":" and ","
        lambda e: json.dumps(e, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/"),  # escapes
        lambda e: json.dumps(e, separators=(",", ":")).replace("&", "\\u0026"),  # "&" hidden
    ],
    ids=["compact", "spaced", "escaped-slashes", "escaped-ampersands"],
)
def test_every_spelling_of_an_event_is_stripped_the_same(dumps) -> None:  # type: ignore[no-untyped-def]
    raw = [dumps(e).encode() for e in EVENTS]
    stored = scrub_events(raw)
    assert json.loads(stored) == EXPECTED
    for secret in ("S1", "S2", "S3", "S4", "S5", "S6"):
        assert f"={secret}".encode() not in stored
    # a site's own list is the one used, on either path
    own = frozenset({"api_key"})
    assert json.loads(scrub_events(raw[:1], own))[0]["data"]["href"] == (
        "https://s.example/cb?q=1#access_token=S2&x=2")
    assert json.loads(_scrub_decoded(raw[0], own))["data"]["href"] == "https://s.example/cb?q=1#access_token=S2&x=2"


def test_events_without_urls_are_stored_byte_for_byte() -> None:
    raw = [b'{"type":3,"timestamp":3,"data":{"source":1,"positions":[]}}',
           b'{"type":2,"timestamp":4,"data":{"node":{"type":3,"textContent":"a #hash = b"}}}',
           b'{"type": 3, "timestamp": 5, "data": {"href": "/p?q=1"}}']
    assert scrub_events(raw) == b"[" + b",".join(raw) + b"]"


def test_an_event_too_deep_to_decode_is_stripped_as_text() -> None:
    deep = b'{"type":2,"timestamp":1,"data":{"href":"/p?token=S7&q=1","n":' + b"[" * 3000 + b"]" * 3000 + b"}}"
    stored = scrub_events([deep])
    assert b"S7" not in stored and b'"/p?q=1"' in stored
