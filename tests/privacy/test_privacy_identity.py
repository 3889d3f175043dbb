"""Identity under attack: whoever holds the public write key (anyone who can read a page) and knows
a user id cannot take that person over. Each attack is replayed against the real collector."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.support.collector import KEY, SECRET, Client, every_store

NOW = int(time.time() * 1000) - 3_600_000
MIN = 60_000
VICTIM, VICTIM_ANON, VICTIM_SESSION = "victim-user-1", "victim-anon-1", "victim-session-1"
ATTACKER_ANON, ATTACKER_SESSION = "attacker-anon-1", "attacker-session-1"
ORDER = "victim-order-1"
ATTACK_COMMENT = "attacker-comment-in-the-victims-profile"

# A person with no webhook deliveries, trigger checks or trigger cooldowns.
NO_TRIGGERS = {"trigger_deliveries": 0, "trigger_checks": 0, "trigger_fired": 0}


def _event(type_: str, ts: int, anon: str | None = None, session: str | None = None, **fields: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": type_, "id": str(uuid.uuid4()), "ts": ts, **fields}
    if anon is not None:
        event["anon_id"] = anon
    if session is not None:
        event["session_id"] = session
    return event


def _send(client: Client, key: str, *events: dict[str, Any], origin: str | None = None) -> dict[str, Any]:
    headers = {"Origin": origin} if origin else {}
    answer = client.http.post("/v1/batch", json={"key": key, "events": list(events)}, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["rejected"] == []
    return result


def _victim(client: Client) -> None:
    """The legitimate flow: browsing, a login the backend reports with the browser's anon id, an
    order from the backend without a session."""
    _send(client, KEY, _event("pageview", NOW, VICTIM_ANON, VICTIM_SESSION, url="https://shop.example/"),
          origin="https://shop.example")
    _send(client, SECRET, _event("identify", NOW + MIN, VICTIM_ANON, user_id=VICTIM,
                                 traits={"email_domain": "victim.example", "plan": "pro"}))
    _send(client, SECRET, _event("purchase", NOW + 2 * MIN, user_id=VICTIM, order_id=ORDER, value=120.0,
                                 currency="EUR"))


def _attack(client: Client) -> None:
    """Everything the public key allows, aimed at VICTIM."""
    shop = "https://shop.example"
    _send(client, KEY, _event("pageview", NOW + 3 * MIN, ATTACKER_ANON, ATTACKER_SESSION, url=f"{shop}/"), origin=shop)
    _send(client, KEY, _event("identify", NOW + 4 * MIN, ATTACKER_ANON, ATTACKER_SESSION, user_id=VICTIM,
                              traits={"email_domain": "evil.example", "plan": "free"}), origin=shop)
    _send(client, KEY, _event("survey", NOW + 5 * MIN, ATTACKER_ANON, ATTACKER_SESSION, user_id=VICTIM,
                              kind="nps", score=0, comment=ATTACK_COMMENT), origin=shop)
    # No session id: sessionized per visitor, it tries to land in the victim's session.
    _send(client, KEY, _event("track", NOW + 6 * MIN, ATTACKER_ANON, user_id=VICTIM, name="forged"), origin=shop)


def _victim_rows(client: Client) -> dict[str, list[dict[str, Any]]]:
    return {
        "events": client.rows("SELECT * FROM events WHERE anon_id = ? OR (user_id = ? AND anon_id IS NULL)"
                              " ORDER BY rowid", VICTIM_ANON, VICTIM),
        "sessions": client.rows("SELECT id, visitor_id, verified_user, purchases FROM sessions"
                                " WHERE verified_user = ? ORDER BY id", VICTIM),
        "persons": client.rows("SELECT * FROM persons"),
        "identities": client.rows("SELECT * FROM identities WHERE anon_id = ?", VICTIM_ANON),
    }


def test_the_legitimate_flow_vouches_for_the_person(client: Client) -> None:
    _victim(client)
    (person,) = client.rows("SELECT user_id, traits FROM persons")
    assert (person["user_id"], json.loads(person["traits"])) == (VICTIM, {"email_domain": "victim.example",
                                                                          "plan": "pro"})
    assert client.rows("SELECT anon_id, user_id, verified FROM identities") == [
        {"anon_id": VICTIM_ANON, "user_id": VICTIM, "verified": 1}]
    # The backend's order joins the browser session the backend vouched for.
    assert client.rows("SELECT id, visitor_id, verified_user, purchases, revenue FROM sessions") == [
        {"id": VICTIM_SESSION, "visitor_id": VICTIM, "verified_user": VICTIM, "purchases": 1, "revenue": 120.0}]
    profile = client.http.get(f"/api/persons/{VICTIM}", headers=client.admin).json()
    assert (profile["verified"], profile["unverified_sessions"]) == (True, 0)
    assert [s["id"] for s in profile["sessions"]] == [VICTIM_SESSION]
    assert [p["order_id"] for p in profile["purchases"]] == [ORDER]
    by_anon = client.http.get(f"/api/persons/{VICTIM_ANON}/export", headers=client.admin).json()
    assert by_anon["linked_ids"] == [VICTIM_ANON, VICTIM]  # a vouched link is followed
    assert [e["data"].get("order_id") for e in by_anon["events"] if e["type"] == "purchase"] == [ORDER]


def test_a_browser_identify_cannot_overwrite_traits(client: Client) -> None:
    _victim(client)
    _attack(client)
    (person,) = client.rows("SELECT traits FROM persons")
    assert json.loads(person["traits"]) == {"email_domain": "victim.example", "plan": "pro"}
    profile = client.http.get(f"/api/persons/{VICTIM}", headers=client.admin).json()
    assert profile["traits"] == {"email_domain": "victim.example", "plan": "pro"}
    # The claim is kept as what it is: an identify event in the attacker's own session.
    (claim,) = client.rows("SELECT session_id, user_id FROM events WHERE type = 'identify' AND anon_id = ?",
                           ATTACKER_ANON)
    assert claim == {"session_id": ATTACKER_SESSION, "user_id": VICTIM}


@every_store
def test_a_browser_claim_adds_no_session_nor_survey_to_a_known_persons_profile(client: Client) -> None:
    _victim(client)
    _attack(client)
    profile = client.http.get(f"/api/persons/{VICTIM}", headers=client.admin).json()
    assert [s["id"] for s in profile["sessions"]] == [VICTIM_SESSION]
    assert profile["surveys"] == []
    assert ATTACK_COMMENT not in json.dumps(profile)
    assert [p["order_id"] for p in profile["purchases"]] == [ORDER] and profile["revenue"] == 120.0
    assert (profile["verified"], profile["unverified_sessions"]) == (True, 1)
    assert [(t["entry"], t["session_id"], t.get("type")) for t in profile["timeline"]] == [
        ("visit", VICTIM_SESSION, None), ("contact", VICTIM_SESSION, "identify"),
        ("contact", VICTIM_SESSION, "purchase")]


def test_a_browser_claim_is_stitched_for_counting_only(client: Client) -> None:
    _victim(client)
    _attack(client)
    # Counting still stitches the claim (a forger can inflate counts with the public key anyway).
    assert client.rows("SELECT id, visitor_id, verified_user FROM sessions ORDER BY id") == [
        {"id": ATTACKER_SESSION, "visitor_id": VICTIM, "verified_user": None},
        {"id": VICTIM_SESSION, "visitor_id": VICTIM, "verified_user": VICTIM},
    ]
    # The forged session-less event landed in the attacker's session, not the victim's.
    assert client.rows("SELECT session_id FROM events WHERE name = 'forged'") == [{"session_id": ATTACKER_SESSION}]


def test_the_backends_events_never_join_a_session_a_browser_claimed(client: Client) -> None:
    _victim(client)
    _attack(client)
    later = _event("purchase", NOW + 7 * MIN, user_id=VICTIM, order_id="victim-order-2", value=5.0)
    _send(client, SECRET, later)
    assert client.rows("SELECT session_id FROM events WHERE id = ?", later["id"]) == [{"session_id": VICTIM_SESSION}]


def test_exporting_the_attackers_own_anon_id_gives_none_of_the_victims_data(client: Client) -> None:
    _victim(client)
    _attack(client)
    found = client.http.get(f"/api/persons/{ATTACKER_ANON}/export", headers=client.admin).json()
    assert found["linked_ids"] == [ATTACKER_ANON]
    assert found["persons"] == []
    assert [s["id"] for s in found["sessions"]] == [ATTACKER_SESSION]
    assert sorted(e["type"] for e in found["events"]) == ["identify", "pageview", "survey", "track"]
    text = json.dumps(found)
    for secret in (ORDER, VICTIM_ANON, VICTIM_SESSION, "victim.example"):
        assert secret not in text, secret


def test_erasing_the_attackers_own_anon_id_leaves_the_victim_whole(client: Client) -> None:
    _victim(client)
    _attack(client)
    before = _victim_rows(client)
    answer = client.http.delete(f"/api/persons/{ATTACKER_ANON}", headers=client.admin)
    assert answer.json() == {"deleted": {"events": 4, "sessions": 1, "replay_chunks": 0, "identities": 1,
                                         "persons": 0, "dead_letters": 0, **NO_TRIGGERS}}
    assert _victim_rows(client) == before
    assert client.rows("SELECT count(*) AS n FROM events WHERE anon_id = ?", ATTACKER_ANON) == [{"n": 0}]


def test_erasing_the_victim_by_user_id_takes_what_was_labelled_theirs(client: Client) -> None:
    _victim(client)
    _attack(client)
    answer = client.http.delete(f"/api/persons/{VICTIM}", headers=client.admin)
    # Their own rows, and the rows a browser labelled with their user id: gone too.
    assert answer.json() == {"deleted": {"events": 7, "sessions": 2, "replay_chunks": 0, "identities": 2,
                                         "persons": 1, "dead_letters": 0, **NO_TRIGGERS}}
    assert client.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_a_claim_never_replaces_a_vouched_link(client: Client) -> None:
    _victim(client)
    # Even with the victim's anon id in hand, a browser claim cannot relink it.
    _send(client, KEY, _event("identify", NOW + 8 * MIN, VICTIM_ANON, VICTIM_SESSION, user_id="attacker-user"),
          origin="https://shop.example")
    assert client.rows("SELECT anon_id, user_id, verified FROM identities") == [
        {"anon_id": VICTIM_ANON, "user_id": VICTIM, "verified": 1}]
    assert client.rows("SELECT visitor_id, verified_user FROM sessions") == [
        {"visitor_id": VICTIM, "verified_user": VICTIM}]


def test_a_browser_only_site_still_stitches_and_erases(client: Client) -> None:
    shop = "https://shop.example"
    _send(client, KEY, _event("pageview", NOW, "anon-b", "s-b", url=f"{shop}/"),
          _event("identify", NOW + MIN, "anon-b", "s-b", user_id="u-browser", traits={"plan": "pro"}), origin=shop)
    assert client.rows("SELECT visitor_id, user_id, verified_user FROM sessions") == [
        {"visitor_id": "u-browser", "user_id": "u-browser", "verified_user": None}]
    assert client.rows("SELECT anon_id, user_id, verified FROM identities") == [
        {"anon_id": "anon-b", "user_id": "u-browser", "verified": 0}]
    assert client.rows("SELECT * FROM persons") == []  # browser traits stay in the event only
    profile = client.http.get("/api/persons/u-browser", headers=client.admin).json()
    assert (profile["verified"], [s["id"] for s in profile["sessions"]], profile["traits"]) == (False, ["s-b"], {})
    answer = client.http.delete("/api/persons/u-browser", headers=client.admin)
    assert answer.json()["deleted"]["events"] == 2
    assert client.rows("SELECT count(*) AS n FROM sessions") == [{"n": 0}]


@pytest.mark.parametrize(("path", "params"), [("/v1/batch", None), ("/v1/p.gif", {"k": SECRET, "u": "https://x/"})])
def test_the_secret_key_is_refused_from_a_browser(client: Client, path: str, params: dict[str, str] | None) -> None:
    if params is None:
        answer = client.http.post(path, json={"key": SECRET, "events": [_event("pageview", NOW, "a", "s")]},
                                  headers={"Origin": "https://shop.example"})
        assert (answer.status_code, answer.json()) == (
            403, {"error": "the secret server key belongs on your server: browsers use the write key"})
    else:
        assert client.http.get(path, params=params).status_code == 200  # the GIF, always
    assert client.rows("SELECT count(*) AS n FROM events") == [{"n": 0}]


def test_unknown_and_rotated_secret_keys_are_refused(client: Client) -> None:
    answer = client.http.post("/v1/batch", json={"key": "sk_not_a_key", "events": [_event("pageview", NOW, "a", "s")]})
    assert (answer.status_code, answer.json()) == (401, {"error": "unknown write key"})
    store = client.http.app.state.store  # type: ignore[attr-defined]
    fresh = store.new_secret("test")
    assert fresh.startswith("sk_") and len(fresh) == 35
    answer = client.http.post("/v1/batch", json={"key": SECRET, "events": [_event("pageview", NOW, "a", "s")]})
    assert answer.status_code == 401
    assert _send(client, fresh, _event("pageview", NOW, "a", "s"))["accepted"] == 1
    # The database holds only the key's hash.
    assert fresh.encode() not in client.db_path.read_bytes()
