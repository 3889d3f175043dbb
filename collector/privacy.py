"""Data rights: erase everything about one person (DELETE /api/persons/{id}) or hand it all over (export)."""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from collector.api import admin, site_param
from collector.errors import ClientError, json_response
from collector.store.sqlite import connect


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
}


def _params(person: Person) -> dict[str, str]:
    quoted = [msgspec.json.encode(i).decode() for i in person.ids]  # "id" with its JSON quotes
    return {"site": person.site_id, "users": _json(person.users), "anons": _json(person.anons),
            "sessions": _json(person.sessions), "quoted": _json(quoted)}


def erase(path: str, site_id: str, person_id: str) -> dict[str, int]:
    """Delete a person's rows in one transaction, overwriting the freed bytes, then empty the WAL."""
    conn = connect(path)
    try:
        # Without secure_delete the deleted rows stay readable in free pages of the file.
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            person = find_person(conn, site_id, person_id)
            params = _params(person)
            counts = {
                table: conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount
                for table, where in _WHERE.items()
            }
            # Interior index pages keep copies of deleted keys (user ids, paths) until rebuilt.
            for table in _WHERE:
                conn.execute(f"REINDEX {table}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        # Older copies of the pages live on in the WAL until a checkpoint: truncate it when no reader holds it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return counts
    finally:
        conn.close()


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


def _person_id(request: Request) -> str:
    person_id: str = request.path_params["id"]
    if not person_id or len(person_id) > 64:  # the wire protocol's id limit
        raise ClientError(400, "a person id is 1 to 64 characters")
    return person_id


@admin
def delete_person(request: Request) -> Any:
    """Erase a person: events, sessions, replays, identities, traits and rejected events."""
    site_id = site_param(request)
    counts = erase(request.app.state.store.path, site_id, _person_id(request))
    return {"deleted": counts}


@admin
def export_person(request: Request) -> Any:
    """Everything about a person as one JSON download."""
    site_id = site_param(request)
    person_id = _person_id(request)
    with request.app.state.store.read() as conn:
        found = export(conn, site_id, person_id)
    if not (found["events"] or found["persons"] or found["sessions"] or found["dead_letters"]):
        raise ClientError(404, f"nothing stored about {person_id!r}")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in person_id)
    return json_response(found, headers={
        "Content-Disposition": f'attachment; filename="trailmark-person-{safe}.json"',
    })


routes = [
    Route("/api/persons/{id}", delete_person, methods=["DELETE"]),
    Route("/api/persons/{id}/export", export_person),
]
