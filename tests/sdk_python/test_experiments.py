"""tm.variant and tm.exposure: the variant the shared hash gives, one exposure per visitor and session."""

from __future__ import annotations

from typing import Any

import pytest
from trailmark import assign

from .stub import Stub


def test_variant_returns_the_hash_variant_and_records_one_exposure(stub: tuple[Stub, str], make_client: Any) -> None:
    server, url = stub
    client = make_client(url)
    first = client.variant("user_42", "checkout-cta", ["control", "green"])
    again = client.variant("user_42", "checkout-cta", ["control", "green"])
    other = client.variant("user_43", "checkout-cta", ["control", "green"], weights=[0, 1])
    assert client.flush() is True
    assert first == again == assign.assign("checkout-cta", "user_42", ["control", "green"])
    assert other == "green"
    events = [{k: e[k] for k in ("type", "user_id", "experiment", "variant")} for e in server.events]
    assert events == [
        {"type": "exposure", "user_id": "user_42", "experiment": "checkout-cta", "variant": first},
        {"type": "exposure", "user_id": "user_43", "experiment": "checkout-cta", "variant": "green"},
    ]


def test_anonymous_visitors_are_assigned_by_anon_id(stub: tuple[Stub, str], make_client: Any) -> None:
    server, url = stub
    client = make_client(url)
    chosen = client.variant(None, "hero", ["a", "b", "c"], anon_id="anon-9", session_id="s-1")
    assert client.flush() is True
    assert chosen == assign.assign("hero", "anon-9", ["a", "b", "c"])
    [event] = server.events
    assert (event["anon_id"], event["session_id"], event["variant"]) == ("anon-9", "s-1", chosen)


def test_a_pin_shows_the_variant_and_records_nothing(stub: tuple[Stub, str], make_client: Any) -> None:
    server, url = stub
    client = make_client(url)
    assert client.variant("u1", "cta", ["control", "green"], weights=[1, 0], pin="green") == "green"
    # a pin that is no variant is ignored: the assignment stands and is recorded
    assert client.variant("u1", "cta", ["control", "green"], weights=[1, 0], pin="purple") == "control"
    assert client.flush() is True
    assert [e["variant"] for e in server.events] == ["control"]


def test_exposure_records_a_variant_assigned_elsewhere(stub: tuple[Stub, str], make_client: Any) -> None:
    server, url = stub
    client = make_client(url)
    client.exposure("u1", "cta", "green")
    assert client.flush() is True
    [event] = server.events
    assert {k: event[k] for k in ("type", "experiment", "variant")} == {
        "type": "exposure", "experiment": "cta", "variant": "green",
    }


@pytest.mark.parametrize(
    ("call", "args", "error"),
    [
        ("variant", ("u1", "", ["a"]), ValueError),
        ("variant", ("u1", "k" * 65, ["a"]), ValueError),
        ("variant", ("u1", "k", ["a", "a"]), ValueError),
        ("variant", (None, "k", ["a"]), ValueError),
        ("exposure", ("u1", "k", ""), ValueError),
        ("exposure", ("u1", "k", "v" * 65), ValueError),
        ("exposure", ("u1", "k", 3), TypeError),
    ],
)
def test_bad_calls_raise_at_the_call(
    stub: tuple[Stub, str], make_client: Any, call: str, args: tuple, error: type
) -> None:
    server, url = stub
    client = make_client(url)
    with pytest.raises(error):
        getattr(client, call)(*args)
    assert client.flush() is True
    assert server.events == []
