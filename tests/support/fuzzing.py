"""Hypothesis strategies for hostile and well-formed ingest traffic (tests and bench/fuzz.py)."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import strategies as st

# Times near "now": events older than 7 days are refused by design, so valid ones stay recent.
NOW_MS = int(time.time() * 1000)

ids = st.uuids().map(str)
short = st.text(max_size=40)
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from([
        "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "javascript:alert(1)",
        "' OR 1=1 --", "'; DROP TABLE events; --", "\x00", "\ud7ff\ue000", "../../etc/passwd",
        "%00%2e%2e/", "{{7*7}}", "\u202e", "a" * 256,
    ]),
)
urls = st.one_of(
    st.builds(lambda p: "https://shop.example/" + p, st.text(max_size=40)),
    hostile_text,
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
props = st.dictionaries(st.text(max_size=12), json_values, max_size=6)
items = st.fixed_dictionaries(
    {"sku": short},
    optional={
        "name": hostile_text, "price": st.floats(-1e6, 1e6), "qty": st.integers(0, 1000),
        "currency": st.sampled_from(["EUR", "usd", "GBP"]), "category": short,
    },
)


def _common() -> dict[str, Any]:
    return {
        "id": ids, "ts": st.integers(NOW_MS - 3 * 86_400_000, NOW_MS),
        "anon_id": ids,
    }


_OPTIONAL_COMMON: dict[str, Any] = {
    "session_id": ids, "user_id": ids, "url": urls, "referrer": urls, "title": hostile_text,
    "vw": st.integers(0, 4000), "vh": st.integers(0, 4000),
}


def _event(kind: str, required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    return st.fixed_dictionaries(
        {"type": st.just(kind), **_common(), **required},
        optional={k: v for k, v in {**_OPTIONAL_COMMON, **(optional or {})}.items() if k not in required},
    )


def _survey() -> Any:
    nps = _event("survey", {"kind": st.just("nps"), "score": st.integers(0, 10)},
                 {"comment": hostile_text, "survey_id": short})
    csat = _event("survey", {"kind": st.just("csat"), "score": st.integers(1, 5)},
                  {"comment": hostile_text, "scale": st.sampled_from([5, 7])})
    ces = _event("survey", {"kind": st.just("ces"), "score": st.integers(1, 5)},
                 {"comment": hostile_text})
    return st.one_of(nps, csat, ces)


# Every event type of the wire protocol, well-formed (the collector must accept each one).
valid_events = st.one_of(
    _event("pageview", {}, {"route": short}),
    _event("click", {}, {
        "x": st.integers(0, 5000), "y": st.integers(0, 5000), "sel": hostile_text, "tag": short,
        "text": st.text(max_size=100), "href": urls, "rx": st.floats(0, 1), "ry": st.floats(0, 1),
        "rage": st.booleans(), "dead": st.booleans(),
    }),
    _event("scroll", {"depth": st.floats(0, 100)}, {"dh": st.integers(0, 100_000)}),
    _event("page_leave", {}, {"engaged_ms": st.integers(0, 86_400_000), "depth": st.floats(0, 100)}),
    _event("cart", {"action": st.sampled_from(["add", "remove"]), "item": items}),
    _event("checkout", {}, {"items": st.lists(items, max_size=3), "value": st.floats(0, 1e6),
                            "currency": st.just("EUR")}),
    _event("purchase", {"order_id": ids, "value": st.floats(0, 1e6)},
           {"currency": st.just("EUR"), "items": st.lists(items, max_size=3)}),
    _event("identify", {"user_id": ids}, {"traits": props}),
    _event("track", {"name": hostile_text}, {"props": props}),
    _survey(),
    _event("error", {"message": hostile_text}, {"source": urls, "line": st.integers(0, 10**6),
                                               "stack": hostile_text}),
    _event("vital", {"name": st.sampled_from(["LCP", "CLS", "INP", "FCP", "TTFB"]),
                     "value": st.floats(0, 60_000)}),
    _event("exposure", {"experiment": ids, "variant": ids}),
)

# Ways to break one field of a good event: wrong type, out of range, unknown field, bad tag.
_BREAKERS: list[tuple[str, Any]] = [
    ("ts", st.sampled_from([-1, "now", None, 1.5e30, 2**70])),
    ("id", st.sampled_from(["", 7, None, "x" * 65])),
    ("type", st.sampled_from(["", "PAGEVIEW", "nope", 3, None])),
    ("vw", st.sampled_from([-10**9, "wide", 1.5])),
    ("url", st.sampled_from([3, ["a"], "u" * 2049])),
    ("__unknown__", json_values),
]


@st.composite
def invalid_events(draw: st.DrawFn) -> Any:
    """Something in the events array that must be refused alone, with a fresh id when it has one."""
    choice = draw(st.integers(0, 2))
    if choice == 0:  # not an object, or an object that is nothing like an event
        value = draw(json_values)
        return [value] if isinstance(value, dict) else value
    event = dict(draw(valid_events))
    if choice == 1:
        field, bad = draw(st.sampled_from(_BREAKERS))
        event[field] = draw(bad)
        if field == "__unknown__":
            event.pop("__unknown__")
            event["unknown_field"] = draw(bad)
        return event
    # survey scores outside their kind's range (the range depends on another field)
    return {"type": "survey", "id": draw(ids), "ts": NOW_MS, "kind": "ces", "score": draw(st.integers(6, 10))}


@st.composite
def mixed_batches(draw: st.DrawFn) -> tuple[list[Any], list[bool]]:
    """A batch of good and bad events in random order, and which ones are good."""
    good = draw(st.lists(valid_events, max_size=8))
    bad = draw(st.lists(invalid_events(), max_size=5))
    tagged = [(e, True) for e in good] + [(e, False) for e in bad]
    order = draw(st.permutations(range(len(tagged)))) if tagged else []
    events = [tagged[i][0] for i in order]
    return events, [tagged[i][1] for i in order]


# Header combinations the ingest endpoints must survive.
content_types = st.sampled_from([
    "application/json", "text/plain", "text/plain;charset=UTF-8", "application/xml", "",
    "multipart/form-data; boundary=x", "APPLICATION/JSON",
])
content_encodings = st.sampled_from(["", "gzip", "br", "identity", "GZIP", "deflate"])
raw_bodies = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
)
