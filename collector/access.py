"""The one place a request's role is checked: every API route and page is wrapped by one of
these decorators, each with a declared minimum role (viewer < analyst < owner) per site.

The site is the one the request names (`?site=`, a JSON body's `site`, or the path for
/api/sites/{id}); a request that names none acts on the only site, or else on every site, and
then needs the role on all of them. `min_role` on the wrapped endpoint is what
tests/security/test_security_roles.py reads to walk every route of the app with every role.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import quote

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collector.auth import ANALYST, OWNER, RANK, VIEWER, Principal, principal
from collector.depth import MAX_DEPTH, deeper_than
from collector.errors import ClientError
from collector.replies import Reply, reply

PUBLIC = "public"
__all__ = [
    "ANALYST", "ANY", "MAX_API_BODY", "NAMED", "OWNER", "PATH", "PUBLIC", "VIEWER", "api", "api_post", "api_raw",
    "answer", "check", "own_check", "page", "public", "public_mount", "who",
]
Endpoint = Callable[[Request], Awaitable[Response]]

# Site-scoped modes: the site(s) the request names; any site the principal has the role on
# (listings filtered by the endpoint itself); the path's {id} (a site's own settings).
NAMED, ANY, PATH = "named", "any", "path"
MAX_API_BODY = 64 * 1024
UNAUTHORIZED = "sign in, or send an API key (Authorization: Bearer <key>)"


class _SiteOnly(msgspec.Struct):
    site: str | None = None


_site_only = msgspec.json.Decoder(_SiteOnly)


def _body_site(body: bytes) -> str | None:
    if deeper_than(body, MAX_DEPTH):  # msgspec recurses per level: the endpoint answers the 400
        return None
    try:
        return _site_only.decode(body).site
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None  # the endpoint answers the malformed body with its own 400


def who(request: Request) -> Principal:
    """The checked principal of a request inside a wrapped endpoint."""
    found = principal(request)
    assert found is not None, "who() outside an access-wrapped endpoint"
    return found


def check(request: Request, role: str, mode: str = NAMED, body_site: str | None = None) -> Principal:
    """The principal when it holds `role` where the request acts; else a 401 or 403 ClientError."""
    found = principal(request)
    if found is None:
        raise ClientError(401, UNAUTHORIZED)
    need = RANK[role]
    if mode == PATH:
        named = {request.path_params.get("id", "")}
    else:
        named = {s for s in (request.query_params.get("site"), body_site) if s}
    if named:
        for site_id in sorted(named):
            if found.rank(site_id) < need:
                raise ClientError(403, f"this needs the {role} role on site {site_id!r}")
        return found
    site_ids = [s.id for s in request.app.state.store.sites()]
    if mode == ANY:
        if not any(found.rank(s) >= need for s in [*site_ids, "*"]):
            raise ClientError(403, f"this needs the {role} role on at least one site")
        return found
    if not all(found.rank(s) >= need for s in site_ids) or (not site_ids and found.rank("*") < need):
        raise ClientError(403, f"this needs the {role} role on every site: name one with ?site=")
    return found


def _declared(run: Any, role: str, mode: str = NAMED) -> Any:
    run.min_role = role
    run.site_mode = mode
    return run


def answer(request: Request, endpoint: Callable[[Request], Any]) -> Response:
    """The endpoint's answer as JSON; every report also downloads: `format=csv&table=NAME` gives
    one of its tables as CSV, `download=1` the JSON as a file."""
    q = request.query_params
    wanted = q.get("format", "json")
    if wanted not in ("json", "csv"):
        raise ClientError(400, f"format must be json or csv, not {wanted!r}")
    result = endpoint(request)
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        return reply(request, result)
    name = request.url.path.rsplit("/", 1)[-1] or "report"
    if wanted == "csv":
        # Imported here: the collector.api package imports every resource module, each of which
        # imports this one.
        from collector.api import export

        if not isinstance(result, dict):
            raise ClientError(400, "this answer has no table to export")
        table = q.get("table") or None
        return Response(export.table_csv(result, table), 200, {
            "Content-Disposition": f'attachment; filename="{name}-{table or "table"}.csv"',
        }, "text/csv; charset=utf-8")
    headers = {"Content-Disposition": f'attachment; filename="{name}.json"'} if q.get("download") else None
    return reply(request, result, headers)


def api(role: str, mode: str = NAMED) -> Callable[[Callable[[Request], Any]], Callable[[Request], Response]]:
    """A sync endpoint: check the role, run it off the event loop (starlette does), answer JSON or CSV."""

    def wrap(endpoint: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            check(request, role, mode)
            return answer(request, endpoint)

        run.tables = True  # type: ignore[attr-defined]  # format=csv&table=NAME: /openapi.json says so
        return _declared(run, role, mode)  # type: ignore[no-any-return]

    return wrap


def api_post(role: str, mode: str = NAMED) -> Callable[[Callable[[Request, bytes], Any]], Endpoint]:
    """Like `api` for endpoints that read a JSON body, `endpoint(request, body)`; a body's `site`
    must be allowed too."""

    def wrap(endpoint: Callable[[Request, bytes], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            # Imported here: the ingest package declares its routes public with this module.
            from collector.ingest.http import read_limited

            check(request, role, mode)  # before reading: no body from strangers
            body = await read_limited(request, MAX_API_BODY)
            await run_in_threadpool(check, request, role, mode, _body_site(body))
            result = await run_in_threadpool(endpoint, request, body)
            return result if isinstance(result, Response) else reply(request, result)

        return _declared(run, role, mode)  # type: ignore[no-any-return]

    return wrap


def api_raw(role: str, mode: str = NAMED) -> Callable[[Endpoint], Endpoint]:
    """An async endpoint that builds its own Response (streams)."""

    def wrap(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            await run_in_threadpool(check, request, role, mode)
            return await endpoint(request)

        return _declared(run, role, mode)  # type: ignore[no-any-return]

    return wrap


def page(role: str) -> Callable[[Endpoint], Endpoint]:
    """A dashboard page: without a login, go to /login and come back after; without the role, 403.

    Pages name no site (the site picker is in the page), so the role is needed on some site; the
    API calls the page makes are checked per site."""

    def wrap(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            found = await run_in_threadpool(principal, request)
            if found is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
            try:
                await run_in_threadpool(check, request, role, ANY)
            except ClientError as exc:
                from collector.ui import shell  # the shell imports nothing of ours: no cycle at runtime

                refused = shell.page("", "Not allowed", f'<p class="alert" role="alert">{escape(exc.message)}.'
                                     " Ask an owner of the site for a role that includes it.</p>")
                refused.status_code = 403
                return refused
            return await endpoint(request)

        return _declared(run, role, ANY)  # type: ignore[no-any-return]

    return wrap


OWN_CHECK = "own-check"


def own_check(endpoint: Any) -> Any:
    """A route that checks a credential of its own (/metrics: a metrics token or the admin token)."""
    return _declared(endpoint, OWN_CHECK)


def public_mount(mount: Any) -> Any:
    """A mounted app (static files, the demo shop) that anyone may read, declared as such."""
    mount.min_role = PUBLIC
    return mount


def public(endpoint: Any) -> Any:
    """A route anyone may call (ingest, bundles, health, login, share links), declared as such;
    `own_check` for one that checks a credential of its own (/metrics)."""
    if inspect.isfunction(endpoint):
        return _declared(endpoint, PUBLIC)

    async def run(request: Request) -> Response:
        return await endpoint(request)  # type: ignore[no-any-return]

    return _declared(run, PUBLIC)
