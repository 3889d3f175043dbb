"""Accounts, roles per site, invites, API keys, share links and scheduled reports on ClickHouse.

Kept in the store like everything else, so collectors sharing a server or cluster share their
accounts: a member invited through one signs in through another. The rows are ReplacingMergeTree
rows written whole with a rising version and read with FINAL (schema.py), with SQLite's column
names so `trailmark store copy` carries them. Every change runs on the store's one writer thread,
which gives the read-then-write steps (the next id, a single-use invite taken once) the order
SQLite's transactions give them within one collector. Ids follow SQLite's INTEGER PRIMARY KEY
rule (one more than the highest), so every answer is the same on both engines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from collector.store.clickhouse.client import lit
from collector.store.clickhouse.transaction import VERSIONS, Db

ACCOUNT = ("id", "email", "password_hash", "created_at")
MEMBERSHIP = ("account_id", "site_id", "role")
INVITE = ("token_hash", "account_id", "expires_at")
API_KEY = ("id", "name", "key_hash", "role", "site_id", "created_at", "revoked_at")
SHARE = ("id", "site_id", "view", "params", "people", "created_at", "expires_at", "revoked_at")
SCHEDULE = ("id", "site_id", "kind", "recipients", "settings", "last_sent")
TABLES = ("accounts", "memberships", "invites", "api_keys", "share_links", "schedules")
# The tables with a `deleted` column (ReplacingMergeTree(version, deleted)): a row deleted by a
# newer version is gone from every FINAL read. Keys and share links are revoked, never deleted.
DELETABLE = {"accounts", "memberships", "invites", "schedules"}


def _now() -> int:
    return int(time.time())


def _put(db: Db, table: str, columns: tuple[str, ...], row: tuple[Any, ...], *, deleted: bool = False) -> None:
    names: tuple[str, ...] = (*columns, "version")
    values: tuple[Any, ...] = (*row, VERSIONS.next())
    if table in DELETABLE:
        names, values = (*names, "deleted"), (*values, int(deleted))
    db.conn.insert(db.t(table), names, [values])


def _select(
    db: Db, table: str, columns: tuple[str, ...], where: str, order: str | None = None,
) -> list[tuple[Any, ...]]:
    sql = f"SELECT {', '.join(columns)} FROM {db.t(table)} FINAL WHERE {where}"
    return db.rows(sql + (f" ORDER BY {order}" if order else ""))


def _next_id(db: Db, table: str) -> int:
    # Every stored version counts, deleted ones too: an id is never handed out twice.
    ((top,),) = db.rows(f"SELECT max(id) FROM {db.t(table)}")
    return int(top or 0) + 1


# -- accounts and roles --------------------------------------------------------------------------


def create_account(db: Db, email: str) -> int:
    found = _select(db, "accounts", ("id",), f"email = {lit(email)}")
    if found:
        return int(found[0][0])
    account_id = _next_id(db, "accounts")
    _put(db, "accounts", ACCOUNT, (account_id, email, None, _now()))
    return account_id


def roles_of(db: Db, account_id: int) -> dict[str, str]:
    rows = _select(db, "memberships", ("site_id", "role"), f"account_id = {lit(account_id)}")
    return {site: role for site, role in rows}


def account(db: Db, *, account_id: int | None = None, email: str | None = None) -> dict[str, Any] | None:
    where = f"id = {lit(account_id)}" if account_id is not None else f"email = {lit(email)}"
    rows = _select(db, "accounts", ("id", "email", "password_hash"), where)
    if not rows:
        return None
    found_id, found_email, password_hash = rows[0]
    found_id = int(found_id)
    return {"id": found_id, "email": found_email, "password_hash": password_hash, "roles": roles_of(db, found_id)}


def accounts(db: Db) -> list[dict[str, Any]]:
    rows = _select(db, "accounts", ("id", "email", "password_hash IS NOT NULL"), "1", "email")
    return [{"id": int(r[0]), "email": r[1], "active": bool(r[2]), "roles": roles_of(db, int(r[0]))} for r in rows]


def set_password(db: Db, account_id: int, password_hash: str) -> None:
    rows = _select(db, "accounts", ACCOUNT, f"id = {lit(account_id)}")
    if rows:
        found_id, email, _, created_at = rows[0]
        _put(db, "accounts", ACCOUNT, (int(found_id), email, password_hash, int(created_at)))


def set_role(db: Db, account_id: int, site_id: str, role: str | None) -> None:
    if role is None:
        if _select(db, "memberships", ("role",), f"account_id = {lit(account_id)} AND site_id = {lit(site_id)}"):
            _put(db, "memberships", MEMBERSHIP, (account_id, site_id, ""), deleted=True)
        return
    _put(db, "memberships", MEMBERSHIP, (account_id, site_id, role))


def delete_account(db: Db, account_id: int) -> bool:
    """Gone for good, every version: an email and a password hash are not left in older parts."""
    if not _select(db, "accounts", ("id",), f"id = {lit(account_id)}"):
        return False
    # The deleted version first: every read stops seeing the account before the mutations finish.
    _put(db, "accounts", ACCOUNT, (account_id, "", None, 0), deleted=True)
    for table in ("memberships", "invites"):
        db.delete(table, f"account_id = {lit(account_id)}")
    db.delete("accounts", f"id = {lit(account_id)} AND deleted = 0")
    return True


# -- invites ---------------------------------------------------------------------------------------


def add_invite(db: Db, token_hash: str, account_id: int, expires_at: int) -> None:
    # Only the newest link of an account works: an older one, unused in some log, is void.
    void = _select(db, "invites", INVITE, f"expires_at < {lit(_now())} OR account_id = {lit(account_id)}")
    for old_hash, old_account, old_expiry in void:
        _put(db, "invites", INVITE, (old_hash, int(old_account), int(old_expiry)), deleted=True)
    _put(db, "invites", INVITE, (token_hash, account_id, expires_at))


def invite_account(db: Db, token_hash: str) -> int | None:
    rows = _select(db, "invites", ("account_id", "expires_at"), f"token_hash = {lit(token_hash)}")
    return None if not rows or int(rows[0][1]) < _now() else int(rows[0][0])


def take_invite(db: Db, token_hash: str) -> int | None:
    """The account an unexpired invite is for; the invite is gone after this, used or not."""
    rows = _select(db, "invites", INVITE, f"token_hash = {lit(token_hash)}")
    if not rows:
        return None
    _, account_id, expires_at = rows[0]
    _put(db, "invites", INVITE, (token_hash, int(account_id), int(expires_at)), deleted=True)
    return None if int(expires_at) < _now() else int(account_id)


# -- API keys --------------------------------------------------------------------------------------


def add_api_key(db: Db, name: str, key_hash: str, role: str, site_id: str) -> dict[str, Any]:
    key_id = _next_id(db, "api_keys")
    _put(db, "api_keys", API_KEY, (key_id, name, key_hash, role, site_id, _now(), None))
    return {"id": key_id, "name": name, "role": role, "site": site_id}


def api_key(db: Db, key_hash: str) -> dict[str, Any] | None:
    rows = _select(db, "api_keys", ("id", "name", "role", "site_id"),
                   f"key_hash = {lit(key_hash)} AND revoked_at IS NULL")
    return None if not rows else {"id": int(rows[0][0]), "name": rows[0][1], "role": rows[0][2], "site": rows[0][3]}


def api_keys(db: Db) -> list[dict[str, Any]]:
    rows = _select(db, "api_keys", API_KEY, "1", "id")
    return [{"id": int(r[0]), "name": r[1], "role": r[3], "site": r[4], "created_at": int(r[5]),
             "revoked": r[6] is not None} for r in rows]


def revoke_api_key(db: Db, key_id: int) -> bool:
    rows = _select(db, "api_keys", API_KEY, f"id = {lit(key_id)} AND revoked_at IS NULL")
    if not rows:
        return False
    _put(db, "api_keys", API_KEY, (*rows[0][:6], _now()))
    return True


# -- share links -----------------------------------------------------------------------------------


def _share(row: Sequence[Any]) -> dict[str, Any]:
    return {"id": row[0], "site": row[1], "view": row[2], "params": json.loads(row[3]), "people": bool(row[4]),
            "created_at": int(row[5]), "expires_at": int(row[6]), "revoked": row[7] is not None}


def add_share(db: Db, share_id: str, site_id: str, view: str, params: dict[str, str], people: bool,
              expires_at: int) -> dict[str, Any]:
    _put(db, "share_links", SHARE,
         (share_id, site_id, view, json.dumps(params, sort_keys=True), int(people), _now(), expires_at, None))
    found = share(db, share_id)
    assert found is not None
    return found


def share(db: Db, share_id: str) -> dict[str, Any] | None:
    rows = _select(db, "share_links", SHARE, f"id = {lit(share_id)}")
    return _share(rows[0]) if rows else None


def shares(db: Db, site_id: str) -> list[dict[str, Any]]:
    return [_share(r) for r in _select(db, "share_links", SHARE, f"site_id = {lit(site_id)}", "created_at, id")]


def revoke_share(db: Db, site_id: str, share_id: str) -> bool:
    rows = _select(db, "share_links", SHARE,
                   f"id = {lit(share_id)} AND site_id = {lit(site_id)} AND revoked_at IS NULL")
    if not rows:
        return False
    _put(db, "share_links", SHARE, (*rows[0][:7], _now()))
    return True


# -- scheduled reports and alerts ------------------------------------------------------------------


def _schedule(row: Sequence[Any]) -> dict[str, Any]:
    return {"id": int(row[0]), "site": row[1], "kind": row[2], "recipients": json.loads(row[3]),
            "settings": json.loads(row[4]), "last_sent": int(row[5])}


def add_schedule(db: Db, site_id: str, kind: str, recipients: list[str], settings: dict[str, Any]) -> dict[str, Any]:
    schedule_id = _next_id(db, "schedules")
    _put(db, "schedules", SCHEDULE,
         (schedule_id, site_id, kind, json.dumps(recipients), json.dumps(settings, sort_keys=True), 0))
    return {"id": schedule_id, "site": site_id, "kind": kind, "recipients": recipients, "settings": settings,
            "last_sent": 0}


def schedules(db: Db, site_id: str | None) -> list[dict[str, Any]]:
    where = "1" if site_id is None else f"site_id = {lit(site_id)}"
    return [_schedule(r) for r in _select(db, "schedules", SCHEDULE, where, "id")]


def delete_schedule(db: Db, site_id: str, schedule_id: int) -> bool:
    rows = _select(db, "schedules", SCHEDULE, f"id = {lit(schedule_id)} AND site_id = {lit(site_id)}")
    if not rows:
        return False
    _put(db, "schedules", SCHEDULE, tuple(rows[0]), deleted=True)
    return True


def schedule_sent(db: Db, schedule_id: int, sent_at: int) -> None:
    rows = _select(db, "schedules", SCHEDULE, f"id = {lit(schedule_id)}")
    if rows:
        _put(db, "schedules", SCHEDULE, (*rows[0][:5], sent_at))


def count_events(db: Db, site_id: str, event_type: str, start: int, end: int) -> int:
    ((n,),) = db.rows(
        f"SELECT count() FROM {db.t('events')} WHERE site_id = {lit(site_id)} AND type = {lit(event_type)}"
        f" AND ts >= {lit(start)} AND ts < {lit(end)}"
    )
    return int(n)
