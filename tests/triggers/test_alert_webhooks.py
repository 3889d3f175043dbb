"""Alerts that post to a webhook: made through /api/reports on a real uvicorn, fired by the daily
check, delivered through the triggers outbox to a real receiver on 127.0.0.1; on every engine."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.schedules import send_due
from collector.triggers import signing
from collector.triggers.service import Policy
from tests.support import ROOT
from tests.support.collector import every_store, open_engine
from tests.support.receiver import Receiver, wait_for
from tests.support.triggers import FAST, Hooked, ev, reopened, serve

pytestmark = every_store

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def _yesterday(now: float) -> int:
    """The start of the UTC day before `now`, in ms: the day an alert reads."""
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    return int(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC).timestamp() * 1000) - DAY_MS


def _visits(hooked: Hooked, now: float, yesterday: int, before: int, tag: str = "a") -> None:
    """`yesterday` new visitors yesterday and `before` the day before, one pageview each, from 10:00."""
    day = _yesterday(now)
    events = []
    for start, count in ((day, yesterday), (day - DAY_MS, before)):
        for n in range(count):
            ts = start + 10 * HOUR_MS + n * 60_000
            visitor = f"{tag}{start}-{n}"
            events.append(ev("pageview", f"s-{visitor}", visitor, "/", ago_ms=int(now * 1000) - ts))
    hooked.send(*events)


def _shape(value: Any) -> Any:
    """The keys of a JSON value, nested: what a documented example must share with the real thing."""
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else None


def _alert(hooked: Hooked, **body: Any) -> httpx.Response:
    return httpx.post(f"{hooked.url}/api/reports", params={"site": "test"}, headers=hooked.admin,
                      json={"kind": "alert", "metric": "visitors", **body})


def _made(hooked: Hooked, **body: Any) -> dict[str, Any]:
    answer = _alert(hooked, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_an_alert_that_fires_posts_the_signed_payload_once(hooked: Hooked) -> None:
    now = time.time()
    _visits(hooked, now, yesterday=3, before=1)  # 3 against a usual (7-day mean) of 1/7
    with Receiver() as receiver:
        made = _made(hooked, above=2, change=0.5, webhook=receiver.url)
        rule_id = made["webhook"]["id"]
        assert made["secret"].startswith("whsec_") and made["recipients"] == []
        assert made["webhook"] == {"id": rule_id, "url": receiver.url, "enabled": True, "disabled_reason": None}
        assert made["settings"] == {"metric": "visitors", "above": 2.0, "below": None, "change": 0.5,
                                    "webhook": rule_id}
        # The webhook is a trigger rule of kind alert: listed, logged, never fired by events.
        rule = hooked.get(rule_id)
        assert (rule["kind"], rule["name"], rule["url"]) == ("alert", "Alert: visitors above 2 or moves 50% from usual",
                                                             receiver.url)
        assert "secret" not in rule
        _visits(hooked, now, yesterday=1, before=0, tag="b")  # events after the rule exists: 4 yesterday
        assert hooked.log(rule_id) == []

        assert send_due(hooked.store, None, now) == 1
        wait_for(lambda: receiver.answered(), "the alert's delivery")
        wait_for(lambda: hooked.log(rule_id)[0]["status"] == "delivered", "the delivery logged")
        # A second check the same day, by this collector or another, queues nothing.
        assert send_due(hooked.store, None, now + 60) == 0
        (logged,) = hooked.log(rule_id)
        (got,) = receiver.received
        assert (logged["id"], logged["attempts"], logged["response_code"], logged["person"]) == (
            got.delivery, 1, 200, "")
        assert signing.verify(made["secret"], got.headers["trailmark-signature"], got.body)
        assert not signing.verify("whsec_other", got.headers["trailmark-signature"], got.body)
        assert got.headers["user-agent"] == "Trailmark-Webhooks/1"
        day = _yesterday(now)
        iso = dt.datetime.fromtimestamp(day / 1000, dt.UTC).date().isoformat()
        assert got.json == {
            "id": got.delivery,
            "type": "alert.fired",
            "fired_at": int(now * 1000),
            "rule": {"id": rule_id, "name": "Alert: visitors above 2 or moves 50% from usual", "kind": "alert"},
            "site": "test",
            "alert": {"id": made["id"], "metric": "visitors", "value": 4.0, "above": 2.0, "below": None,
                      "change": 0.5, "usual": 1 / 7, "reasons": ["above 2", "+2700% against its usual 0.1429"],
                      "url": "https://tm.example/reports?site=test"},
            "period": {"start": day, "end": day + DAY_MS, "day": iso,
                       "url": f"https://tm.example/overview?site=test&from={iso}&to={iso}"},
            "summary": "visitors on Test site was 4 yesterday: above 2 and +2700% against its usual 0.1429.",
        }
        (documented,) = [json.loads(block) for block in re.findall(
            r"```json\n(.*?)```", (ROOT / "docs" / "triggers.md").read_text(), re.DOTALL) if "alert.fired" in block]
        assert _shape(documented) == _shape(got.json)
        listed = httpx.get(f"{hooked.url}/api/reports", params={"site": "test"}, headers=hooked.admin).json()
        (schedule,) = listed["schedules"]
        assert schedule["webhook"] == made["webhook"] and schedule["last_sent"] == int(now)


def test_a_500_is_retried_with_the_same_delivery_id_and_body(hooked: Hooked) -> None:
    now = time.time()
    _visits(hooked, now, yesterday=2, before=0)
    with Receiver(script=[(500, {}), (503, {"Retry-After": "0"})]) as receiver:
        made = _made(hooked, above=1, webhook=receiver.url)
        assert send_due(hooked.store, None, now) == 1
        wait_for(lambda: receiver.answered(200), "the third attempt")
        first, second, third = receiver.received
        assert [r.status for r in receiver.received] == [500, 503, 200]
        assert first.delivery == second.delivery == third.delivery
        assert first.body == second.body == third.body
        assert all(signing.verify(made["secret"], r.headers["trailmark-signature"], r.body) for r in receiver.received)
        rule_id = made["webhook"]["id"]
        wait_for(lambda: hooked.log(rule_id)[0]["status"] == "delivered", "the delivery logged")
        (logged,) = hooked.log(rule_id)
        assert (logged["id"], logged["attempts"], logged["response_code"]) == (first.delivery, 3, 200)
        assert hooked.get(rule_id)["consecutive_failures"] == 0


def test_an_alert_that_does_not_fire_sends_nothing(hooked: Hooked) -> None:
    now = time.time()
    _visits(hooked, now, yesterday=3, before=3)
    with Receiver() as receiver:
        # 3 is not below 2; against its usual of 3/7 it moved by +600%, not by 700%.
        quiet = _made(hooked, below=2, change=7, webhook=receiver.url)
        loud = _made(hooked, above=2, webhook=receiver.url)
        assert send_due(hooked.store, None, now) == 1
        # Queueing is done when send_due returns: the quiet alert's outbox is empty for good.
        assert hooked.log(quiet["webhook"]["id"]) == []
        wait_for(lambda: receiver.answered(), "the loud alert's delivery")
        (got,) = receiver.received
        assert got.json["alert"]["id"] == loud["id"]
        assert signing.verify(loud["secret"], got.headers["trailmark-signature"], got.body)
        assert not signing.verify(quiet["secret"], got.headers["trailmark-signature"], got.body)


def test_a_private_address_is_refused_unless_allowed(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest,
) -> None:
    now = time.time()
    first = open_engine(engine, tmp_path, request)
    with Receiver() as receiver:
        with serve(tmp_path, FAST, first) as hooked:  # this collector allows private addresses
            _visits(hooked, now, yesterday=2, before=0)
            made = _made(hooked, above=1, webhook=receiver.url)
        with serve(tmp_path, Policy(backoff_base_s=0.05), reopened(first)) as strict:
            answer = _alert(strict, above=1, webhook=receiver.url)
            assert answer.status_code == 400
            assert answer.json()["error"] == (
                "url refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address; the collector calls public"
                " addresses only unless the operator sets TRAILMARK_WEBHOOK_ALLOW_PRIVATE=1")
            listed = httpx.get(f"{strict.url}/api/reports", params={"site": "test"}, headers=strict.admin).json()
            assert [s["id"] for s in listed["schedules"]] == [made["id"]]  # the refused alert was not made
            # The alert is due: this collector's own check at start queued it. The address saved
            # while it was allowed is checked again before the attempt, and refused.
            rule_id = made["webhook"]["id"]
            wait_for(lambda: strict.log(rule_id)[0]["status"] == "failed", "the refused attempt logged")
            (logged,) = strict.log(rule_id)
            assert logged["attempts"] == 1 and logged["response_code"] is None
            assert logged["error"].startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address")
        assert receiver.received == []


def test_the_webhook_lives_and_goes_with_its_alert(hooked: Hooked) -> None:
    now = time.time()
    _visits(hooked, now, yesterday=2, before=0)
    with Receiver() as receiver:
        made = _made(hooked, above=1, webhook=receiver.url, recipients=["Ops@Example.com"])
        rule_id = made["webhook"]["id"]
        # Made only with an alert; deleted only with it.
        direct = httpx.post(f"{hooked.url}/api/triggers", headers=hooked.admin,
                            json={"site": "test", "name": "x", "url": receiver.url, "kind": "alert"})
        assert direct.status_code == 400
        assert direct.json()["error"] == "an alert's webhook is made with its alert: POST /api/reports with `webhook`"
        refused = httpx.delete(f"{hooked.url}/api/triggers/{rule_id}", params={"site": "test"}, headers=hooked.admin)
        assert refused.status_code == 409
        assert refused.json()["error"] == (
            f"trigger {rule_id} is the webhook of alert {made['id']}: delete the alert"
            f" (DELETE /api/reports/{made['id']}) and its webhook goes with it")
        # A disabled webhook sends nothing; this collector has no SMTP server for the e-mail.
        httpx.patch(f"{hooked.url}/api/triggers/{rule_id}", params={"site": "test"}, headers=hooked.admin,
                    json={"enabled": False})
        send_now = f"{hooked.url}/api/reports/{made['id']}/send"
        answer = httpx.post(send_now, params={"site": "test"}, headers=hooked.admin)
        assert answer.status_code == 409 and answer.json()["error"].startswith("no SMTP server is set")
        assert send_due(hooked.store, None, now) == 0  # e-mails wait for SMTP; the webhook is off
        assert hooked.log(rule_id) == []
        # Webhook only: Send now queues the day's delivery once.
        webhook_only = _made(hooked, above=1, webhook=receiver.url)
        send_now = f"{hooked.url}/api/reports/{webhook_only['id']}/send"
        first = httpx.post(send_now, params={"site": "test"}, headers=hooked.admin).json()
        assert first == {"sent": True, "webhook_queued": True,
                         "subject": "Trailmark alert · Test site: visitors above 1"}
        again = httpx.post(send_now, params={"site": "test"}, headers=hooked.admin).json()
        assert again["webhook_queued"] is False
        wait_for(lambda: receiver.answered(), "the sent-now delivery")
        assert [r.json["alert"]["id"] for r in receiver.received] == [webhook_only["id"]]
        deleted = httpx.delete(f"{hooked.url}/api/reports/{webhook_only['id']}", params={"site": "test"},
                               headers=hooked.admin)
        assert deleted.json() == {"deleted": webhook_only["id"]}
        gone = httpx.get(f"{hooked.url}/api/triggers/{webhook_only['webhook']['id']}/deliveries",
                         params={"site": "test"}, headers=hooked.admin)
        assert gone.status_code == 404
        assert [r["id"] for r in httpx.get(f"{hooked.url}/api/triggers", params={"site": "test"},
                                           headers=hooked.admin).json()["triggers"]] == [rule_id]


def test_alert_settings_with_a_webhook_are_checked(hooked: Hooked) -> None:
    def error(**body: Any) -> tuple[int, str]:
        answer = _alert(hooked, **body)
        return answer.status_code, answer.json().get("error", "")

    assert error(above=1) == (400, "an alert needs recipients (1 to 20 e-mail addresses), a webhook URL or both")
    assert error(above=1, webhook="ftp://hooks.example/x") == (
        400, "url refused: the URL must start with http:// or https://")
    assert error(kind="report", recipients=["a@b.c"], webhook="https://hooks.example/x") == (
        400, "a webhook is for alerts; reports go by e-mail")
    listed = httpx.get(f"{hooked.url}/api/reports", params={"site": "test"}, headers=hooked.admin).json()
    assert listed["schedules"] == []
    assert httpx.get(f"{hooked.url}/api/triggers", params={"site": "test"}, headers=hooked.admin).json() == {
        "triggers": []}
