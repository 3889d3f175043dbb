"""Sign-in with an account's email and password (or the admin token) into a signed, httpOnly
session cookie; invite links that set a password; logout; failed-login limits."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections import OrderedDict, deque
from urllib.parse import parse_qs, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collector.access import public
from collector.auth import COOKIE, SESSION_SECONDS, cookie_login, current_login, session_cookie
from collector.store import Store
from collector.ui.shell import login_page, password_page

# Ten failures in ten minutes, per address and per account, is plenty for typos. Past it, a
# password is not even checked (no argon2 work for the attacker to spend) unless the browser
# holds a device cookie from an earlier sign-in to that account: the rightful user, whose
# browser has one, always gets in with the right password, however hard the account is
# attacked; a new browser waits out the window or uses a fresh invite link. The admin token is
# never refused when right: it is long and random, so guessing it is out of reach anyway.
MAX_FAILURES = 10
WINDOW_S = 600.0
DEVICE_COOKIE = "tm_device"
DEVICE_SECONDS = 180 * 24 * 3600
INVITE_SECONDS = 7 * 24 * 3600
MIN_PASSWORD = 10
# argon2id with the library's defaults (RFC 9106's second recommendation, 64 MiB, 3 passes).
HASHER = PasswordHasher()
# Verified against for unknown emails, so a miss costs the same time as a wrong password.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class FailedLogins:
    """Failed attempts per client address in a sliding window, bounded in memory."""

    def __init__(self, limit: int = MAX_FAILURES, window_s: float = WINDOW_S, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._max_keys = max_keys

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        now = time.monotonic() if now is None else now
        times = self._recent(key, now)
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window_s - now))

    def record(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        times = self._recent(key, now)
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        if len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


def logged_in(request: Request) -> bool:
    return current_login(request) is not None


def https(request: Request) -> bool:
    """Whether the browser reached us over TLS: directly, or through a trusted proxy that says so."""
    if request.url.scheme == "https":
        return True
    try:
        peer = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    if not any(peer in network for network in request.app.state.pipeline.trusted):
        return False
    # The nearest proxy's word is the last entry; anything before it came from further out.
    proto = request.headers.get("x-forwarded-proto", "").split(",")[-1]
    return proto.strip().lower() == "https"


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this server only, never another host."""
    if not target:
        return "/overview"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/overview"
    return target


def same_origin(request: Request) -> bool:
    """A form POST must come from our own pages: browsers send Origin on every POST."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded login form, parsed here so the collector needs no multipart dependency."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 8192:  # a token and a path; anything bigger is not our form
            return {}
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    return {name: values[0] for name, values in fields.items()}


def _failures(request: Request) -> FailedLogins:
    state = request.app.state
    if not hasattr(state, "failed_logins"):
        state.failed_logins = FailedLogins()
    failures: FailedLogins = state.failed_logins
    return failures


@public
async def login_form(request: Request) -> Response:
    if logged_in(request):
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    return login_page(next_path=safe_next(request.query_params.get("next")))


def _too_many(wait: int, next_path: str, email: str = "") -> Response:
    minutes = max(1, math.ceil(wait / 60))
    return login_page(
        error=f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        status=429, next_path=next_path, headers={"Retry-After": str(wait)}, email=email,
    )


def signed_in(request: Request, next_path: str, account_id: int | None) -> Response:
    token: str = request.app.state.settings.admin_token
    response = RedirectResponse(next_path, 303)
    response.set_cookie(
        COOKIE, session_cookie(token, account_id=account_id), max_age=SESSION_SECONDS, path="/",
        httponly=True, samesite="strict", secure=https(request),
    )
    if account_id is not None:
        response.set_cookie(
            DEVICE_COOKIE, device_cookie(token, account_id), max_age=DEVICE_SECONDS, path="/login",
            httponly=True, samesite="strict", secure=https(request),
        )
    return response


def _device_mac(token: str, account_id: int, expires: int) -> str:
    return hmac.new(token.encode(), f"device:{account_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def device_cookie(token: str, account_id: int, now: float | None = None) -> str:
    """Proof that this browser signed in to this account before (it is not a login)."""
    expires = int((now or time.time()) + DEVICE_SECONDS)
    return f"{account_id}.{expires}.{_device_mac(token, account_id, expires)}"


def known_device(request: Request, account_id: int) -> bool:
    parts = request.cookies.get(DEVICE_COOKIE, "").split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts) or len(parts[1]) > 12:
        return False
    if not parts[1].isdigit() or parts[0] != str(account_id) or int(parts[1]) < time.time():
        return False
    expected = _device_mac(request.app.state.settings.admin_token, account_id, int(parts[1]))
    return hmac.compare_digest(parts[2], expected)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@public
async def login_submit(request: Request) -> Response:
    if not same_origin(request):
        return login_page(error="This form must be sent from the login page.", status=403)
    peer = request.client.host if request.client else None
    ip = "ip:" + (request.app.state.pipeline.client(peer, request.headers)[0] or "unknown")
    failures = _failures(request)
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    if "token" in form:
        return _token_login(request, form, ip, next_path)
    email = form.get("email", "").strip().lower()[:320]
    password = form.get("password", "")[:1024]
    store: Store = request.app.state.store
    found = await run_in_threadpool(store.account_by_email, email) if email else None
    account_key = "account:" + email
    trusted = found is not None and known_device(request, found["id"])
    wait = failures.retry_after(ip) or failures.retry_after(account_key)
    if wait is not None and not trusted:
        failures.record(ip)
        return _too_many(wait, next_path, email)
    ok = await run_in_threadpool(_verify, found["password_hash"] if found else None, password)
    if not ok or found is None:
        failures.record(ip)
        failures.record(account_key)
        return login_page(error="That email and password do not match.", status=401, next_path=next_path,
                          email=email)
    if HASHER.check_needs_rehash(found["password_hash"]):
        await run_in_threadpool(store.set_password, found["id"], hash_password(password))
    failures.clear(ip)  # the account's own failures stay: they are the attacker's, not this user's
    return signed_in(request, next_path, found["id"])


def _token_login(request: Request, form: dict[str, str], ip: str, next_path: str) -> Response:
    failures = _failures(request)
    presented = form.get("token", "").strip()
    token: str = request.app.state.settings.admin_token
    if not presented or not hmac.compare_digest(presented.encode(), token.encode()):
        wait = failures.retry_after(ip)
        failures.record(ip)
        if wait is not None:
            return _too_many(wait, next_path)
        return login_page(error="That token is not right.", status=401, next_path=next_path)
    failures.clear(ip)
    return signed_in(request, next_path, None)


def invite_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_invite(store: Store, email: str, roles: dict[str, str]) -> str:
    """An account for `email` (created if new) with these roles, and the single-use token of a
    link that sets its password; a later invite of the same person replaces their password."""
    account_id = store.create_account(email.strip().lower())
    for site_id, role in roles.items():
        store.set_role(account_id, site_id, role)
    token = secrets.token_urlsafe(32)
    store.add_invite(invite_hash(token), account_id, int(time.time()) + INVITE_SECONDS)
    return token


@public
async def invite_form(request: Request) -> Response:
    token = request.path_params["token"]
    store: Store = request.app.state.store
    account_id = await run_in_threadpool(store.invite_account, invite_hash(token))
    found = None if account_id is None else await run_in_threadpool(store.account, account_id)
    if found is None:
        return login_page(error="This sign-in link was used already or has expired. Ask an owner for a new one.",
                          status=404)
    return password_page(token, found["email"])


@public
async def invite_submit(request: Request) -> Response:
    if not same_origin(request):
        return login_page(error="This form must be sent from the invite page.", status=403)
    form = await _form(request)
    token, password = form.get("invite", ""), form.get("password", "")[:1024]
    store: Store = request.app.state.store
    account_id = await run_in_threadpool(store.invite_account, invite_hash(token))
    found = None if account_id is None else await run_in_threadpool(store.account, account_id)
    if found is None:
        return login_page(error="This sign-in link was used already or has expired. Ask an owner for a new one.",
                          status=404)
    if len(password) < MIN_PASSWORD:
        return password_page(token, found["email"], error=f"Use at least {MIN_PASSWORD} characters.", status=400)
    # Taken before the password is set: of two racing posts of one link, only one sets it.
    if await run_in_threadpool(store.take_invite, invite_hash(token)) != found["id"]:
        return login_page(error="This sign-in link was used already.", status=404)
    await run_in_threadpool(store.set_password, found["id"], hash_password(password))
    return signed_in(request, "/overview", found["id"])


@public
async def logout(request: Request) -> Response:
    if not same_origin(request):
        return login_page(error="Sign out from the dashboard's own button.", status=403)
    value = request.cookies.get(COOKIE, "")
    login = cookie_login(request.app.state.settings.admin_token, value)
    if login is not None:
        login_id = login[0]
        # Server-side too: a copy of the cookie (stolen, or in another tab's jar) stops working now.
        expires_at = int(value.partition(".")[0])
        await run_in_threadpool(request.app.state.store.revoke_login, login_id, expires_at)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=https(request))
    return response
