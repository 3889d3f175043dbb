"""The parts of triggers that need no server: conditions, page patterns (the same answers as the
funnels' SQL), signatures, the address guard, backoff, and the CLI on a real store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from collector.cli import main
from collector.store.sqlite.reads.patterns import url_match
from collector.triggers import netguard, signing
from collector.triggers.rules import Condition, Event, matches, page_matches
from collector.triggers.service import Policy
from tests.support.collector import Client, make_store

PAGES = [  # (url, path, route) as ingest stores them: a route for every page (numbers as :id)
    ("https://shop.example/product/42?ref=x", "/product/42", "/product/:id"),
    ("https://shop.example/product/42/reviews", "/product/42/reviews", "/product/:id/reviews"),
    ("https://shop.example/checkout", "/checkout", "/checkout"),
    ("https://shop.example/checkout/step*2", "/checkout/step*2", "/checkout/step*2"),
    ("https://shop.example/", "/", "/"),
    ("https://other.example/checkout", "/checkout", "/checkout"),
]
PATTERNS = [
    "/checkout", "/checkout*", "/product/*", "/product/:id", "/product/:id/reviews", "/:section",
    "https://shop.example/checkout", "https://shop.example/*", "*checkout*", "/checkout/step*2", "/",
]


# The pages each pattern matches (indexes into PAGES), worked out by hand from docs/triggers.md.
MATCHED = {
    "/checkout": [2, 5], "/checkout*": [2, 3, 5], "/product/*": [0, 1], "/product/:id": [0],
    "/product/:id/reviews": [1], "/:section": [2, 4, 5], "https://shop.example/checkout": [2],
    "https://shop.example/*": [0, 1, 2, 3, 4], "*checkout*": [2, 3, 5], "/checkout/step*2": [3], "/": [4],
}


@pytest.mark.parametrize("pattern", PATTERNS)
def test_page_patterns_match_as_the_funnels_sql_does(client: Client, pattern: str) -> None:
    """The same pages by the rule's Python and by the funnels' SQL over the events table as the
    migrations made it and ingest stored them."""
    events = [
        {"id": f"e{i}", "type": "pageview", "ts": int(time.time() * 1000) - 1000 + i, "session_id": "s1",
         "anon_id": "a1", "url": url, }
        for i, (url, _path, _route) in enumerate(PAGES)
    ]
    answer = client.http.post("/v1/batch", json={"key": client.key, "events": events})
    assert answer.json() == {"accepted": len(PAGES), "rejected": []}
    assert [tuple(r.values()) for r in client.rows("SELECT url, path, route FROM events ORDER BY id")] == PAGES
    sql, args = url_match(pattern, "e")
    by_sql = client.rows(f"SELECT e.id FROM events e WHERE e.type = 'pageview' AND {sql} ORDER BY e.id", *args)
    assert [row["id"] for row in by_sql] == [f"e{i}" for i in MATCHED[pattern]]
    assert [i for i, page in enumerate(PAGES) if page_matches(pattern, *page)] == MATCHED[pattern]


def event(type_: str = "track", name: str | None = "signup", **data: object) -> Event:
    return Event("e1", "site", type_, 1, "s1", "v1", "a1", None, "https://shop.example/pricing", "/pricing",
                 None, name, dict(data))


@pytest.mark.parametrize(("condition", "expected"), [
    (Condition(type="track"), True),
    (Condition(type="pageview"), False),
    (Condition(type="track", name="signup"), True),
    (Condition(type="track", name="login"), False),
    (Condition(type="track", properties={"plan": "pro"}), True),  # a track event's props come first
    (Condition(type="track", properties={"plan": "free"}), False),
    (Condition(type="track", properties={"seats": 5}), True),
    (Condition(type="track", properties={"seats": "5"}), True),
    (Condition(type="track", properties={"seats": 6}), False),
    (Condition(type="track", properties={"trial": True}), True),
    (Condition(type="track", properties={"trial": 1}), False),  # a bool equals only a bool
    (Condition(type="track", properties={"props.plan": "pro"}), True),
    (Condition(type="track", properties={"missing": ""}), False),
    (Condition(type="track", page="/pricing"), True),
    (Condition(type="track", page="/pri*"), True),
    (Condition(type="track", page="/checkout"), False),
])
def test_conditions(condition: Condition, expected: bool) -> None:
    assert matches(condition, event(props={"plan": "pro", "seats": 5, "trial": True})) is expected


@pytest.mark.parametrize(("low", "high", "score", "expected"), [
    (None, 6, 6, True), (None, 6, 7, False), (9, None, 9, True), (9, None, 8, False), (0, 10, 0, True),
    (7, 8, 7.5, True), (None, 6, None, False),
])
def test_survey_score_ranges(low: float | None, high: float | None, score: float | None, expected: bool) -> None:
    condition = Condition(type="survey", name="nps", score_min=low, score_max=high)
    data = {"kind": "nps"} if score is None else {"kind": "nps", "score": score}
    assert matches(condition, event("survey", "nps", **data)) is expected


def test_signature_is_the_stripe_scheme() -> None:
    body = b'{"id":"d1"}'
    header = signing.signature("whsec_test", 1700000000, body)
    assert header == "t=1700000000,v1=" + __import__("hmac").new(
        b"whsec_test", b"1700000000." + body, "sha256").hexdigest()
    assert signing.verify("whsec_test", header, body, now=1700000100)
    assert not signing.verify("whsec_test", header, body, now=1700000000 + signing.TOLERANCE_S + 1)  # replayed
    assert not signing.verify("whsec_test", header, body + b"x", now=1700000000)
    assert not signing.verify("whsec_test", "v1=abc", body, now=1700000000)


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.8", "private"), ("192.168.1.1", "private"),
    ("172.16.0.1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::ffff:10.0.0.1", "private"), ("100.64.0.1", "not globally routable"),
    ("fd00::1", "private"), ("224.0.0.1", "multicast"), ("93.184.216.34", None), ("2606:4700::1", None),
])
def test_private_addresses(address: str, reason: str | None) -> None:
    assert netguard.private_reason(address) == reason


def test_allowed_private_address_is_the_one_connected_to() -> None:
    target = netguard.resolve("http://127.0.0.1:8123/hook?x=1", allow_private=True)
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "http", "127.0.0.1", 8123, "/hook?x=1", "127.0.0.1")


def test_backoff_is_full_jitter_under_the_cap() -> None:
    policy = Policy(backoff_base_s=1.0, backoff_cap_s=30.0)
    for attempts, bound in [(1, 1.0), (3, 4.0), (5, 16.0), (12, 30.0)]:
        draws = [policy.backoff_s(attempts) for _ in range(300)]
        assert all(0 <= d <= bound for d in draws)
        assert max(draws) > bound / 2 and min(draws) < bound / 2  # spread over the whole range


def test_cli_add_list_disable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "t.db"
    make_store(db).close()
    runner = CliRunner()
    refused = runner.invoke(main, ["triggers", "add", "test", "Cart", "--url", "http://127.0.0.1:9/h", "--on", "cart",
                                   "--db", str(db)])
    assert refused.exit_code == 2 and "a loopback address" in refused.output
    monkeypatch.setenv("TRAILMARK_WEBHOOK_ALLOW_PRIVATE", "1")
    added = runner.invoke(main, [
        "triggers", "add", "test", "Abandoned cart", "--url", "http://127.0.0.1:9/h", "--on", "cart",
        "--name", "add", "--prop", "item.sku=A", "--absent", "purchase", "--delay", "30m", "--cooldown", "1d",
        "--db", str(db)])
    assert added.exit_code == 0, added.output
    line, secret_line = added.output.strip().splitlines()
    rule = json.loads(line)
    assert (rule["kind"], rule["event"], rule["absent"], rule["delay_s"], rule["cooldown_s"]) == (
        "absence", {"type": "cart", "name": "add", "properties": {"item.sku": "A"}}, {"type": "purchase"},
        1800, 86400)
    assert secret_line.startswith("signing secret (shown this once): whsec_")
    bad = runner.invoke(main, ["triggers", "add", "test", "x", "--url", "http://127.0.0.1:9/h", "--on", "cart",
                               "--delay", "soon", "--absent", "purchase", "--db", str(db)])
    assert bad.exit_code == 2 and "'soon' is not a duration" in bad.output
    disabled = runner.invoke(main, ["triggers", "disable", "test", str(rule["id"]), "--db", str(db)])
    assert json.loads(disabled.output)["enabled"] is False
    listed = runner.invoke(main, ["triggers", "list", "test", "--db", str(db)])
    assert [json.loads(x)["name"] for x in listed.output.splitlines()] == ["Abandoned cart"]
    missing = runner.invoke(main, ["triggers", "disable", "test", "99", "--db", str(db)])
    assert missing.exit_code == 2 and "no trigger 99 for 'test'" in missing.output


def test_scheduler_reads_go_through_indexes(tmp_path: Path) -> None:
    """The delay checks and the outbox are read by due time, the cancelling event by visitor: no scans."""
    from collector.store.sqlite import triggers
    from collector.triggers.evaluate import Check

    store = make_store(tmp_path / "t.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "t.db")
    plans: dict[str, list[str]] = {}
    real = conn.execute

    def explain(sql: str, args: object = ()) -> object:
        plans[sql] = [row[3] for row in real(f"EXPLAIN QUERY PLAN {sql}", args)]
        return real(sql, args)

    spy = type("Spy", (), {"execute": staticmethod(explain)})()
    check = Check("c1", 1, "test", "v1", "s1", {}, 0, 10)
    triggers.next_due(spy)  # type: ignore[arg-type]
    triggers.due_checks(spy, 10, 100)  # type: ignore[arg-type]
    triggers.due_deliveries(spy, 10, 100)  # type: ignore[arg-type]
    triggers.visitor_events(spy, check, {"purchase"})  # type: ignore[arg-type]
    steps = [step for plan in plans.values() for step in plan]
    assert len(plans) == 6
    scans = [s for s in steps if s.startswith("SCAN") and "json_each" not in s]
    assert scans == [], plans
    assert any("trigger_checks_due" in s for s in steps) and any("trigger_deliveries_due" in s for s in steps)
    assert any("sessions_visitor" in s or "sessions_visitors" in s for s in steps)
    assert any("events_session_type" in s for s in steps)
    conn.close()


def test_the_request_goes_to_the_checked_address_not_a_new_lookup() -> None:
    """Against DNS rebinding: the connection is made to the address that passed the check, whatever
    the name would resolve to now (here a name that resolves nowhere); Host still names the URL's host."""
    from tests.support.receiver import Receiver

    with Receiver() as receiver:
        target = netguard.Target("http", "hooks.rebind.invalid", receiver.port, "/hook", "127.0.0.1")
        conn = netguard.connection(target, 10)
        conn.request("POST", target.path, body=b"{}", headers={"Trailmark-Delivery": "d1"})
        assert conn.getresponse().status == 200
        conn.close()
        (got,) = receiver.received
        assert got.headers["host"] == f"hooks.rebind.invalid:{receiver.port}"


def _certificate(tmp_path: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host` (openssl), trusted by the test through SSL_CERT_FILE."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-addext", "basicConstraints=critical,CA:TRUE",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def test_https_goes_to_the_checked_address_and_verifies_the_urls_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS to the pinned address: SNI and the certificate check name the URL's host, not the address."""
    import ssl

    from tests.support.receiver import Receiver

    cert, key = _certificate(tmp_path, "hooks.example.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the sender's default context trusts it
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with Receiver(tls=tls) as receiver:
        target = netguard.Target("https", "hooks.example.test", receiver.port, "/hook", "127.0.0.1")
        conn = netguard.connection(target, 10)
        conn.request("POST", "/hook", body=b"{}", headers={"Trailmark-Delivery": "d1"})
        assert conn.getresponse().status == 200
        conn.close()
        assert receiver.received[0].headers["host"] == f"hooks.example.test:{receiver.port}"
        wrong = netguard.connection(netguard.Target("https", "other.example.test", receiver.port, "/", "127.0.0.1"), 10)
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            wrong.request("POST", "/hook", body=b"{}")
        wrong.close()
