"""GET /api/sessions/{id}/replay in pages of chunks: exact boundaries, the whole answer unchanged."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx
import pytest

from collector.api.replay import MAX_PAGE_CHUNKS, PAGE_JSON_BYTES
from tests.support.collector import every_store

pytestmark = every_store

T0 = int(time.time() * 1000)


def upload(server: Any, session: str, seq: int, events: list[dict[str, Any]]) -> None:
    chunk = {"key": "wk_test", "session_id": session, "anon_id": "a1", "seq": seq, "events": events}
    answer = httpx.post(f"{server.url}/v1/replay", json=chunk, timeout=30)
    assert answer.status_code == 200, answer.text


def small(seq: int) -> list[dict[str, Any]]:
    return [{"type": 3, "data": {"source": 1, "seq": seq, "i": i}, "timestamp": T0 + seq * 100 + i} for i in range(3)]


def get(server: Any, session: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.url}/api/sessions/{session}/replay", params=params, headers=server.admin, timeout=30)


def marks(events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(e["data"]["seq"], e["data"]["i"]) for e in events]


def test_pages_split_the_recording_at_exact_chunk_boundaries(collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    seqs = list(range(45))
    random.Random(7).shuffle(seqs)  # arrival order is not recording order
    for seq in seqs:
        upload(server, "s-paged", seq, small(seq))
    whole = get(server, "s-paged").json()
    assert list(whole) == ["events"]  # existing callers get the answer they always got
    assert marks(whole["events"]) == [(seq, i) for seq in range(45) for i in range(3)]

    recording = {"chunks": 45, "first_ts": T0, "last_ts": T0 + 44 * 100 + 2}
    pages, start = [], 0
    while start is not None:
        page = get(server, "s-paged", from_seq=start).json()
        pages.append(page)
        start = page["next_seq"]
    assert [(p["from_seq"], p["to_seq"], p["next_seq"], p["recording"]) for p in pages] == [
        (0, 19, 20, recording), (20, 39, 40, recording), (40, 44, None, recording),
    ]
    assert [marks(p["events"]) for p in pages] == [
        [(seq, i) for seq in range(a, b) for i in range(3)] for a, b in ((0, 20), (20, 40), (40, 45))
    ]
    assert [e for p in pages for e in p["events"]] == whole["events"]

    page = get(server, "s-paged", from_seq=43, chunks=5).json()
    assert (marks(page["events"]), page["to_seq"], page["next_seq"]) == ([(43, 0), (43, 1), (43, 2),
                                                                         (44, 0), (44, 1), (44, 2)], 44, None)
    past = get(server, "s-paged", from_seq=45).json()
    assert (past["events"], past["to_seq"], past["next_seq"]) == ([], None, None)


def test_a_page_starts_at_the_next_chunk_held_across_gaps(collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    for seq in (0, 1, 5, 9):
        upload(server, "s-gaps", seq, small(seq))
    page = get(server, "s-gaps", from_seq=2, chunks=1).json()
    assert (marks(page["events"]), page["from_seq"], page["to_seq"], page["next_seq"]) == (
        [(5, 0), (5, 1), (5, 2)], 2, 5, 9)


def test_a_page_ends_after_the_chunk_that_passes_the_byte_bound(collector_server: Any) -> None:  # noqa: F811
    server = collector_server
    filler = "x" * (1900 * 1000)
    for seq in range(6):  # about 1.9 MB of JSON each, a few KB stored
        upload(server, "s-big", seq, [{"type": 5, "data": {"seq": seq, "i": 0, "fill": filler}, "timestamp": T0 + seq}])
    first = get(server, "s-big", from_seq=0, chunks=MAX_PAGE_CHUNKS)
    page = first.json()
    # 4 chunks are 7.6 MB, under the bound; the fifth takes the page past it and ends it
    assert 4 * 1.9e6 < PAGE_JSON_BYTES <= 5 * 1.9e6
    assert ([e["data"]["seq"] for e in page["events"]], page["to_seq"], page["next_seq"]) == ([0, 1, 2, 3, 4], 4, 5)
    rest = get(server, "s-big", from_seq=5, chunks=MAX_PAGE_CHUNKS).json()
    assert ([e["data"]["seq"] for e in rest["events"]], rest["next_seq"]) == ([5], None)


@pytest.mark.parametrize(("params", "error"), [
    ({"from_seq": "-1"}, "from_seq must be an integer from 0 to 1000000"),
    ({"from_seq": "two"}, "from_seq must be an integer from 0 to 1000000"),
    ({"from_seq": "1000001"}, "from_seq must be an integer from 0 to 1000000"),
    ({"chunks": "0"}, f"chunks must be an integer from 1 to {MAX_PAGE_CHUNKS}"),
    ({"chunks": str(MAX_PAGE_CHUNKS + 1)}, f"chunks must be an integer from 1 to {MAX_PAGE_CHUNKS}"),
])
def test_bad_page_parameters_get_400(collector_server: Any, params: dict[str, str], error: str) -> None:  # noqa: F811
    upload(collector_server, "s-bad", 0, small(0))
    answer = get(collector_server, "s-bad", **params)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_pages_need_the_admin_and_a_recording(collector_server: Any) -> None:  # noqa: F811
    assert httpx.get(f"{collector_server.url}/api/sessions/s1/replay?from_seq=0").status_code == 401
    missing = get(collector_server, "nope", from_seq=0)
    assert (missing.status_code, missing.json()) == (404, {"error": "no replay for this session"})
    assert json.loads(get(collector_server, "nope").text) == {"error": "no replay for this session"}
