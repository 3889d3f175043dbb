"""Data rights: DELETE /api/persons/{id} erases a person down to the file bytes; export hands it all over."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import Client

NOW = int(time.time() * 1000)
# Distinctive values: after erasure not one byte of them may remain in the database or its WAL.
USER, ANON, OTHER_ANON = "user-erase-7f3a9c", "anon-erase-51d2e8", "anon-erase-second-9b1c"
SESSION, OTHER_SESSION = "sess-erase-0c4f1a", "sess-erase-second-77aa"
COMMENT = "comment-erase-the-delivery-was-late-3e9d"
KEEP_ANON, KEEP_SESSION = "anon-keep-2b7e", "sess-keep-6d1f"


def _event(type_: str, anon: str | None, session: str | None, ts: int, **fields: Any) -> dict[str, Any]:
    event = {"type": type_, "id": str(uuid.uuid4()), "ts": ts, **fields}
    if anon:
        event["anon_id"] = anon
    if session:
        event["session_id"] = session
    return event


def _seed(client: Client) -> None:
    url = "https://shop.example/cart"
    events = [
        _event("pageview", ANON, SESSION, NOW - 9000, url=url, title="Cart"),
        _event("identify", ANON, SESSION, NOW - 8000, user_id=USER, traits={"plan": "pro-erase"}),
        _event("survey", ANON, SESSION, NOW - 7000, kind="nps", score=3, comment=COMMENT, user_id=USER),
        _event("purchase", ANON, SESSION, NOW - 6000, order_id="order-erase-1", value=59.0, user_id=USER),
        # The same person on another device before logging in there too.
        _event("pageview", OTHER_ANON, OTHER_SESSION, NOW - 5000, url=url),
        _event("identify", OTHER_ANON, OTHER_SESSION, NOW - 4000, user_id=USER),
        # A backend event without a session: the collector sessionizes it per visitor.
        _event("track", None, None, NOW - 3000, user_id=USER, name="invoice-erase-sent"),
        # Somebody else, who must stay.
        _event("pageview", KEEP_ANON, KEEP_SESSION, NOW - 2000, url=url),
        # A rejected event that names the person: dead letters are theirs too.
        {"type": "survey", "id": str(uuid.uuid4()), "ts": NOW, "anon_id": ANON, "kind": "ces", "score": 9},
    ]
    answer = client.http.post("/v1/batch", json={"key": client.key, "events": events})
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 8
    chunk = {"key": client.key, "session_id": SESSION, "anon_id": ANON, "seq": 0,
             "events": [{"type": 4, "timestamp": NOW - 9000, "data": {"href": url}}]}
    assert client.http.post("/v1/replay", json=chunk).json() == {"accepted": 1, "stored": True}


def _counts(client: Client, where_ids: list[str]) -> dict[str, int]:
    ids = json.dumps(where_ids)
    q = "(SELECT value FROM json_each(?))"
    return {
        "events": client.rows(f"SELECT count(*) AS n FROM events WHERE anon_id IN {q} OR user_id IN {q}"
                              f" OR session_id IN {q}", ids, ids, ids)[0]["n"],
        "sessions": client.rows(f"SELECT count(*) AS n FROM sessions WHERE visitor_id IN {q} OR anon_id IN {q}"
                                f" OR id IN {q}", ids, ids, ids)[0]["n"],
        "replay_chunks": client.rows(f"SELECT count(*) AS n FROM replay_chunks WHERE session_id IN {q}",
                                     ids)[0]["n"],
        "identities": client.rows(f"SELECT count(*) AS n FROM identities WHERE anon_id IN {q} OR user_id IN {q}",
                                  ids, ids)[0]["n"],
        "persons": client.rows(f"SELECT count(*) AS n FROM persons WHERE user_id IN {q}", ids)[0]["n"],
        "dead_letters": client.rows("SELECT count(*) AS n FROM dead_letters WHERE raw LIKE ?",
                                    f"%{ANON}%")[0]["n"],
    }


def _file_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


def test_export_gives_everything_about_a_person_by_any_of_their_ids(client: Client) -> None:
    _seed(client)
    for person_id in (USER, ANON, OTHER_ANON):
        answer = client.http.get(f"/api/persons/{person_id}/export", headers=client.admin)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-disposition"].startswith("attachment; filename=\"trailmark-person-")
        found = answer.json()
        assert found["linked_ids"] == sorted({USER, ANON, OTHER_ANON})
        assert sorted(e["type"] for e in found["events"]) == [
            "identify", "identify", "pageview", "pageview", "purchase", "survey", "track",
        ]
        assert [e["data"].get("comment") for e in found["events"] if e["type"] == "survey"] == [COMMENT]
        assert [p["traits"] for p in found["persons"]] == [{"plan": "pro-erase"}]
        assert {s["id"] for s in found["sessions"]} >= {SESSION, OTHER_SESSION}
        assert len(found["sessions"]) == 3  # the backend event's session too
        assert [(r["session_id"], r["seq"], r["events"][0]["type"]) for r in found["replays"]] == [(SESSION, 0, 4)]
        assert len(found["dead_letters"]) == 1 and ANON in found["dead_letters"][0]["raw"]
        assert KEEP_ANON not in json.dumps(found)
    assert client.http.get("/api/persons/nobody/export", headers=client.admin).status_code == 404
    assert client.http.get(f"/api/persons/{USER}/export").status_code == 401


def test_delete_erases_a_person_everywhere_and_keeps_everyone_else(client: Client) -> None:
    _seed(client)
    ids = [USER, ANON, OTHER_ANON, SESSION, OTHER_SESSION]
    before = _counts(client, ids)
    assert before == {"events": 7, "sessions": 3, "replay_chunks": 1, "identities": 2, "persons": 1,
                      "dead_letters": 1}
    kept = client.rows("SELECT * FROM events WHERE anon_id = ? ORDER BY rowid", KEEP_ANON)
    kept_sessions = client.rows("SELECT * FROM sessions WHERE id = ?", KEEP_SESSION)
    assert COMMENT.encode() in _file_bytes(client.db_path)

    assert client.http.delete(f"/api/persons/{USER}").status_code == 401
    answer = client.http.delete(f"/api/persons/{ANON}", headers=client.admin)  # any of their ids will do
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"deleted": {"events": 7, "sessions": 3, "replay_chunks": 1, "identities": 2,
                                         "persons": 1, "dead_letters": 1, "trigger_deliveries": 0,
                                         "trigger_checks": 0, "trigger_fired": 0}}
    assert _counts(client, ids) == dict.fromkeys(before, 0)
    assert client.rows("SELECT * FROM events WHERE anon_id = ? ORDER BY rowid", KEEP_ANON) == kept
    assert client.rows("SELECT * FROM sessions WHERE id = ?", KEEP_SESSION) == kept_sessions
    assert client.http.get(f"/api/persons/{USER}", headers=client.admin).status_code == 404
    assert client.http.get(f"/api/persons/{USER}/export", headers=client.admin).status_code == 404

    # Erased means gone from the file too: no free page and no WAL frame still holds their values.
    raw = _file_bytes(client.db_path)
    for value in (USER, ANON, OTHER_ANON, SESSION, OTHER_SESSION, COMMENT, "invoice-erase-sent", "pro-erase"):
        assert value.encode() not in raw, value
    assert KEEP_ANON.encode() in raw
    # Erasing again finds nothing.
    again = client.http.delete(f"/api/persons/{USER}", headers=client.admin).json()
    assert again == {"deleted": dict.fromkeys([*before, "trigger_deliveries", "trigger_checks", "trigger_fired"], 0)}


def test_person_ids_longer_than_the_protocol_allows_are_refused(client: Client) -> None:
    answer = client.http.delete("/api/persons/" + "x" * 65, headers=client.admin)
    assert answer.status_code == 400
