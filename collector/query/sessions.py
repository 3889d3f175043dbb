"""Sessions, engine-neutral: the list's sort orders and cursors, and a session's events in causal order."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from collector.errors import ClientError

# The session column each `sort` of /api/sessions (query/params.py SESSION_SORTS) orders by.
SORTS = {"time": "first_ts", "duration": "duration_ms", "pages": "pageviews", "revenue": "revenue"}


def encode_cursor(value: float, session_id: str) -> str:
    return base64.urlsafe_b64encode(f"{value!r}:{session_id}".encode()).decode()


def decode_cursor(cursor: str, sort: str = "time") -> tuple[float, str]:
    try:
        text, _, session_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return (float(text) if sort == "revenue" else int(text)), session_id
    except (ValueError, UnicodeDecodeError):
        raise ClientError(400, "bad cursor: pass back `next` with the sort and order it came from") from None


# Two batches of one browser get clock offsets (received_at - sent_at) that differ by their
# network delays; offsets closer than this are taken as one clock.
SAME_CLOCK_MS = 2_000
# On one client millisecond a cause comes first: the click (held by the SDK until it knows
# whether the click was dead, so sent after) before the cart add its handler made.
CAUSE_RANK = {"pageview": 0, "click": 1, "page_leave": 3}


def causal_order(events: Sequence[Any]) -> list[Any]:
    """Events (rows with ts, client_ts, type and rowid, the arrival order) in the order they happened:
    by time on one offset per client clock, causes first.

    The stored `ts` is each batch's client time moved by that batch's own offset, so a cart add
    sent at once and its click sent a second later can swap by a few milliseconds. Events whose
    offsets agree within SAME_CLOCK_MS share the offset of the first of them, which keeps one
    client's own order (its `client_ts`) while events of another clock (a backend) stay where
    their corrected time puts them.
    """
    clocks: list[int] = []
    keyed = []
    for event in events:
        offset = event["ts"] - event["client_ts"]
        base = next((c for c in clocks if abs(c - offset) <= SAME_CLOCK_MS), None)
        if base is None:
            clocks.append(offset)
            base = offset
        keyed.append(((event["client_ts"] + base, CAUSE_RANK.get(event["type"], 2), event["rowid"]), event))
    return [event for _, event in sorted(keyed, key=lambda pair: pair[0])]
