"""Accounts, roles per site, invites, API keys, share links and scheduled reports: plain rows."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from collector.store.sqlite.connection import transaction


def _now() -> int:
    return int(time.time())


def create_account(conn: sqlite3.Connection, email: str) -> int:
    with transaction(conn):
        conn.execute("INSERT OR IGNORE INTO accounts (email, created_at) VALUES (?, ?)", (email, _now()))
        row = conn.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
    return int(row[0])


def account(
    conn: sqlite3.Connection, *, account_id: int | None = None, email: str | None = None,
) -> dict[str, Any] | None:
    where, value = ("id", account_id) if account_id is not None else ("email", email)
    row = conn.execute(f"SELECT id, email, password_hash FROM accounts WHERE {where} = ?", (value,)).fetchone()
    if row is None:
        return None
    return {"id": row[0], "email": row[1], "password_hash": row[2], "roles": roles_of(conn, row[0])}


def roles_of(conn: sqlite3.Connection, account_id: int) -> dict[str, str]:
    rows = conn.execute("SELECT site_id, role FROM memberships WHERE account_id = ?", (account_id,))
    return {site: role for site, role in rows}


def accounts(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, email, password_hash IS NOT NULL FROM accounts ORDER BY email").fetchall()
    return [{"id": r[0], "email": r[1], "active": bool(r[2]), "roles": roles_of(conn, r[0])} for r in rows]


def set_password(conn: sqlite3.Connection, account_id: int, password_hash: str) -> None:
    with transaction(conn):
        conn.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", (password_hash, account_id))


def set_role(conn: sqlite3.Connection, account_id: int, site_id: str, role: str | None) -> None:
    with transaction(conn):
        if role is None:
            conn.execute("DELETE FROM memberships WHERE account_id = ? AND site_id = ?", (account_id, site_id))
        else:
            conn.execute("INSERT OR REPLACE INTO memberships (account_id, site_id, role) VALUES (?, ?, ?)",
                         (account_id, site_id, role))


def delete_account(conn: sqlite3.Connection, account_id: int) -> bool:
    with transaction(conn):
        conn.execute("DELETE FROM memberships WHERE account_id = ?", (account_id,))
        conn.execute("DELETE FROM invites WHERE account_id = ?", (account_id,))
        return conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount > 0


def add_invite(conn: sqlite3.Connection, token_hash: str, account_id: int, expires_at: int) -> None:
    with transaction(conn):
        # Only the newest link of an account works: an older one, unused in some log, is void.
        conn.execute("DELETE FROM invites WHERE expires_at < ? OR account_id = ?", (_now(), account_id))
        conn.execute("INSERT INTO invites (token_hash, account_id, expires_at) VALUES (?, ?, ?)",
                     (token_hash, account_id, expires_at))


def take_invite(conn: sqlite3.Connection, token_hash: str) -> int | None:
    """The account an unexpired invite is for; the invite is gone after this, used or not."""
    with transaction(conn):
        row = conn.execute("SELECT account_id, expires_at FROM invites WHERE token_hash = ?", (token_hash,)).fetchone()
        conn.execute("DELETE FROM invites WHERE token_hash = ?", (token_hash,))
    if row is None or row[1] < _now():
        return None
    return int(row[0])


def invite_account(conn: sqlite3.Connection, token_hash: str) -> int | None:
    row = conn.execute("SELECT account_id, expires_at FROM invites WHERE token_hash = ?", (token_hash,)).fetchone()
    return None if row is None or row[1] < _now() else int(row[0])


def add_api_key(conn: sqlite3.Connection, name: str, key_hash: str, role: str, site_id: str) -> dict[str, Any]:
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO api_keys (name, key_hash, role, site_id, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, key_hash, role, site_id, _now()))
    return {"id": cursor.lastrowid, "name": name, "role": role, "site": site_id}


def api_key(conn: sqlite3.Connection, key_hash: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, name, role, site_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                       (key_hash,)).fetchone()
    return None if row is None else {"id": row[0], "name": row[1], "role": row[2], "site": row[3]}


def api_keys(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT id, name, role, site_id, created_at, revoked_at FROM api_keys ORDER BY id")
    return [{"id": r[0], "name": r[1], "role": r[2], "site": r[3], "created_at": r[4], "revoked": r[5] is not None}
            for r in rows]


def revoke_api_key(conn: sqlite3.Connection, key_id: int) -> bool:
    with transaction(conn):
        return conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            (_now(), key_id)).rowcount > 0


def _share(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "site": row[1], "view": row[2], "params": json.loads(row[3]), "people": bool(row[4]),
            "created_at": row[5], "expires_at": row[6], "revoked": row[7] is not None}


_SHARE = "SELECT id, site_id, view, params, people, created_at, expires_at, revoked_at FROM share_links"


def add_share(conn: sqlite3.Connection, share_id: str, site_id: str, view: str, params: dict[str, str],
              people: bool, expires_at: int) -> dict[str, Any]:
    with transaction(conn):
        conn.execute(
            "INSERT INTO share_links (id, site_id, view, params, people, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (share_id, site_id, view, json.dumps(params, sort_keys=True), int(people), _now(), expires_at))
    found = share(conn, share_id)
    assert found is not None
    return found


def share(conn: sqlite3.Connection, share_id: str) -> dict[str, Any] | None:
    row = conn.execute(_SHARE + " WHERE id = ?", (share_id,)).fetchone()
    return None if row is None else _share(row)


def shares(conn: sqlite3.Connection, site_id: str) -> list[dict[str, Any]]:
    return [_share(r) for r in conn.execute(_SHARE + " WHERE site_id = ? ORDER BY created_at, id", (site_id,))]


def revoke_share(conn: sqlite3.Connection, site_id: str, share_id: str) -> bool:
    with transaction(conn):
        return conn.execute("UPDATE share_links SET revoked_at = ? WHERE id = ? AND site_id = ? AND revoked_at IS NULL",
                            (_now(), share_id, site_id)).rowcount > 0


def _schedule(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "site": row[1], "kind": row[2], "recipients": json.loads(row[3]),
            "settings": json.loads(row[4]), "last_sent": row[5]}


def add_schedule(conn: sqlite3.Connection, site_id: str, kind: str, recipients: list[str],
                 settings: dict[str, Any]) -> dict[str, Any]:
    with transaction(conn):
        cursor = conn.execute("INSERT INTO schedules (site_id, kind, recipients, settings) VALUES (?, ?, ?, ?)",
                              (site_id, kind, json.dumps(recipients), json.dumps(settings, sort_keys=True)))
    return {"id": cursor.lastrowid, "site": site_id, "kind": kind, "recipients": recipients, "settings": settings,
            "last_sent": 0}


def schedules(conn: sqlite3.Connection, site_id: str | None) -> list[dict[str, Any]]:
    sql = "SELECT id, site_id, kind, recipients, settings, last_sent FROM schedules"
    rows = conn.execute(sql + " ORDER BY id") if site_id is None else conn.execute(
        sql + " WHERE site_id = ? ORDER BY id", (site_id,))
    return [_schedule(r) for r in rows]


def delete_schedule(conn: sqlite3.Connection, site_id: str, schedule_id: int) -> bool:
    with transaction(conn):
        return conn.execute("DELETE FROM schedules WHERE id = ? AND site_id = ?", (schedule_id, site_id)).rowcount > 0


def schedule_sent(conn: sqlite3.Connection, schedule_id: int, sent_at: int) -> None:
    with transaction(conn):
        conn.execute("UPDATE schedules SET last_sent = ? WHERE id = ?", (sent_at, schedule_id))
