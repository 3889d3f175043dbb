"""Login with the admin token into a signed, httpOnly session cookie; logout; failed-login limits."""

from __future__ import annotations

import hmac
import ipaddress
import math
import time
from collections import OrderedDict, deque
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collector.auth import COOKIE, SESSION_SECONDS, cookie_login, current_login, session_cookie
from collector.ui.shell import login_page

# Ten wrong tokens per address in ten minutes is plenty for typos. The right token is never
# refused (behind a proxy every visitor may share one address, and anyone could lock the analyst
# out); guessing stays infeasible because the token is long (docs/security.md).
MAX_FAILURES = 10
WINDOW_S = 600.0


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


async def login_form(request: Request) -> Response:
    if logged_in(request):
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    return login_page(next_path=safe_next(request.query_params.get("next")))


async def login_submit(request: Request) -> Response:
    if not same_origin(request):
        return login_page(error="This form must be sent from the login page.", status=403)
    peer = request.client.host if request.client else None
    ip = request.app.state.pipeline.client(peer, request.headers)[0] or "unknown"
    failures = _failures(request)
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    presented = form.get("token", "").strip()
    token: str = request.app.state.settings.admin_token
    if not presented or not hmac.compare_digest(presented.encode(), token.encode()):
        wait = failures.retry_after(ip)
        failures.record(ip)
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            return login_page(
                error=f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                status=429, next_path=next_path, headers={"Retry-After": str(wait)},
            )
        return login_page(error="That token is not right.", status=401, next_path=next_path)
    failures.clear(ip)
    response = RedirectResponse(next_path, 303)
    response.set_cookie(
        COOKIE, session_cookie(token), max_age=SESSION_SECONDS, path="/",
        httponly=True, samesite="strict", secure=https(request),
    )
    return response


async def logout(request: Request) -> Response:
    if not same_origin(request):
        return login_page(error="Sign out from the dashboard's own button.", status=403)
    value = request.cookies.get(COOKIE, "")
    login_id = cookie_login(request.app.state.settings.admin_token, value)
    if login_id is not None:
        # Server-side too: a copy of the cookie (stolen, or in another tab's jar) stops working now.
        expires_at = int(value.partition(".")[0])
        await run_in_threadpool(request.app.state.store.revoke_login, login_id, expires_at)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=https(request))
    return response
