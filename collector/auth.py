"""Who is asking: an API key (the admin token is one) as a Bearer header, or a signed login cookie.

A login is either the admin token's (the owner of every site, as before accounts existed) or an
account's, whose roles per site are read from the store on every request, so a removed member or
a lowered role takes effect at once. collector/access.py decides what a principal may do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

from starlette.requests import Request

COOKIE = "tm_session"
SESSION_SECONDS = 7 * 24 * 3600
# expiry.login-id[.a<account>].mac: ASCII digits (no unicode digits such as "²", which int()
# refuses), an expiry of at most 12 digits (int() refuses strings over 4,300 digits), a
# 22-character id, and for an account's login its id, covered by the MAC like the rest.
_COOKIE_SHAPE = re.compile(r"([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})(?:\.a([1-9][0-9]{0,11}))?\.([0-9a-f]{64})")

VIEWER, ANALYST, OWNER = "viewer", "analyst", "owner"
RANK = {VIEWER: 1, ANALYST: 2, OWNER: 3}
EVERY_SITE = "*"


@dataclass(frozen=True)
class Principal:
    """Who a request is: `kind` is token, key, account or share; `roles` maps site ids (or '*') to roles."""

    kind: str
    name: str
    roles: dict[str, str] = field(default_factory=dict)
    account_id: int | None = None
    login_id: str | None = None

    def rank(self, site_id: str) -> int:
        return max(RANK.get(self.roles.get(site_id, ""), 0), RANK.get(self.roles.get(EVERY_SITE, ""), 0))


def _mac(token: str, expires: int, login_id: str, account_id: int | None = None) -> str:
    subject = f"session:{expires}:{login_id}" + ("" if account_id is None else f":account:{account_id}")
    return hmac.new(token.encode(), subject.encode(), hashlib.sha256).hexdigest()


def session_cookie(token: str, now: float | None = None, login_id: str | None = None,
                   account_id: int | None = None) -> str:
    """A login cookie value that expires; signed with the server's token, which it never holds.

    Each login has its own random id, so one login can be revoked (logout) and not the others.
    Without `account_id` it is the admin token's own login (the owner of every site).
    """
    expires = int((now or time.time()) + SESSION_SECONDS)
    login_id = login_id or secrets.token_urlsafe(16)
    account = "" if account_id is None else f".a{account_id}"
    return f"{expires}.{login_id}{account}.{_mac(token, expires, login_id, account_id)}"


def cookie_login(token: str, value: str, now: float | None = None) -> tuple[str, int | None] | None:
    """(login id, account id or None) of a well-formed, correctly signed, unexpired cookie; else None."""
    match = _COOKIE_SHAPE.fullmatch(value)
    if match is None:
        return None
    expires, login_id, mac = int(match[1]), match[2], match[4]
    account_id = int(match[3]) if match[3] else None
    if expires < (now or time.time()):
        return None
    if not hmac.compare_digest(mac, _mac(token, expires, login_id, account_id)):
        return None
    return login_id, account_id


def key_hash(key: str) -> str:
    """API keys are kept as their SHA-256: they are long and random, so no slow hash is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "tmk_" + secrets.token_urlsafe(32)


def _cookie_principal(request: Request) -> Principal | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    state = request.app.state
    login = cookie_login(state.settings.admin_token, value)
    if login is None:
        return None
    login_id, account_id = login
    if state.store.login_revoked(login_id):
        return None
    if account_id is None:
        return Principal("token", "admin token", {EVERY_SITE: OWNER}, login_id=login_id)
    found = state.store.account(account_id)
    if found is None or not found["password_hash"]:
        return None
    return Principal("account", found["email"], found["roles"], account_id=account_id, login_id=login_id)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and presented.strip():
        return presented.strip()
    return None


def bearer_ok(request: Request, token: str) -> bool | None:
    """True or False for a Bearer header against `token`; None when there is no Bearer header."""
    presented = _bearer(request)
    if presented is None:
        return None
    return hmac.compare_digest(presented.encode(), token.encode())


def principal(request: Request) -> Principal | None:
    """The requester, or None: a wrong key, or a cookie that is bad, expired, revoked or cross-site."""
    cached = request.scope.get("tm.principal", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    found = _principal(request)
    request.scope["tm.principal"] = found
    return found


def _principal(request: Request) -> Principal | None:
    state = request.app.state
    presented = _bearer(request)
    if presented is not None or request.headers.get("authorization"):
        if presented is None:
            return None
        if hmac.compare_digest(presented.encode(), state.settings.admin_token.encode()):
            return Principal("key", "admin token", {EVERY_SITE: OWNER})
        key = state.store.api_key(key_hash(presented))
        if key is None:
            return None
        return Principal("key", key["name"], {key["site"]: key["role"]})
    found = _cookie_principal(request)
    if found is not None and request.method not in ("GET", "HEAD"):
        # A cookie rides along on cross-site requests: changes need a same-origin Origin header.
        origin = request.headers.get("origin")
        if origin is None or origin.split("://", 1)[-1] != request.headers.get("host", ""):
            return None
    return found


def current_login(request: Request) -> str | None:
    """The login id of the request's session cookie, unless it is malformed, expired or revoked."""
    found = _cookie_principal(request)
    return None if found is None else found.login_id


def require_admin(request: Request) -> None:
    """Kept for code written before roles: the owner of every site. A route using it declares no
    role, so tests/security/test_security_roles.py fails until it says what it needs (collector/access.py)."""
    from collector.access import check  # access builds on this module

    check(request, OWNER)
