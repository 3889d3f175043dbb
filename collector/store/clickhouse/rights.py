"""Data rights on ClickHouse: find everything about one person, erase it for good, or export it.

Erasure is an ALTER TABLE ... DELETE per table, waited for (`mutations_sync = 2`): ClickHouse
rewrites every part that held their rows, and the tables drop replaced parts at once
(`old_parts_lifetime = 0`, schema.SETTINGS), so no part on disk keeps the erased values.
"""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from collector.store.clickhouse import assets, views
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.schema import EVENT_NAMES, SESSION_NAMES
from collector.store.clickhouse.transaction import Db
from collector.wire import json_decoder


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


def find_person(db: Db, site_id: str, person_id: str) -> Person:
    """The rows an id owns (docs/privacy.md, identity): the SQLite engine's rules.

    A user id brings every anon id linked to it, whoever made the link; an anon id brings its
    user only through a link the site's backend vouched for.
    """
    site = lit(site_id)
    identities = f"{db.t('identities')} FINAL"
    users = {person_id}
    anons = {person_id}
    found = db.rows(
        f"SELECT user_id FROM {identities} WHERE site_id = {site} AND anon_id = {lit(person_id)} AND verified = 1"
    )
    users.update(r[0] for r in found)
    found = db.rows(f"SELECT anon_id FROM {identities} WHERE site_id = {site} AND user_id IN {lits(sorted(users))}")
    anons.update(r[0] for r in found)
    user_list, anon_list = lits(sorted(users)), lits(sorted(anons))
    # Sessions are theirs by the ids the session row names; an event of theirs inside someone
    # else's session (a forged event naming a session id) is erased alone, not with that session.
    sessions = sorted(
        r[0] for r in db.rows(
            f"SELECT id FROM {db.t('sessions')} FINAL WHERE site_id = {site} AND (anon_id IN {anon_list}"
            f" OR visitor_id IN {anon_list} OR visitor_id IN {user_list} OR user_id IN {user_list}"
            f" OR verified_user IN {user_list})"
        )
    )
    return Person(site_id, sorted(users), sorted(anons), sessions)




def _dead_letters(db: Db, person: Person) -> list[int]:
    """Rejected events whose id fields name one of theirs, exactly (never a substring of the text)."""
    users, anons, sessions = set(person.users), set(person.anons), set(person.sessions)
    found = []
    for letter_id, source, raw in db.rows(
        f"SELECT id, source, raw FROM {db.t('dead_letters')} WHERE site_id = {lit(person.site_id)}"
    ):
        if source == "replay":  # kept as "session <id> seq <n>"
            session_id = raw.removeprefix("session ").rpartition(" seq ")[0]
            if raw.startswith("session ") and session_id in sessions:
                found.append(int(letter_id))
            continue
        try:
            event = json_decoder.decode(raw)
        except msgspec.DecodeError:
            continue
        if isinstance(event, dict) and any(
            isinstance(event.get(field), str) and event[field] in ids
            for field, ids in (("anon_id", anons), ("user_id", users), ("session_id", sessions))
        ):
            found.append(int(letter_id))
    return found


def _where(person: Person, dead: list[int], keys: str | None = None, rules: list[int] | None = None) -> dict[str, str]:
    """Each table's rows of a person: their ids written out, or read from the table `keys`; with
    `rules` (the site's trigger rules), their trigger rows too."""
    site = f"site_id = {lit(person.site_id)}"

    def ids(kind: str, values: list[str] | list[int]) -> str:
        return f"(SELECT id FROM {keys} WHERE kind = '{kind}')" if keys else lits(values)

    sessions, users, anons = ids("session", person.sessions), ids("user", person.users), ids("anon", person.anons)
    triggered = f"(session_id IN {sessions} OR visitor_id IN {users} OR visitor_id IN {anons})"
    return {
        "events": f"{site} AND (session_id IN {sessions} OR user_id IN {users} OR anon_id IN {anons})",
        "sessions": f"{site} AND id IN {sessions}",
        "replay_chunks": f"{site} AND session_id IN {sessions}",
        "identities": f"{site} AND (user_id IN {users} OR anon_id IN {anons})",
        "persons": f"{site} AND user_id IN {users}",
        "dead_letters": f"toString(id) IN {ids('dead', [str(d) for d in dead])}" if keys else f"id IN {lits(dead)}",
    } | ({} if rules is None else {
        # Webhook payloads carry their id and events; when a rule last fired for them (its cooldown).
        "trigger_deliveries": f"{site} AND {triggered}",
        "trigger_checks": f"{site} AND {triggered}",
        "trigger_fired": f"rule_id IN {lits(rules)} AND (visitor_id IN {users} OR visitor_id IN {anons})",
    })


_VERSIONED = {
    "sessions", "replay_chunks", "identities", "persons", "trigger_deliveries", "trigger_checks", "trigger_fired",
}


def erase(db: Db, site_id: str, person_id: str) -> dict[str, int]:
    """Delete a person's rows from every table; the count of (current) rows per table.

    ClickHouse keeps the text of every mutation on disk (`mutation_N.txt`), so the deletes name
    no id: they read the ids from a table made for this erasure and dropped after it.
    """
    person = find_person(db, site_id, person_id)
    dead = _dead_letters(db, person)
    rules = [int(r[0]) for r in db.rows(
        f"SELECT DISTINCT id FROM {db.t('trigger_rules')} WHERE site_id = {lit(site_id)}"
    )]
    counts: dict[str, int] = {}
    held: set[str] = set()  # tables with a row of theirs in any version (a settled check is a deleted one)
    for table, where in _where(person, dead, rules=rules).items():
        final = " FINAL" if table in _VERSIONED else ""
        ((n,),) = db.rows(f"SELECT count() FROM {db.t(table)}{final} WHERE {where}")
        counts[table] = int(n)
        if n or (final and db.rows(f"SELECT 1 FROM {db.t(table)} WHERE {where} LIMIT 1")):
            held.add(table)
    if not held:
        return counts
    keys = None
    if not db.layout.cluster:  # a cluster's mutations run on every shard: the ids are written out there
        keys = db.t(f"erasing_{uuid.uuid4().hex}")
        db.conn.command(f"CREATE TABLE {keys} (kind String, id String) ENGINE = Memory")
        db.conn.insert(keys, ("kind", "id"), [
            *(("session", i) for i in person.sessions), *(("user", i) for i in person.users),
            *(("anon", i) for i in person.anons), *(("dead", str(i)) for i in dead),
        ])
    try:
        wheres = _where(person, dead, keys, rules)
        sessions = f"(SELECT id FROM {keys} WHERE kind = 'session')" if keys else lits(person.sessions)
        # Sessions that stay but lose events (their row names one anon and user id, their events
        # may name others): their pageviews are packed again from the events left (views.py).
        losing = [i for (i,) in db.rows(
            f"SELECT DISTINCT session_id FROM {db.t('events')}"
            f" WHERE {wheres['events']} AND session_id NOT IN {sessions}"
        )]
        for table, where in wheres.items():
            if table in held:
                db.delete(table, where)
        if losing:
            views.repack(db.conn, db.layout, f"s.site_id = {lit(site_id)} AND s.id IN {lits(losing)}")
        _erase_scores(db, person, keys)
        # Copies of recorded assets are the site's files, not the person's: the references of their
        # sessions go, and a copy no other session uses goes with them (not counted, as scores).
        assets.drop_refs(db, f"site_id = {lit(site_id)} AND session_id IN {sessions}")
    finally:
        if keys:
            db.conn.command(f"DROP TABLE IF EXISTS {keys} SYNC")
    return counts


def _erase_scores(db: Db, person: Person, keys: str | None) -> None:
    """A likely-outcome score is derived data, not something the person sent: gone with them, not counted."""
    ids = (f"(SELECT id FROM {keys} WHERE kind IN ('user', 'anon'))" if keys
           else lits([*person.users, *person.anons]))
    where = f"site_id = {lit(person.site_id)} AND visitor_id IN {ids}"
    if db.rows(f"SELECT 1 FROM {db.t('outcome_scores')} WHERE {where} LIMIT 1"):
        db.delete("outcome_scores", where)


_COLUMNS = {
    "events": ("seq AS rowid", *EVENT_NAMES),
    "sessions": SESSION_NAMES,
    "replay_chunks": (
        "site_id", "session_id", "seq", "first_ts", "last_ts", "size", "hex(data) AS data", "received_at",
    ),
    "identities": ("site_id", "anon_id", "user_id", "ts", "verified"),
    "persons": ("site_id", "user_id", "traits", "first_ts", "last_ts"),
    "dead_letters": ("id AS rowid", "site_id", "received_at", "source", "reason", "kind", "raw"),
}
_ORDER = {
    "events": "seq", "sessions": "site_id, id", "replay_chunks": "site_id, session_id, seq",
    "identities": "site_id, anon_id", "persons": "site_id, user_id", "dead_letters": "id",
}


def _rows(db: Db, table: str, where: str) -> list[dict[str, Any]]:
    columns = _COLUMNS[table]
    final = " FINAL" if table in _VERSIONED else ""
    names = [c.rsplit(" AS ", 1)[-1] for c in columns]
    rows = db.rows(f"SELECT {', '.join(columns)} FROM {db.t(table)}{final} WHERE {where} ORDER BY {_ORDER[table]}")
    return [dict(zip(names, row, strict=True)) for row in rows]


def export(db: Db, site_id: str, person_id: str) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON values."""
    person = find_person(db, site_id, person_id)
    where = _where(person, _dead_letters(db, person))
    events = _rows(db, "events", where["events"])
    for event in events:
        event["data"] = json_decoder.decode(event["data"])
    persons = _rows(db, "persons", where["persons"])
    for row in persons:
        row["traits"] = json_decoder.decode(row["traits"])
    replays = _rows(db, "replay_chunks", where["replay_chunks"])
    for chunk in replays:
        chunk["events"] = json_decoder.decode(gzip.decompress(bytes.fromhex(chunk.pop("data"))))
    return {
        "site": site_id, "id": person_id, "linked_ids": person.ids,
        "persons": persons, "identities": _rows(db, "identities", where["identities"]),
        "sessions": _rows(db, "sessions", where["sessions"]), "events": events, "replays": replays,
        "dead_letters": _rows(db, "dead_letters", where["dead_letters"]),
        "asset_refs": assets.export_rows(db, site_id, lits(person.sessions)),
    }
