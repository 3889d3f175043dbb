"""Journey triggers end to end: rules through the API, events through /v1/batch on a real uvicorn,
signed POSTs to a real receiver on 127.0.0.1 (private addresses allowed for it); on every engine."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from collector.app import create_app
from collector.store import SQLiteStore, Store, TriggerStore
from collector.triggers import signing
from collector.triggers.service import Policy
from tests.support.collector import (
    KEY,
    ThreadedServer,
    every_store,
    free_port,
    make_settings,
    make_store,
    open_engine,
    read_rows,
)
from tests.support.receiver import Receiver, wait_for
from tests.support.triggers import CHROME, FAST, GOOGLEBOT, Hooked, cart_add, ev, nps, purchase, reopened, serve, stored

pytestmark = every_store


def test_event_rule_posts_a_signed_payload_once(hooked: Hooked) -> None:
    with Receiver() as receiver:
        rule = hooked.rule(name="Detractor", url=receiver.url, kind="event",
                           event={"type": "survey", "name": "nps", "score_max": 6})
        assert rule["secret"].startswith("whsec_")
        assert "secret" not in hooked.get(rule["id"])  # shown once, at creation
        detractor = nps("s1", "a1", 3)
        hooked.send(nps("sb", "b1", 0), ua=GOOGLEBOT)  # bots fire nothing, as analysts see none
        hooked.send(detractor, nps("s2", "a2", 9), ev("pageview", "s1", "a1", "/"))
        wait_for(lambda: receiver.answered(), "the detractor's delivery")
        wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "delivered", "the delivery logged")
        time.sleep(0.3)  # room for a wrong second POST to arrive
        (got,) = receiver.received
        assert signing.verify(rule["secret"], got.headers["trailmark-signature"], got.body)
        assert not signing.verify("whsec_other", got.headers["trailmark-signature"], got.body)
        assert not signing.verify(rule["secret"], got.headers["trailmark-signature"], got.body + b" ")
        body = got.json
        assert body["id"] == got.delivery
        assert body["type"] == "trigger.fired"
        assert body["rule"] == {"id": rule["id"], "name": "Detractor", "kind": "event"}
        assert body["site"] == "test"
        assert body["person"] == {"id": "a1", "url": "https://tm.example/people/a1?site=test"}
        assert body["session"] == {"id": "s1", "url": "https://tm.example/sessions/s1?site=test",
                                   "replay_url": "https://tm.example/sessions/s1/replay?site=test"}
        (event,) = body["events"]
        assert (event["id"], event["type"], event["name"], event["data"]) == (
            detractor["id"], "survey", "nps", {"kind": "nps", "score": 3})
        (logged,) = hooked.log(rule["id"])
        assert (logged["id"], logged["status"], logged["attempts"], logged["response_code"], logged["error"]) == (
            got.delivery, "delivered", 1, 200, None)
        assert logged["lag_ms"] >= 0 and logged["latency_ms"] >= 0


def test_property_and_page_conditions(hooked: Hooked) -> None:
    with Receiver() as receiver:
        rule = hooked.rule(name="Pro signup on pricing", url=receiver.url, kind="event",
                           event={"type": "track", "name": "signup", "page": "/pricing*",
                                  "properties": {"plan": "pro", "seats": 5}})
        good = ev("track", "s1", "a1", "/pricing/annual", name="signup", props={"plan": "pro", "seats": 5})
        hooked.send(
            good,
            ev("track", "s2", "a2", "/pricing", name="signup", props={"plan": "free", "seats": 5}),
            ev("track", "s3", "a3", "/about", name="signup", props={"plan": "pro", "seats": 5}),
            ev("track", "s4", "a4", "/pricing", name="login", props={"plan": "pro", "seats": 5}),
            ev("track", "s5", "a5", "/pricing", name="signup", props={"plan": "pro", "seats": 6}),
        )
        wait_for(lambda: len(hooked.log(rule["id"])) and hooked.log(rule["id"])[0]["status"] == "delivered",
                 "the delivery")
        time.sleep(0.3)
        assert [r.json["events"][0]["id"] for r in receiver.received] == [good["id"]]


# Long enough for the cancelling purchase to be stored before the check is due, on a busy machine
# and the slower engine (the start event is dated a second back).
DELAY_S = 4


def test_absence_rule_fires_only_without_the_cancelling_event(hooked: Hooked) -> None:
    with Receiver() as receiver:
        rule = hooked.rule(name="Abandoned cart", url=receiver.url, kind="absence",
                           event={"type": "cart", "name": "add"}, absent={"type": "purchase"}, delay_s=DELAY_S)
        abandoned = cart_add("s1", "a1")
        hooked.send(abandoned, cart_add("s2", "a2"))
        assert len(stored(hooked.store, "trigger_checks", "id")) == 2
        hooked.send(purchase("s2", "a2", "o-2"))  # a2 buys within the delay: no webhook for a2
        wait_for(lambda: receiver.answered(), "the abandoned cart's delivery")
        wait_for(lambda: not stored(hooked.store, "trigger_checks", "id"), "both checks settled")
        time.sleep(0.3)
        (got,) = receiver.received
        assert got.json["person"]["id"] == "a1"
        assert got.json["events"][0]["id"] == abandoned["id"]
        assert got.json["fired_at"] == abandoned["ts"] + DELAY_S * 1000  # it became true when the delay ran out
        (logged,) = hooked.log(rule["id"])
        assert logged["status"] == "delivered" and logged["lag_ms"] >= 0


def test_absence_rule_follows_the_visitor_across_sessions(hooked: Hooked) -> None:
    """The purchase comes in another session of the same person (identified in between)."""
    with Receiver() as receiver:
        rule = hooked.rule(name="Abandoned cart", url=receiver.url, kind="absence",
                           event={"type": "cart", "name": "add"}, absent={"type": "purchase"}, delay_s=DELAY_S)
        hooked.send(cart_add("s1", "a1"), ev("identify", "s1", "a1", user_id="u1", traits={}))
        hooked.send(ev("pageview", "s9", "a9", "/", user_id="u1"), purchase("s9", "a9", "o-9") | {"user_id": "u1"})
        hooked.send(cart_add("s3", "a3"))
        wait_for(lambda: not stored(hooked.store, "trigger_checks", "id"), "both checks settled")
        wait_for(lambda: receiver.answered(), "a3's delivery")
        time.sleep(0.3)
        assert [r.json["person"]["id"] for r in receiver.received] == ["a3"]
        assert len(hooked.log(rule["id"])) == 1


def test_segment_rule_fires_once_per_session_entering_it(hooked: Hooked) -> None:
    with Receiver() as receiver:
        segment = httpx.post(f"{hooked.url}/api/segments", headers=hooked.admin, json={
            "site": "test", "name": "buyers", "filters": {"converted": True}}).json()
        rule = hooked.rule(name="New buyer", url=receiver.url, kind="segment", segment=segment["id"])
        hooked.send(ev("pageview", "s1", "a1", "/"), ev("pageview", "s2", "a2", "/"))
        time.sleep(0.3)
        assert receiver.received == []  # nobody is in the segment yet
        order = purchase("s1", "a1", "o-1")
        hooked.send(order)
        wait_for(lambda: receiver.answered(), "the entry's delivery")
        hooked.send(ev("pageview", "s1", "a1", "/thanks"))  # still inside: no second entry
        time.sleep(0.3)
        (got,) = receiver.received
        assert (got.json["session"]["id"], got.json["rule"]["kind"]) == ("s1", "segment")
        assert [e["id"] for e in got.json["events"]] == [order["id"]]
        assert len(hooked.log(rule["id"])) == 1


def test_cooldown_and_hourly_limit(hooked: Hooked) -> None:
    with Receiver() as receiver:
        cooled = hooked.rule(name="Rage", url=receiver.url, kind="event", event={"type": "track", "name": "rage"},
                             cooldown_s=3600)
        limited = hooked.rule(name="Any error", url=receiver.url, kind="event", event={"type": "error"},
                              max_per_hour=2)
        hooked.send(*(ev("track", "s1", "a1", name="rage") for _ in range(3)), ev("track", "s2", "a2", name="rage"))
        hooked.send(*(ev("error", f"e{i}", f"e{i}", message="boom") for i in range(5)))
        wait_for(lambda: len(receiver.answered()) == 4, "four deliveries")
        time.sleep(0.3)
        assert sorted(r.json["person"]["id"] for r in receiver.received if r.json["rule"]["id"] == cooled["id"]) == [
            "a1", "a2"]
        assert len([r for r in receiver.received if r.json["rule"]["id"] == limited["id"]]) == 2


def test_sample_keeps_a_share_decided_by_the_delivery_id(hooked: Hooked) -> None:
    with Receiver() as receiver:
        rule = hooked.rule(name="Sampled", url=receiver.url, kind="event", event={"type": "pageview"}, sample=0.5)
        hooked.send(*(ev("pageview", f"s{i}", f"a{i}", "/") for i in range(200)))
        # The batch's deliveries were all queued in its transaction: wait until each is delivered.
        wait_for(lambda: all(d["status"] == "delivered" for d in hooked.log(rule["id"])), "every delivery")
        logged = hooked.log(rule["id"])
        assert sorted(r.delivery for r in receiver.received) == sorted(d["id"] for d in logged)
        assert 60 <= len(logged) <= 140  # binomial(200, 0.5): outside this once in ~10^8


def test_retries_a_500_with_the_same_delivery_id(hooked: Hooked) -> None:
    with Receiver(script=[(500, {}), (503, {})]) as receiver:
        rule = hooked.rule(name="Signup", url=receiver.url, kind="event", event={"type": "track", "name": "signup"})
        hooked.send(ev("track", "s1", "a1", name="signup"))
        wait_for(lambda: receiver.answered(200), "the third attempt")
        wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "delivered", "the delivery logged")
        assert [r.status for r in receiver.received] == [500, 503, 200]
        assert len({r.delivery for r in receiver.received}) == 1
        assert all(signing.verify(rule["secret"], r.headers["trailmark-signature"], r.body) for r in receiver.received)
        (logged,) = hooked.log(rule["id"])
        assert (logged["attempts"], logged["response_code"]) == (3, 200)
        assert hooked.get(rule["id"])["consecutive_failures"] == 0


def test_429_waits_for_retry_after(hooked: Hooked) -> None:
    with Receiver(script=[(429, {"Retry-After": "1"})]) as receiver:
        rule = hooked.rule(name="Signup", url=receiver.url, kind="event", event={"type": "track", "name": "signup"})
        hooked.send(ev("track", "s1", "a1", name="signup"))
        wait_for(lambda: receiver.answered(200), "the retry")
        first, second = receiver.received
        assert (first.status, second.status, first.delivery) == (429, 200, second.delivery)
        assert second.at - first.at >= 1.0  # not before the receiver asked (a lower bound only)
        assert hooked.log(rule["id"])[0]["attempts"] == 2


def test_a_4xx_is_final(hooked: Hooked) -> None:
    with Receiver(default=410) as receiver:
        rule = hooked.rule(name="Signup", url=receiver.url, kind="event", event={"type": "track", "name": "signup"})
        hooked.send(ev("track", "s1", "a1", name="signup"))
        wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "failed", "the delivery given up")
        (logged,) = hooked.log(rule["id"])
        assert (logged["attempts"], logged["response_code"], logged["next_at"]) == (1, 410, None)
        assert len(receiver.received) == 1


def test_receiver_down_then_up(hooked: Hooked) -> None:
    port = free_port()
    rule = hooked.rule(name="Signup", url=f"http://127.0.0.1:{port}/hook", kind="event",
                       event={"type": "track", "name": "signup"})
    sent = ev("track", "s1", "a1", name="signup")
    hooked.send(sent)
    wait_for(lambda: (hooked.log(rule["id"]) or [{}])[0].get("attempts", 0) >= 2, "failed attempts")
    (down,) = hooked.log(rule["id"])
    assert down["status"] == "pending" and down["response_code"] is None and "ConnectionRefused" in down["error"]
    with Receiver(port=port) as receiver:
        wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "delivered", "delivery once it is up")
        (got,) = receiver.received
        assert got.json["events"][0]["id"] == sent["id"]
        assert got.delivery == down["id"]


def test_rule_disabled_after_consecutive_failures(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    policy = Policy(allow_private=True, backoff_base_s=0.02, backoff_cap_s=0.1, max_attempts=100, disable_after=3)
    with serve(tmp_path, policy, open_engine(engine, tmp_path, request)) as hooked:
        with Receiver(default=500) as receiver:
            rule = hooked.rule(name="Signup", url=receiver.url, kind="event",
                               event={"type": "track", "name": "signup"})
            hooked.send(ev("track", "s1", "a1", name="signup"))
            wait_for(lambda: not hooked.get(rule["id"])["enabled"], "the rule disabled")
            shown = hooked.get(rule["id"])
            assert shown["disabled_reason"] == "disabled after 3 consecutive failed attempts; last: HTTP 500"
            time.sleep(0.5)
            assert len(receiver.received) == 3
            (held,) = hooked.log(rule["id"])
            assert (held["status"], held["attempts"], held["next_at"]) == ("held", 3, None)
            receiver.default = 200
            enabled = httpx.patch(f"{hooked.url}/api/triggers/{rule['id']}?site=test", headers=hooked.admin,
                                  json={"enabled": True}).json()
            assert (enabled["enabled"], enabled["disabled_reason"], enabled["consecutive_failures"]) == (True, None, 0)
            wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "delivered", "the held delivery sent")
            assert len({r.delivery for r in receiver.received}) == 1


@pytest.mark.sqlite_only  # the address check comes before the store
@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:9/hook", "127.0.0.1 resolves to 127.0.0.1, a loopback address"),
    ("http://localhost:9/hook", "localhost resolves to"),
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 resolves to 169.254.169.254, a link-local address"),
    ("http://10.1.2.3/hook", "10.1.2.3 resolves to 10.1.2.3, a private address"),
    ("http://[::1]/hook", "::1 resolves to ::1, a loopback address"),
    ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
    ("ftp://example.com/hook", "the URL must start with http:// or https://"),
    ("https://user:pw@example.com/hook", "the URL must not hold a user or password"),
])
def test_internal_urls_are_refused_unless_allowed(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest, url: str, message: str
) -> None:
    with serve(tmp_path, Policy(), open_engine(engine, tmp_path, request)) as hooked:
        answer = httpx.post(f"{hooked.url}/api/triggers", headers=hooked.admin, json={
            "site": "test", "name": "x", "url": url, "kind": "event", "event": {"type": "pageview"}})
        assert answer.status_code == 400
        assert answer.json()["error"].startswith("url refused: ")
        assert message in answer.json()["error"]
        assert stored(hooked.store, "trigger_rules", "id") == []


def test_delivery_rechecks_the_address(tmp_path: Path, engine: str, request: pytest.FixtureRequest) -> None:
    """A rule stored while private addresses were allowed is refused at send time once they are not."""
    first = open_engine(engine, tmp_path, request)
    with Receiver() as receiver:
        with serve(tmp_path, FAST, first) as hooked:
            rule = hooked.rule(name="x", url=receiver.url, kind="event", event={"type": "track", "name": "go"})
        with serve(tmp_path, Policy(), reopened(first)) as hooked:
            hooked.send(ev("track", "s1", "a1", name="go"))
            wait_for(lambda: hooked.log(rule["id"])[0]["status"] == "failed", "the refusal")
            (logged,) = hooked.log(rule["id"])
            assert logged["error"].startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address")
            assert (logged["attempts"], logged["response_code"]) == (1, None)
        assert receiver.received == []


@pytest.mark.parametrize(("body", "message"), [
    ({"kind": "event"}, "a event rule needs `event`"),
    ({"kind": "absence", "event": {"type": "cart"}}, "an absence rule needs `absent` and `delay_s`"),
    ({"kind": "event", "event": {"type": "cart"}, "delay_s": 5}, "`absent` and `delay_s` belong to absence rules"),
    ({"kind": "segment"}, "a segment rule needs `segment`"),
    ({"kind": "segment", "segment": 99}, "no segment 99 for this site (see /api/segments)"),
    ({"kind": "event", "event": {"type": "nope"}}, "unknown event type 'nope'"),
    ({"kind": "event", "event": {"type": "track", "score_min": 1}}, "score_min and score_max apply to survey events"),
    ({"kind": "event", "event": {"type": "survey", "score_min": 9, "score_max": 6}},
     "score_min must not exceed score_max"),
    ({"kind": "event", "event": {"type": "survey"}, "sample": 0}, "Expected `float` > 0.0 - at `$.sample`"),
    ({"kind": "event", "event": {"type": "survey"}, "delay": 1}, "Object contains unknown field `delay`"),
])
def test_bad_rules_get_a_400(hooked: Hooked, body: dict[str, Any], message: str) -> None:
    answer = httpx.post(f"{hooked.url}/api/triggers", headers=hooked.admin,
                        json={"site": "test", "name": "x", "url": "http://127.0.0.1:9/", **body})
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_rule_lifecycle_through_the_api(hooked: Hooked) -> None:
    rule = hooked.rule(name="Detractor", url="http://127.0.0.1:9/a", kind="event",
                       event={"type": "survey", "score_max": 6}, cooldown_s=60)
    listed = httpx.get(f"{hooked.url}/api/triggers?site=test", headers=hooked.admin).json()["triggers"]
    assert [(r["id"], r["name"], r["kind"], r["event"], r["cooldown_s"], r["enabled"]) for r in listed] == [
        (rule["id"], "Detractor", "event", {"type": "survey", "score_max": 6.0}, 60, True)]
    changed = httpx.patch(f"{hooked.url}/api/triggers/{rule['id']}?site=test", headers=hooked.admin,
                          json={"name": "NPS detractor", "enabled": False, "max_per_hour": 10}).json()
    assert (changed["name"], changed["enabled"], changed["max_per_hour"]) == ("NPS detractor", False, 10)
    for method, path, status, error in [
        ("PATCH", f"/api/triggers/{rule['id']}", 400, "nothing to change"),
        ("PATCH", "/api/triggers/999", 404, "no trigger 999 for this site"),
        ("GET", "/api/triggers/abc", 400, "a trigger id is a number"),
        ("GET", "/api/triggers/999/deliveries", 404, "no trigger 999 for this site"),
    ]:
        body = {} if "nothing" in error else {"name": "y"}
        answer = httpx.request(method, f"{hooked.url}{path}?site=test", headers=hooked.admin, json=body)
        assert (answer.status_code, answer.json()["error"][:len(error)]) == (status, error)
    gone = httpx.delete(f"{hooked.url}/api/triggers/{rule['id']}?site=test", headers=hooked.admin)
    assert gone.json() == {"deleted": rule["id"]}
    assert httpx.get(f"{hooked.url}/api/triggers?site=test", headers=hooked.admin).json() == {"triggers": []}
    assert httpx.get(f"{hooked.url}/api/triggers?site=test").status_code == 401


def test_erasing_a_person_erases_their_deliveries_and_checks(hooked: Hooked) -> None:
    with Receiver() as receiver:
        hooked.rule(name="Signup", url=receiver.url, kind="event", event={"type": "track", "name": "signup"},
                    cooldown_s=60)
        hooked.rule(name="Abandoned cart", url=receiver.url, kind="absence", event={"type": "cart", "name": "add"},
                    absent={"type": "purchase"}, delay_s=3600)
        hooked.send(ev("track", "s1", "a1", name="signup"), cart_add("s1", "a1"),
                    ev("track", "s2", "a2", name="signup"), cart_add("s2", "a2"))
        wait_for(lambda: len(receiver.answered()) == 2, "both deliveries")
        erased = httpx.delete(f"{hooked.url}/api/persons/a1?site=test", headers=hooked.admin).json()["deleted"]
        assert (erased["trigger_deliveries"], erased["trigger_checks"], erased["trigger_fired"]) == (1, 1, 1)
        tables = ("trigger_deliveries", "trigger_checks", "trigger_fired")
        left = [stored(hooked.store, t, "visitor_id") for t in tables]
        assert left == [["a2"]] * 3


def test_a_broken_rule_costs_no_event(hooked: Hooked) -> None:
    """A rule the evaluator cannot read (here a damaged stored spec) is logged; the events are stored."""
    broken = {"site_id": "test", "name": "broken", "spec": '{"kind": "nope"}', "url": "http://127.0.0.1:9/",
              "secret": "s", "created_at": 0}
    if isinstance(hooked.store, SQLiteStore):
        conn = sqlite3.connect(hooked.store.path)
        with conn:
            conn.execute(f"INSERT INTO trigger_rules ({', '.join(broken)}) VALUES ({', '.join('?' * len(broken))})",
                         tuple(broken.values()))
        conn.close()
        order = "rowid"
    else:
        db = hooked.store.db  # type: ignore[attr-defined]
        row = broken | {"id": 1, "cooldown_s": 0, "sample": 1.0, "enabled": 1, "failures": 0, "version": 1,
                        "deleted": 0}
        db.conn.insert(db.t("trigger_rules"), tuple(row), [tuple(row.values())])
        order = "seq"
    sent = [ev("pageview", "s1", "a1", "/"), ev("track", "s1", "a1", name="signup")]
    hooked.send(*sent)
    if isinstance(hooked.store, SQLiteStore):
        ids = [r["id"] for r in read_rows(Path(hooked.store.path), f"SELECT id FROM events ORDER BY {order}")]
    else:
        ids = [r[0] for r in db.rows(f"SELECT id FROM {db.t('events')} ORDER BY {order}")]
    assert ids == [e["id"] for e in sent]
    assert stored(hooked.store, "trigger_deliveries", "id") == []


# What an engine offers for triggers beyond the rest of the store.
TRIGGER_METHODS = {name for name in vars(TriggerStore) if not name.startswith("_")} - set(vars(Store))


class _StoreWithoutTriggers:
    """A store engine that does not keep triggers yet: everything else is the SQLite store's."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name in TRIGGER_METHODS:
            raise AttributeError(name)
        return getattr(self._store, name)


@pytest.mark.sqlite_only  # an engine stood in for by the SQLite store without its trigger methods
def test_an_engine_without_triggers_still_serves(tmp_path: Path, engine: str) -> None:
    db_path = tmp_path / "trailmark.db"
    port = free_port()
    settings = make_settings(db_path, webhooks=FAST)
    store = _StoreWithoutTriggers(make_store(db_path))
    with ThreadedServer(create_app(settings, store), port):  # type: ignore[arg-type]
        url = f"http://127.0.0.1:{port}"
        admin = {"Authorization": f"Bearer {settings.admin_token}"}
        answer = httpx.get(f"{url}/api/triggers?site=test", headers=admin)
        assert (answer.status_code, answer.json()) == (
            501, {"error": "journey triggers are not available on the sqlite store yet"})
        sent = httpx.post(f"{url}/v1/batch", json={"key": KEY, "events": [ev("pageview", "s1", "a1", "/")]},
                          headers={"User-Agent": CHROME})
        assert sent.json() == {"accepted": 1, "rejected": []}
