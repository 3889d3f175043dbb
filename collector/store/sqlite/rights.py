"""Data rights on SQLite: find everything about one person, erase it for good, or export it."""

from __future__ import annotations

import gzip
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from collector.store.sqlite import assets, paths, touches
from collector.store.sqlite.connection import secure_delete, transaction
from collector.wire import json_decoder


@dataclass
class Person:
    """Who an id stands for: the user ids and anonymous ids linked to it, and their sessions."""

    site_id: str
    users: list[str]
    anons: list[str]
    sessions: list[str]

    @property
    def ids(self) -> list[str]:
        return sorted(set(self.users) | set(self.anons))


def _marks(values: list[str]) -> str:
    """Placeholders for an IN list. Bound one by one, not as a JSON array: SQLite's JSON functions
    end a string at NUL, and an id with NUL is a valid id."""
    return "(" + ", ".join("?" for _ in values) + ")"


def find_person(conn: sqlite3.Connection, site_id: str, person_id: str) -> Person:
    """The rows an id owns (docs/privacy.md, identity).

    A user id brings every anon id linked to it, whoever made the link: erasing or exporting a
    user covers all that was labelled as theirs. An anon id brings its user only through a link
    the site's backend vouched for: a browser that claimed someone's user id gets its own rows.
    """
    users = {person_id}
    anons = {person_id}
    users.update(row[0] for row in conn.execute(
        "SELECT user_id FROM identities WHERE site_id = ? AND anon_id = ? AND verified = 1",
        (site_id, person_id),
    ))
    user_list = sorted(users)
    anons.update(row[0] for row in conn.execute(
        f"SELECT anon_id FROM identities WHERE site_id = ? AND user_id IN {_marks(user_list)}",
        (site_id, *user_list),
    ))
    anon_list = sorted(anons)
    # Sessions are theirs by the ids the session row names; an event of theirs inside someone
    # else's session (a forged event naming a session id) is erased alone, not with that session.
    sessions = sorted(row[0] for row in conn.execute(
        f"SELECT id FROM sessions WHERE site_id = ? AND (anon_id IN {_marks(anon_list)}"
        f" OR visitor_id IN {_marks(anon_list)} OR visitor_id IN {_marks(user_list)}"
        f" OR user_id IN {_marks(user_list)} OR verified_user IN {_marks(user_list)})",
        (site_id, *anon_list, *anon_list, *user_list, *user_list, *user_list),
    ))
    return Person(site_id, user_list, anon_list, sessions)


def _dead_letters(conn: sqlite3.Connection, person: Person) -> list[int]:
    """Rejected events whose id fields name one of theirs, exactly (never a substring of the text)."""
    users, anons, sessions = set(person.users), set(person.anons), set(person.sessions)
    found = []
    for rowid, source, raw in conn.execute(
        "SELECT rowid, source, raw FROM dead_letters WHERE site_id = ?", (person.site_id,)
    ):
        if source == "replay":  # kept as "session <id> seq <n>"
            session_id = raw.removeprefix("session ").rpartition(" seq ")[0]
            if raw.startswith("session ") and session_id in sessions:
                found.append(rowid)
            continue
        try:
            event = json_decoder.decode(raw)
        except msgspec.DecodeError:
            continue
        if not isinstance(event, dict):
            continue
        if (_text(event.get("anon_id")) in anons or _text(event.get("user_id")) in users
                or _text(event.get("session_id")) in sessions):
            found.append(rowid)
    return found




def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _where(table: str, person: Person, dead: list[int]) -> tuple[str, tuple[object, ...]]:
    """Each table's rows of a person."""
    site, users, anons, sessions = person.site_id, person.users, person.anons, person.sessions
    if table == "events":
        return (f"site_id = ? AND (session_id IN {_marks(sessions)} OR user_id IN {_marks(users)}"
                f" OR anon_id IN {_marks(anons)})", (site, *sessions, *users, *anons))
    if table in ("sessions", "replay_chunks", "replay_asset_refs"):
        column = "id" if table == "sessions" else "session_id"
        return f"site_id = ? AND {column} IN {_marks(sessions)}", (site, *sessions)
    if table == "identities":
        return (f"site_id = ? AND (user_id IN {_marks(users)} OR anon_id IN {_marks(anons)})",
                (site, *users, *anons))
    if table == "persons":
        return f"site_id = ? AND user_id IN {_marks(users)}", (site, *users)
    if table in ("trigger_deliveries", "trigger_checks"):  # webhook payloads carry their id and events
        return (f"site_id = ? AND (session_id IN {_marks(sessions)} OR visitor_id IN {_marks(users)}"
                f" OR visitor_id IN {_marks(anons)})", (site, *sessions, *users, *anons))
    if table == "trigger_fired":  # when a rule last fired for them (its cooldown)
        return (f"rule_id IN (SELECT id FROM trigger_rules WHERE site_id = ?) AND (visitor_id IN {_marks(users)}"
                f" OR visitor_id IN {_marks(anons)})", (site, *users, *anons))
    assert table == "dead_letters"
    return f"rowid IN {_marks([str(d) for d in dead])}", tuple(dead)


TABLES = (
    "events", "sessions", "replay_chunks", "identities", "persons", "dead_letters",
    "trigger_deliveries", "trigger_checks", "trigger_fired",
)


def erase(conn: sqlite3.Connection, site_id: str, person_id: str) -> dict[str, int]:
    """Delete a person's rows in one transaction, overwriting the freed bytes, then empty the WAL."""
    # Without secure_delete the deleted rows stay readable in free pages of the file.
    with secure_delete(conn), transaction(conn):
        person = find_person(conn, site_id, person_id)
        dead = _dead_letters(conn, person)
        counts = {}
        for table in TABLES:
            where, params = _where(table, person, dead)
            counts[table] = conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount
        # A score is derived data, not something the person sent: gone with them, not counted.
        ids = [*person.users, *person.anons]
        conn.execute(f"DELETE FROM outcome_scores WHERE site_id = ? AND visitor_id IN {_marks(ids)}",
                     (site_id, *ids))
        conn.execute("REINDEX outcome_scores")
        # Copies of recorded assets are the site's files, not the person's: the references of their
        # sessions go, and a copy no other session uses goes with them (not counted, as scores).
        where, params = _where("replay_asset_refs", person, dead)
        conn.execute(f"DELETE FROM replay_asset_refs WHERE {where}", params)
        conn.execute(assets.DELETE_UNREFERENCED)
        conn.execute("REINDEX replay_asset_refs")
        touches.mend(conn)  # the kinds of touches only their events had (paths, names) go with them
        # Interior index pages keep copies of deleted keys (user ids, paths) until rebuilt.
        for table in TABLES:
            conn.execute(f"REINDEX {table}")
    # Older copies of the pages live on in the WAL until a checkpoint: truncate it when no reader holds it.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts


# Rows in the order they were stored (or by key): an export is the same on every engine.
_ORDER = {
    "events": "rowid", "dead_letters": "rowid", "sessions": "site_id, id", "identities": "site_id, anon_id",
    "persons": "site_id, user_id", "replay_chunks": "site_id, session_id, seq",
    "replay_asset_refs": "site_id, session_id, url",
}


def _rows(conn: sqlite3.Connection, table: str, person: Person, dead: list[int]) -> list[dict[str, Any]]:
    where, params = _where(table, person, dead)
    cursor = conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {_ORDER[table]}", params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor]
    return [paths.shown(row) for row in rows] if table == "sessions" else rows


def export(conn: sqlite3.Connection, site_id: str, person_id: str) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON values."""
    person = find_person(conn, site_id, person_id)
    dead = _dead_letters(conn, person)
    events = _rows(conn, "events", person, dead)
    for event in events:
        event["data"] = json_decoder.decode(event["data"])
    persons = _rows(conn, "persons", person, dead)
    for row in persons:
        row["traits"] = json_decoder.decode(row["traits"])
    replays = _rows(conn, "replay_chunks", person, dead)
    for chunk in replays:
        chunk["events"] = json_decoder.decode(gzip.decompress(chunk.pop("data")))
    return {
        "site": site_id, "id": person_id, "linked_ids": person.ids,
        "persons": persons, "identities": _rows(conn, "identities", person, dead),
        "sessions": _rows(conn, "sessions", person, dead), "events": events, "replays": replays,
        "dead_letters": _rows(conn, "dead_letters", person, dead),
        "asset_refs": _rows(conn, "replay_asset_refs", person, dead),
    }
