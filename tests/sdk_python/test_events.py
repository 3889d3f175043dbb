"""Each method builds the wire event it should, and programmer errors raise at the call."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import trailmark

from .stub import Stub

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
WHEN = datetime(2026, 11, 23, 6, 30, 0, 123000, tzinfo=UTC)
WHEN_MS = 1795415400123
ITEM = {"sku": "sku-1", "name": "Mug", "price": 12.5, "qty": 2, "currency": "EUR", "category": "k"}


def sent(stub: tuple[Stub, str], make_client: Any, call: str, *args: Any, **kw: Any) -> dict:
    """The one event a call puts on the wire, minus its random id."""
    server, url = stub
    client = make_client(url)
    event_id = getattr(client, call)(*args, **kw)
    assert client.flush() is True
    [event] = server.events
    assert event.pop("id") == event_id
    return event


@pytest.mark.parametrize(
    ("call", "args", "kwargs", "expected"),
    [
        ("track", ("u1", "signup", {"plan": "pro"}), {"url": "https://shop.example/x"},
         {"type": "track", "user_id": "u1", "name": "signup", "props": {"plan": "pro"},
          "url": "https://shop.example/x"}),
        ("track", (None, "view"), {"anon_id": "a1", "session_id": "s1"},
         {"type": "track", "anon_id": "a1", "session_id": "s1", "name": "view", "props": {}}),
        ("identify", (42, {"plan": "pro"}), {"anon_id": "a1"},
         {"type": "identify", "user_id": "42", "anon_id": "a1", "traits": {"plan": "pro"}}),
        ("page", ("u1", "https://shop.example/p/1"), {"title": "P", "route": "/p/:id",
                                                      "referrer": "https://r.example/"},
         {"type": "pageview", "user_id": "u1", "url": "https://shop.example/p/1", "title": "P",
          "route": "/p/:id", "referrer": "https://r.example/"}),
        ("cart_add", ("u1", ITEM), {},
         {"type": "cart", "user_id": "u1", "action": "add", "item": ITEM}),
        ("cart_remove", ("u1", {"sku": "s"}), {"session_id": "s1"},
         {"type": "cart", "user_id": "u1", "session_id": "s1", "action": "remove",
          "item": {"sku": "s"}}),
        ("checkout", ("u1", [ITEM], 25.0, "EUR"), {},
         {"type": "checkout", "user_id": "u1", "items": [ITEM], "value": 25.0, "currency": "EUR"}),
        ("purchase", ("u1",), {"order_id": "o-1", "value": 59.0, "currency": "EUR"},
         {"type": "purchase", "user_id": "u1", "order_id": "o-1", "value": 59.0,
          "currency": "EUR", "items": []}),
        ("survey", ("u1", "nps", 9), {"comment": "great", "survey_id": "q4"},
         {"type": "survey", "user_id": "u1", "kind": "nps", "score": 9, "comment": "great",
          "survey_id": "q4"}),
        ("survey", ("u1", "csat", 7), {"scale": 7},
         {"type": "survey", "user_id": "u1", "kind": "csat", "score": 7, "scale": 7}),
        ("survey", ("u1", "csat", 4), {},
         {"type": "survey", "user_id": "u1", "kind": "csat", "score": 4, "scale": 5}),
        ("survey", ("u1", "ces", 1), {},
         {"type": "survey", "user_id": "u1", "kind": "ces", "score": 1}),
    ],
)
def test_event_on_the_wire(stub, make_client, call, args, kwargs, expected) -> None:
    event = sent(stub, make_client, call, *args, timestamp=WHEN, **kwargs)
    assert event == {"ts": WHEN_MS, **expected}


def test_ids_are_fresh_uuid4_and_ts_is_now(stub, make_client) -> None:
    server, url = stub
    client = make_client(url)
    before = int(datetime.now(UTC).timestamp() * 1000)
    ids = [client.track("u1", "e") for _ in range(1000)]
    after = int(datetime.now(UTC).timestamp() * 1000)
    assert client.flush() is True
    assert len(set(ids)) == 1000
    assert all(UUID4.match(i) and uuid.UUID(i).version == 4 for i in ids)
    assert [e["id"] for e in server.events] == ids
    assert all(before <= e["ts"] <= after for e in server.events)


def test_envelope_and_headers(stub, make_client) -> None:
    server, url = stub
    client = make_client(url, key="wk_abc")
    client.track("u1", "e")
    client.flush()
    [request] = server.requests
    assert request.path == "/v1/batch"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"trailmark-python/{trailmark.__version__}"
    assert sorted(request.body) == ["events", "key", "sent_at"]
    assert request.body["key"] == "wk_abc"
    assert request.body["sent_at"] >= request.body["events"][0]["ts"]


def test_host_with_a_path_prefix_and_no_gzip(stub, make_client) -> None:
    server, url = stub
    client = make_client(url + "/collect/", gzip=False)
    client.track("u1", "e")
    client.flush()
    assert server.requests[0].path == "/collect/v1/batch"
    assert "content-encoding" not in server.requests[0].headers


def test_props_are_copied_at_the_call(stub, make_client) -> None:
    server, url = stub
    client = make_client(url)
    props = {"step": 1}
    client.track("u1", "e", props)
    props["step"] = 2
    client.flush()
    assert server.events[0]["props"] == {"step": 1}


def test_common_python_values_are_encoded(stub, make_client) -> None:
    from decimal import Decimal

    server, url = stub
    client = make_client(url)
    some = uuid.UUID("12345678-1234-5678-1234-567812345678")
    client.track("u1", "e", {"at": WHEN, "price": Decimal("1.5"), "ref": some, "tags": ("a",)})
    client.flush()
    assert server.events[0]["props"] == {
        "at": "2026-11-23T06:30:00.123000+00:00", "price": 1.5, "ref": str(some), "tags": ["a"]
    }


def test_unencodable_and_oversized_events_go_to_on_error(stub, make_client, errors) -> None:
    server, url = stub
    client = make_client(url)
    bad = client.track("u1", "e", {"obj": object()})
    big = client.track("u1", "e", {"blob": "x" * 40_000})
    good = client.track("u1", "e")
    client.flush()
    assert [e["id"] for e in server.events] == [good]
    assert [(type(exc), [e["id"] for e in evs]) for exc, evs in errors] == [
        (trailmark.EncodeError, [bad]), (trailmark.EncodeError, [big])
    ]
    assert (client.delivered, client.failed) == (1, 2)


BAD_CALLS = [
    ("track", (None, "e"), {}, ValueError, "user_id or an anon_id"),
    ("track", ("u", ""), {}, ValueError, "name must not be empty"),
    ("track", ("u", 3), {}, TypeError, "name must be a str"),
    ("track", ("u", "e", ["x"]), {}, TypeError, "props must be a dict"),
    ("track", ("u", "e", {1: "x"}), {}, TypeError, "props keys must be str"),
    ("track", ("u", "e", {str(i): i for i in range(101)}), {}, ValueError, "more than 100"),
    ("track", (1.5, "e"), {}, TypeError, "user_id must be a str"),
    ("track", ("x" * 65, "e"), {}, ValueError, "user_id must have 1 to 64"),
    ("track", ("u", "e"), {"anon_id": ""}, ValueError, "anon_id must have 1 to 64"),
    ("track", ("u", "e"), {"session_id": True}, TypeError, "session_id must be a str"),
    ("track", ("u", "e"), {"timestamp": 1700000000}, TypeError, "timestamp must be a datetime"),
    ("track", ("u", "x" * 257), {}, ValueError, "longer than 256"),
    ("identify", (None,), {}, ValueError, "identify needs a user_id"),
    ("page", ("u", ""), {}, ValueError, "url must not be empty"),
    ("page", ("u", "https://x/" + "a" * 2048), {}, ValueError, "longer than 2048"),
    ("cart_add", ("u", {"name": "no sku"}), {}, ValueError, "item needs a sku"),
    ("cart_add", ("u", {"sku": "s", "colour": "red"}), {}, ValueError, "unknown fields"),
    ("cart_add", ("u", {"sku": "s", "qty": 1.5}), {}, TypeError, "item.qty must be an int"),
    ("cart_add", ("u", {"sku": "s", "qty": -1}), {}, ValueError, "item.qty must be between"),
    ("cart_add", ("u", {"sku": "s", "price": "9"}), {}, TypeError, "item.price must be a number"),
    ("cart_add", ("u", {"sku": "s", "currency": "EURO"}), {}, ValueError, "three-letter"),
    ("cart_add", ("u", "sku-1"), {}, TypeError, "item must be a dict"),
    ("cart_remove", ("u", {"sku": "s"}), {"colour": 1}, TypeError, "unexpected keyword argument"),
    ("checkout", ("u", {"sku": "s"}), {}, TypeError, "items must be a list"),
    ("checkout", ("u", [{"sku": "s"}, {}]), {}, ValueError, "items[1] needs a sku"),
    ("checkout", ("u", []), {"value": float("nan")}, ValueError, "finite"),
    ("purchase", ("u", "o1", True), {}, TypeError, "value must be a number"),
    ("purchase", ("u", "o1", 2e12), {}, ValueError, "finite number within"),
    ("purchase", ("u", "", 1.0), {}, ValueError, "order_id must have 1 to 64"),
    ("survey", ("u", "nps", 11), {}, ValueError, "nps score must be between 0 and 10"),
    ("survey", ("u", "nps", -1), {}, ValueError, "nps score must be between 0 and 10"),
    ("survey", ("u", "nps", 9.5), {}, TypeError, "score must be an int"),
    ("survey", ("u", "nps", True), {}, TypeError, "score must be an int"),
    ("survey", ("u", "csat", 0), {}, ValueError, "csat score must be between 1 and 5"),
    ("survey", ("u", "csat", 6), {}, ValueError, "csat score must be between 1 and 5"),
    ("survey", ("u", "csat", 8), {"scale": 7}, ValueError, "between 1 and 7"),
    ("survey", ("u", "csat", 3), {"scale": 10}, ValueError, "scale must be 5 or 7"),
    ("survey", ("u", "ces", 6), {}, ValueError, "ces score must be between 1 and 5"),
    ("survey", ("u", "ces", 0), {}, ValueError, "ces score must be between 1 and 5"),
    ("survey", ("u", "nps", 5), {"scale": 5}, ValueError, "scale applies to csat only"),
    ("survey", ("u", "stars", 5), {}, ValueError, "kind must be 'nps', 'csat' or 'ces'"),
]


@pytest.mark.parametrize(("call", "args", "kwargs", "error", "message"), BAD_CALLS)
def test_programmer_errors_raise_at_the_call(call, args, kwargs, error, message) -> None:
    client = trailmark.Client("wk_test", disabled=True)
    with pytest.raises(error, match=re.escape(message)):
        getattr(client, call)(*args, **kwargs)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"write_key": ""}, "write_key must be a non-empty str"),
        ({"host": "127.0.0.1:8000"}, "host must be an http:// or https:// URL"),
        ({"batch_size": 501}, "batch_size must be between 1 and 500"),
        ({"max_queue_size": 0}, "max_queue_size must be positive"),
        ({"max_retries": -1}, "must be >= 0"),
    ],
)
def test_bad_options_raise_at_construction(options, message) -> None:
    arguments = {"write_key": "wk_test", "host": "http://127.0.0.1:8000", **options}
    with pytest.raises(ValueError, match=re.escape(message)):
        trailmark.Client(arguments.pop("write_key"), arguments.pop("host"), **arguments)


def test_disabled_sends_nothing_and_starts_no_thread(stub) -> None:
    server, url = stub
    client = trailmark.Client("wk_test", url, disabled=True)
    assert UUID4.match(client.track("u1", "e"))
    assert client.flush() is True
    assert client.shutdown() is True
    assert server.requests == []
    assert client.queued == 0 and client._consumer is None


def test_naive_timestamps_are_utc(stub, make_client) -> None:
    event = sent(stub, make_client, "track", "u1", "e", timestamp=WHEN.replace(tzinfo=None))
    assert event["ts"] == WHEN_MS
