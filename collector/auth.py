"""Who may read: the admin token as a Bearer header, or a signed login cookie from the dashboard."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from starlette.requests import Request

from collector.errors import ClientError

COOKIE = "tm_session"
SESSION_SECONDS = 7 * 24 * 3600
# expiry.login-id.mac: ASCII digits (no unicode digits such as "²", which int() refuses), an
# expiry of at most 12 digits (int() refuses strings over 4,300 digits), a 22-character id.
_COOKIE_SHAPE = re.compile(r"([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{22})\.([0-9a-f]{64})")


def _mac(token: str, expires: int, login_id: str) -> str:
    return hmac.new(token.encode(), f"session:{expires}:{login_id}".encode(), hashlib.sha256).hexdigest()


def session_cookie(token: str, now: float | None = None, login_id: str | None = None) -> str:
    """A login cookie value that expires; it proves knowledge of the token without holding it.

    Each login has its own random id, so one login can be revoked (logout) and not the others.
    """
    expires = int((now or time.time()) + SESSION_SECONDS)
    login_id = login_id or secrets.token_urlsafe(16)
    return f"{expires}.{login_id}.{_mac(token, expires, login_id)}"


def cookie_login(token: str, value: str, now: float | None = None) -> str | None:
    """The login id of a well-formed, correctly signed, unexpired cookie; None for anything else."""
    match = _COOKIE_SHAPE.fullmatch(value)
    if match is None:
        return None
    expires, login_id, mac = int(match[1]), match[2], match[3]
    if expires < (now or time.time()):
        return None
    return login_id if hmac.compare_digest(mac, _mac(token, expires, login_id)) else None


def current_login(request: Request) -> str | None:
    """The login id of the request's session cookie, unless it is malformed, expired or revoked."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    login_id = cookie_login(request.app.state.settings.admin_token, value)
    if login_id is None:
        return None
    return None if request.app.state.store.login_revoked(login_id) else login_id


def bearer_ok(request: Request, token: str) -> bool | None:
    """True or False for a Bearer header against `token`; None when there is no Bearer header."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and presented:
        return hmac.compare_digest(presented.strip().encode(), token.encode())
    return None


def is_admin(request: Request) -> bool:
    bearer = bearer_ok(request, request.app.state.settings.admin_token)
    if bearer is not None:
        return bearer
    if current_login(request) is not None:
        # A cookie rides along on cross-site requests: changes need a same-origin Origin header.
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            host = request.headers.get("host", "")
            return origin is not None and origin.split("://", 1)[-1] == host
        return True
    return False


def require_admin(request: Request) -> None:
    if not is_admin(request):
        raise ClientError(401, "admin token required (Authorization: Bearer <token>)")
