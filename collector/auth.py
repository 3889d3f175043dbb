"""Who may read: the admin token as a Bearer header, or a signed login cookie from the dashboard."""

from __future__ import annotations

import hashlib
import hmac
import time

from starlette.requests import Request

from collector.errors import ClientError

COOKIE = "tm_session"
SESSION_SECONDS = 7 * 24 * 3600


def _sign(token: str, expires: int) -> str:
    mac = hmac.new(token.encode(), f"session:{expires}".encode(), hashlib.sha256).hexdigest()
    return f"{expires}.{mac}"


def session_cookie(token: str, now: float | None = None) -> str:
    """A login cookie value that expires; it proves knowledge of the token without holding it."""
    return _sign(token, int((now or time.time()) + SESSION_SECONDS))


def valid_cookie(token: str, value: str, now: float | None = None) -> bool:
    expires, _, _mac = value.partition(".")
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(value, _sign(token, int(expires)))


def is_admin(request: Request) -> bool:
    token: str = request.app.state.settings.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and presented:
        return hmac.compare_digest(presented.strip().encode(), token.encode())
    cookie = request.cookies.get(COOKIE)
    if cookie and valid_cookie(token, cookie):
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
