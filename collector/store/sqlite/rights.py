"""Data rights on SQLite: find everything about one person, erase it for good, or export it."""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from collector.store.sqlite.connection import secure_delete, transaction


@dataclass
class Person:
    """Who an id stands for: the user ids and anonymous ids linked by identify, and their sessions."""

    site_id: str
    users: list[str]
    anons: list[str]
    sessions: list[str]

    @property
    def ids(self) -> list[str]:
        return sorted(set(self.users) | set(self.anons))


def _json(values: list[str]) -> str:
    return msgspec.json.encode(sorted(set(values))).decode()


def find_person(conn: sqlite3.Connection, site_id: str, person_id: str) -> Person:
    """Follow identify links both ways: a user id brings its anon ids, an anon id its user."""
    users = {person_id}
    anons = {person_id}
    for (user_id,) in conn.execute(
        "SELECT user_id FROM identities WHERE site_id = ? AND anon_id = ?", (site_id, person_id)
    ):
        users.add(user_id)
    for (anon_id,) in conn.execute(
        "SELECT anon_id FROM identities WHERE site_id = ? AND user_id IN (SELECT value FROM json_each(?))",
        (site_id, _json(list(users))),
    ):
        anons.add(anon_id)
    ids = _json(list(users | anons))
    sessions = {
        row[0] for row in conn.execute(
            "SELECT id FROM sessions WHERE site_id = ?1 AND (visitor_id IN (SELECT value FROM json_each(?2))"
            " OR anon_id IN (SELECT value FROM json_each(?2)) OR user_id IN (SELECT value FROM json_each(?2)))",
            (site_id, ids),
        )
    }
    sessions.update(
        row[0] for row in conn.execute(
            "SELECT DISTINCT session_id FROM events WHERE site_id = ?1"
            " AND (anon_id IN (SELECT value FROM json_each(?2)) OR user_id IN (SELECT value FROM json_each(?2)))",
            (site_id, ids),
        )
    )
    return Person(site_id, sorted(users), sorted(anons), sorted(sessions))


# Each table's rows of a person, over :site, :users, :anons, :sessions (JSON arrays) and :quoted.
_WHERE = {
    "events": "site_id = :site AND (session_id IN (SELECT value FROM json_each(:sessions))"
              " OR user_id IN (SELECT value FROM json_each(:users))"
              " OR anon_id IN (SELECT value FROM json_each(:anons)))",
    "sessions": "site_id = :site AND id IN (SELECT value FROM json_each(:sessions))",
    "replay_chunks": "site_id = :site AND session_id IN (SELECT value FROM json_each(:sessions))",
    "identities": "site_id = :site AND (user_id IN (SELECT value FROM json_each(:users))"
                  " OR anon_id IN (SELECT value FROM json_each(:anons)))",
    "persons": "site_id = :site AND user_id IN (SELECT value FROM json_each(:users))",
    # A rejected event is kept as the text it came as: it is theirs when it names one of their ids.
    "dead_letters": "site_id = :site AND EXISTS (SELECT 1 FROM json_each(:quoted) AS q"
                    " WHERE instr(dead_letters.raw, q.value) > 0)",
    # Webhook deliveries and waiting checks carry the person's id and events.
    "trigger_deliveries": "site_id = :site AND (session_id IN (SELECT value FROM json_each(:sessions))"
                          " OR visitor_id IN (SELECT value FROM json_each(:users))"
                          " OR visitor_id IN (SELECT value FROM json_each(:anons)))",
    "trigger_checks": "site_id = :site AND (session_id IN (SELECT value FROM json_each(:sessions))"
                      " OR visitor_id IN (SELECT value FROM json_each(:users))"
                      " OR visitor_id IN (SELECT value FROM json_each(:anons)))",
    "trigger_fired": "rule_id IN (SELECT id FROM trigger_rules WHERE site_id = :site)"
                     " AND (visitor_id IN (SELECT value FROM json_each(:users))"
                     " OR visitor_id IN (SELECT value FROM json_each(:anons)))",
}


def _params(person: Person) -> dict[str, str]:
    quoted = [msgspec.json.encode(i).decode() for i in person.ids]  # "id" with its JSON quotes
    return {"site": person.site_id, "users": _json(person.users), "anons": _json(person.anons),
            "sessions": _json(person.sessions), "quoted": _json(quoted)}


def erase(conn: sqlite3.Connection, site_id: str, person_id: str) -> dict[str, int]:
    """Delete a person's rows in one transaction, overwriting the freed bytes, then empty the WAL."""
    # Without secure_delete the deleted rows stay readable in free pages of the file.
    with secure_delete(conn), transaction(conn):
        person = find_person(conn, site_id, person_id)
        params = _params(person)
        counts = {
            table: conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount
            for table, where in _WHERE.items()
        }
        # Interior index pages keep copies of deleted keys (user ids, paths) until rebuilt.
        for table in _WHERE:
            conn.execute(f"REINDEX {table}")
    # Older copies of the pages live on in the WAL until a checkpoint: truncate it when no reader holds it.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


def _rows(conn: sqlite3.Connection, table: str, params: dict[str, str]) -> list[dict[str, Any]]:
    cursor = conn.execute(f"SELECT * FROM {table} WHERE {_WHERE[table]}", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def export(conn: sqlite3.Connection, site_id: str, person_id: str) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON values."""
    person = find_person(conn, site_id, person_id)
    params = _params(person)
    events = _rows(conn, "events", params)
    for event in events:
        event["data"] = msgspec.json.decode(event["data"])
    persons = _rows(conn, "persons", params)
    for row in persons:
        row["traits"] = msgspec.json.decode(row["traits"])
    replays = _rows(conn, "replay_chunks", params)
    for chunk in replays:
        chunk["events"] = msgspec.json.decode(gzip.decompress(chunk.pop("data")))
    return {
        "site": site_id, "id": person_id, "linked_ids": person.ids,
        "persons": persons, "identities": _rows(conn, "identities", params),
        "sessions": _rows(conn, "sessions", params), "events": events, "replays": replays,
        "dead_letters": _rows(conn, "dead_letters", params),
    }
