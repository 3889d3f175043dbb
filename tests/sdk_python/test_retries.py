"""What is retried (network, 5xx, 429) and what is reported at once (other 4xx, rejections)."""

from __future__ import annotations

import pytest
import trailmark

from .stub import Reply


def test_503_with_retry_after_is_retried_after_that_wait(stub, make_client, errors) -> None:
    server, url = stub
    server.script = [Reply(503, headers={"Retry-After": "1"})]
    client = make_client(url)
    ids = [client.track("u1", "e") for _ in range(3)]
    assert client.flush() is True
    first, second = server.requests
    assert first.body["events"] == second.body["events"]
    assert [e["id"] for e in second.body["events"]] == ids
    # Honouring the header is the point: the retry must not come earlier than asked.
    assert second.at - first.at >= 0.95
    assert second.body["sent_at"] > first.body["sent_at"]
    assert (errors, client.delivered, client.stats.retries) == ([], 3, 1)


def test_429_is_retried(stub, make_client, errors) -> None:
    server, url = stub
    server.script = [Reply(429, headers={"Retry-After": "0"}), Reply(429)]
    client = make_client(url, backoff_base=0.01)
    client.track("u1", "e")
    assert client.flush() is True
    assert (len(server.requests), client.delivered, errors) == (3, 1, [])


def test_5xx_is_retried_up_to_max_retries_then_reported(stub, make_client, errors) -> None:
    server, url = stub
    server.script = [Reply(500), Reply(502), Reply(503)]
    client = make_client(url, max_retries=2, backoff_base=0.01)
    event_id = client.track("u1", "e")
    assert client.flush() is True
    assert len(server.requests) == 3
    [(exc, events)] = errors
    assert isinstance(exc, trailmark.APIError)
    assert (exc.status, exc.message) == (503, "scripted 503")
    assert [e["id"] for e in events] == [event_id]
    assert (client.delivered, client.failed, client.stats.retries) == (0, 1, 2)


@pytest.mark.parametrize("status", [400, 401, 403, 413, 415])
def test_other_4xx_are_reported_and_not_retried(stub, make_client, errors, status) -> None:
    server, url = stub
    server.script = [Reply(status, body={"error": "why"})]
    client = make_client(url, backoff_base=0.01)
    ids = [client.track("u1", "e") for _ in range(2)]
    assert client.flush() is True
    assert len(server.requests) == 1
    [(exc, events)] = errors
    assert (type(exc), exc.status, exc.message) == (trailmark.APIError, status, "why")
    assert [e["id"] for e in events] == ids
    assert client.stats.retries == 0


def test_network_errors_are_retried_then_reported(make_client, errors) -> None:
    from tests.support.collector import free_port

    client = make_client(f"http://127.0.0.1:{free_port()}", max_retries=3, backoff_base=0.01)
    event_id = client.track("u1", "e")
    assert client.flush() is True
    [(exc, events)] = errors
    assert isinstance(exc, ConnectionRefusedError)
    assert [e["id"] for e in events] == [event_id]
    assert (client.stats.retries, client.failed) == (3, 1)


def test_rejected_events_are_reported_and_the_rest_counted(stub, make_client, errors) -> None:
    server, url = stub
    server.script = [Reply(body={"accepted": 2, "rejected": [{"index": 1, "error": "$.x: bad"}]})]
    client = make_client(url)
    ids = [client.track("u1", "e") for _ in range(3)]
    assert client.flush() is True
    assert len(server.requests) == 1
    [(exc, events)] = errors
    assert isinstance(exc, trailmark.RejectedError) and exc.reasons == ["$.x: bad"]
    assert [e["id"] for e in events] == [ids[1]]
    assert (client.delivered, client.failed) == (2, 1)


def test_on_error_that_raises_does_not_stop_delivery(stub, make_client) -> None:
    server, url = stub
    server.script = [Reply(400)]

    def explode(exc: Exception, events: list) -> None:
        raise RuntimeError("bug in the host app's handler")

    client = make_client(url, on_error=explode, batch_size=1)
    client.track("u1", "first")
    client.flush()
    client.track("u1", "second")
    assert client.flush() is True
    assert [e["name"] for e in server.events] == ["first", "second"]
    assert client.delivered == 1


def test_retry_after_as_http_date() -> None:
    from email.utils import formatdate

    from trailmark.request import MAX_RETRY_AFTER, retry_after

    assert retry_after("2") == 2.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("100000") == MAX_RETRY_AFTER
    assert retry_after(formatdate(0, usegmt=True)) == 0.0
    import time

    assert 25 <= retry_after(formatdate(time.time() + 30, usegmt=True)) <= 30


def test_flush_inside_on_error_does_not_deadlock(stub, make_client) -> None:
    server, url = stub
    server.script = [Reply(400)]
    seen: list[bool] = []
    holder: list[trailmark.Client] = []

    def flush_again(exc: Exception, events: list) -> None:
        seen.append(holder[0].flush())

    client = make_client(url, on_error=flush_again)
    holder.append(client)
    client.track("u1", "e")
    assert client.flush() is True
    assert seen == [False]
