"""Members, API keys, share links and scheduled reports under /api, and the share links' own
read-only views. Owners manage all four on their sites; anyone may ask who they are."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import smtplib
import time
from typing import Any, cast

import msgspec
from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANY, OWNER, VIEWER, api, api_post, public, who
from collector.api.base import decode_json, scope_of, site_param, site_settings
from collector.auth import EVERY_SITE, RANK, key_hash, new_api_key
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.funnel import FunnelRequest
from collector.replies import reply, returns
from collector.store import Store, TriggerStore
from collector.ui.login import make_invite

ROLES = ("viewer", "analyst", "owner")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
# Views a share link may open; people and sessions only when the owner says so, replays never.
SHARE_VIEWS = ("overview", "paths", "retention", "commerce", "surveys", "funnel")
PEOPLE_VIEWS = ("people", "sessions")
MAX_SHARE_DAYS = 366
DAY_S = 86400


_funnel_request = msgspec.json.Decoder(FunnelRequest)


def _id(request: Request) -> int:
    raw = request.path_params["id"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ClientError(400, "an id is a number")
    return int(raw)


def _owner_of(request: Request, site_id: str) -> None:
    if who(request).rank(site_id) < RANK[OWNER]:
        raise ClientError(403, f"this needs the owner role on site {site_id!r}")


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- who am I -----------------------------------------------------------------------------------

@api(VIEWER, ANY)
def me(request: Request) -> Any:
    principal = who(request)
    return {"kind": principal.kind, "name": principal.name, "roles": principal.roles}


# -- members ------------------------------------------------------------------------------------

class Invite(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    role: str
    site: str | None = None


@api(OWNER)
def members(request: Request) -> Any:
    site_id = site_param(request)
    people = [
        {"id": a["id"], "email": a["email"], "active": a["active"],
         "role": a["roles"].get(site_id) or a["roles"].get(EVERY_SITE)}
        for a in request.app.state.store.accounts()
    ]
    return {"members": [p for p in people if p["role"]]}


@api_post(OWNER)
def invite(request: Request, body: bytes) -> Any:
    ask = decode_json(body, Invite)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    email = ask.email.strip().lower()
    if not EMAIL.fullmatch(email):
        raise ClientError(400, "email must look like name@example.com")
    if ask.role not in ROLES:
        raise ClientError(400, f"role must be one of {', '.join(ROLES)}")
    token = make_invite(request.app.state.store, email, {site_id: ask.role})
    return {"email": email, "role": ask.role, "site": site_id, "invite_url": f"{base_url(request)}/invite/{token}"}


@api_post(OWNER)
def remove_member(request: Request, body: bytes) -> Any:
    site_id = site_param(request)
    account_id = _id(request)
    store: Store = request.app.state.store
    found = store.account(account_id)
    if found is None or site_id not in found["roles"]:
        raise ClientError(404, f"no member {account_id} on site {site_id!r}")
    store.set_role(account_id, site_id, None)
    return {"removed": account_id, "site": site_id}


# -- API keys -----------------------------------------------------------------------------------

class NewKey(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    role: str
    site: str | None = None


@api(OWNER, ANY)
def keys(request: Request) -> Any:
    principal = who(request)
    shown = [k for k in request.app.state.store.api_keys() if principal.rank(k["site"]) >= RANK[OWNER]]
    return {"keys": shown}


@api_post(OWNER)
def add_key(request: Request, body: bytes) -> Any:
    ask = decode_json(body, NewKey)
    site_id = ask.site or site_param(request)
    if site_id != EVERY_SITE:
        site_settings(request, site_id)
    _owner_of(request, site_id)  # '*' is every site: only an owner of every site may make one
    if ask.role not in ROLES:
        raise ClientError(400, f"role must be one of {', '.join(ROLES)}")
    if not 1 <= len(ask.name.strip()) <= 100:
        raise ClientError(400, "name must be 1 to 100 characters")
    key = new_api_key()
    made = request.app.state.store.add_api_key(ask.name.strip(), key_hash(key), ask.role, site_id)
    return {**made, "key": key}  # shown once: the store keeps its hash only


@api_post(OWNER, ANY)
def revoke_key(request: Request, body: bytes) -> Any:
    key_id = _id(request)
    store: Store = request.app.state.store
    found = next((k for k in store.api_keys() if k["id"] == key_id), None)
    if found is None:
        raise ClientError(404, f"no key {key_id}")
    _owner_of(request, found["site"])
    store.revoke_api_key(key_id)
    return {"revoked": key_id}


# -- share links --------------------------------------------------------------------------------

class NewShare(msgspec.Struct, forbid_unknown_fields=True):
    view: str
    site: str | None = None
    days: int = 30  # how long the link works
    params: dict[str, str] = {}
    people: bool = False


def _share_mac(secret: str, share_id: str, expires_at: int) -> str:
    return hmac.new(secret.encode(), f"share:{share_id}:{expires_at}".encode(), hashlib.sha256).hexdigest()[:32]


def share_token(secret: str, share: dict[str, Any]) -> str:
    return f"{share['id']}.{_share_mac(secret, share['id'], share['expires_at'])}"


def open_share(request: Request, token: str) -> dict[str, Any]:
    """The share a token names, if its signature is right and it is neither expired nor revoked."""
    share_id, _, mac = token.partition(".")
    if not re.fullmatch(r"[A-Za-z0-9_-]{22}", share_id) or not re.fullmatch(r"[0-9a-f]{32}", mac):
        raise ClientError(404, "no such share link")
    found: dict[str, Any] | None = request.app.state.store.share(share_id)
    if found is None or not hmac.compare_digest(
            mac, _share_mac(request.app.state.settings.admin_token, share_id, found["expires_at"])):
        raise ClientError(404, "no such share link")
    if found["revoked"]:
        raise ClientError(410, "this share link was revoked")
    if found["expires_at"] < time.time():
        raise ClientError(410, "this share link has expired")
    return found


@api(OWNER)
def shares(request: Request) -> Any:
    secret = request.app.state.settings.admin_token
    return {"shares": [{**s, "url": f"{base_url(request)}/share/{share_token(secret, s)}"}
                       for s in request.app.state.store.shares(site_param(request))]}


@api_post(OWNER)
def add_share(request: Request, body: bytes) -> Any:
    ask = decode_json(body, NewShare)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    if ask.view not in SHARE_VIEWS + PEOPLE_VIEWS:
        views = ", ".join(SHARE_VIEWS + PEOPLE_VIEWS)
        raise ClientError(400, f"view must be one of {views} (replays are never shared)")
    if ask.view in PEOPLE_VIEWS and not ask.people:
        raise ClientError(400, f"a {ask.view} view shows people: send \"people\": true to allow it")
    if not 1 <= ask.days <= MAX_SHARE_DAYS:
        raise ClientError(400, f"days must be from 1 to {MAX_SHARE_DAYS}")
    params = {k: v for k, v in ask.params.items() if k not in ("site",)}
    if ask.view == "funnel":
        try:
            _funnel(params)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ClientError(400, f"a funnel share needs params.steps, the funnel's steps as JSON: {exc}") from None
    store: Store = request.app.state.store
    made = store.add_share(secrets.token_urlsafe(16), site_id, ask.view, params, ask.people,
                           int(time.time()) + ask.days * DAY_S)
    secret = request.app.state.settings.admin_token
    return {**made, "url": f"{base_url(request)}/share/{share_token(secret, made)}"}


@api_post(OWNER)
def revoke_share(request: Request, body: bytes) -> Any:
    share_id = request.path_params["id"]
    if not request.app.state.store.revoke_share(site_param(request), share_id):
        raise ClientError(404, f"no share link {share_id!r} on this site")
    return {"revoked": share_id}


def _funnel(params: dict[str, str]) -> FunnelRequest:
    window = params.get("window_s", "86400")
    body = b'{"steps":' + params.get("steps", "").encode() + b',"window_s":' + (
        window.encode() if window.isdigit() else b'"x"') + b"}"
    return _funnel_request.decode(body)


def _shared_params(share: dict[str, Any]) -> dict[str, str]:
    """The share's saved filters; a `last_days` range rolls with today, as the owner saw it."""
    params = dict(share["params"])
    if "last_days" in params and params["last_days"].isdigit():
        today = dt.datetime.now(dt.UTC).date()
        params["from"] = (today - dt.timedelta(days=min(int(params.pop("last_days")), 365) - 1)).isoformat()
        params["to"] = today.isoformat()
    return params


def shared_data(request: Request, share: dict[str, Any]) -> dict[str, Any]:
    """What a share link shows: its view over its site with its saved parameters, nothing the
    visitor's URL says (no site, no range, no filter from the query string counts)."""
    store: Store = request.app.state.store
    site_id, view, params = share["site"], share["view"], _shared_params(share)
    charted = view in ("overview", "commerce", "surveys")
    scope = scope_of(request, params=params, site_id=site_id, charted=charted)
    if view == "overview":
        data = store.overview(scope)
        data.pop("commerce_seen", None)
    elif view == "paths":
        from_url = params.get("from_url") or store.top_page(scope) or "/"
        data = {**store.paths(scope, from_url, 3), "from_url": from_url}
    elif view == "retention":
        data = store.retention(scope, 8)
    elif view == "commerce":
        data = store.commerce(scope)
    elif view == "surveys":
        data = store.surveys(scope, params.get("survey_id"))
    elif view == "funnel":
        ask = _funnel(params)
        data = store.funnel(scope, ask.steps, ask.window_s)
    elif view == "people" and share["people"]:
        data = store.people(scope, sort="last_seen", descending=True, limit=50, offset=0)
    elif view == "sessions" and share["people"]:
        data = store.sessions_page(scope, limit=50, cursor=None)
    else:
        raise ClientError(404, "no such share link")
    name = next((s.name for s in store.sites() if s.id == site_id), site_id)
    return {"view": view, "site": {"id": site_id, "name": name}, "expires_at": share["expires_at"], "data": data}


@public
def shared(request: Request) -> Any:
    """The JSON of a share link: the token is the whole credential, and it opens this one view."""
    share = open_share(request, request.path_params["token"])
    return reply(request, shared_data(request, share), headers={"Cache-Control": "private, no-store"})


# -- scheduled reports and alerts ---------------------------------------------------------------

class NewSchedule(msgspec.Struct, forbid_unknown_fields=True):
    kind: str  # report or alert
    recipients: list[str] = []
    site: str | None = None
    period: str = "weekly"  # a report's
    metric: str | None = None  # an alert's, with one or more of above, below, change
    above: float | None = None
    below: float | None = None
    change: float | None = None
    webhook: str | None = None  # an alert's: a URL to POST to, signed as trigger webhooks are


def _triggers(store: Store) -> TriggerStore:
    """The store as the keeper of webhook rules (an alert's webhook is one)."""
    from collector.triggers.service import supported

    if not supported(store):
        raise ClientError(501, f"webhooks are not available on the {store.engine} store yet")
    return cast("TriggerStore", store)


def _webhook(store: Store, schedule: dict[str, Any]) -> dict[str, Any] | None:
    """An alert's webhook as its trigger rule stands (URL, enabled, why disabled), or None."""
    rule_id = schedule["settings"].get("webhook")
    rule = None if rule_id is None else _triggers(store).trigger_rule(schedule["site"], rule_id)
    if rule is None:
        return None
    return {key: rule[key] for key in ("id", "url", "enabled", "disabled_reason")}


@api(OWNER)
def schedules(request: Request) -> Any:
    store: Store = request.app.state.store
    found = store.schedules(site_param(request))
    return {"schedules": [{**s, "webhook": _webhook(store, s)} for s in found],
            "smtp": request.app.state.settings.smtp_url is not None}


@api_post(OWNER)
def add_schedule(request: Request, body: bytes) -> Any:
    from collector.api.triggers import check_url
    from collector.schedules import ALERT_METRICS, PERIODS
    from collector.triggers import alerts, signing

    ask = decode_json(body, NewSchedule)
    site_id = ask.site or site_param(request)
    site_settings(request, site_id)
    recipients = [r.strip().lower() for r in ask.recipients]
    if len(recipients) > 20 or not all(EMAIL.fullmatch(r) for r in recipients):
        raise ClientError(400, "recipients must be 1 to 20 e-mail addresses")
    if ask.kind == "report":
        if not recipients:
            raise ClientError(400, "recipients must be 1 to 20 e-mail addresses")
        if ask.webhook is not None:
            raise ClientError(400, "a webhook is for alerts; reports go by e-mail")
        if ask.period not in PERIODS:
            raise ClientError(400, f"period must be one of {', '.join(PERIODS)}")
        settings: dict[str, Any] = {"period": ask.period}
    elif ask.kind == "alert":
        if ask.metric not in ALERT_METRICS:
            raise ClientError(400, f"metric must be one of {', '.join(ALERT_METRICS)}")
        if ask.above is None and ask.below is None and ask.change is None:
            raise ClientError(400, "an alert needs above, below or change (a share such as 0.3)")
        if ask.change is not None and not 0 < ask.change <= 10:
            raise ClientError(400, "change is a share above 0, such as 0.3 for 30%")
        if not recipients and ask.webhook is None:
            raise ClientError(400, "an alert needs recipients (1 to 20 e-mail addresses), a webhook URL or both")
        settings = {"metric": ask.metric, "above": ask.above, "below": ask.below, "change": ask.change}
    else:
        raise ClientError(400, "kind must be report or alert")
    store: Store = request.app.state.store
    if ask.webhook is None:
        return store.add_schedule(site_id, ask.kind, recipients, settings)
    kept = _triggers(store)
    check_url(request, ask.webhook)
    secret = signing.new_secret()
    rule = kept.create_trigger_rule(site_id, alerts.new_rule(settings, ask.webhook), secret)
    try:
        made = store.add_schedule(site_id, ask.kind, recipients, {**settings, "webhook": rule["id"]})
    except BaseException:
        kept.delete_trigger_rule(site_id, rule["id"])  # no webhook rule without its alert
        raise
    # The secret is shown here once, as a trigger's is; the API never returns it again.
    return {**made, "webhook": _webhook(store, made), "secret": secret}


@api_post(OWNER)
def delete_schedule(request: Request, body: bytes) -> Any:
    schedule_id, site_id = _id(request), site_param(request)
    store: Store = request.app.state.store
    found = next((s for s in store.schedules(site_id) if s["id"] == schedule_id), None)
    if found is None or not store.delete_schedule(site_id, schedule_id):
        raise ClientError(404, f"no report or alert {schedule_id} on this site")
    if found["settings"].get("webhook") is not None:  # its webhook rule and delivery log go with it
        _triggers(store).delete_trigger_rule(site_id, found["settings"]["webhook"])
    return {"deleted": schedule_id}


@api_post(OWNER)
def send_schedule(request: Request, body: bytes) -> Any:
    """Send one report or alert now (an alert only if its rule holds), to check the set-up."""
    from collector.schedules import Smtp, alert_mail, check_alert, report, summary
    from collector.triggers import alerts

    schedule_id, site_id = _id(request), site_param(request)
    store: Store = request.app.state.store
    found = next((s for s in store.schedules(site_id) if s["id"] == schedule_id), None)
    if found is None:
        raise ClientError(404, f"no report or alert {schedule_id} on this site")
    smtp_url = request.app.state.settings.smtp_url
    if smtp_url is None and found["recipients"]:
        raise ClientError(409, "no SMTP server is set: TRAILMARK_SMTP_URL (docs/dashboard.md)")
    now = time.time()
    answer: dict[str, Any] = {"sent": True}
    if found["kind"] == "report":
        mail = report(store, site_id, found["settings"]["period"], now)
    else:
        reading = check_alert(store, found, now)
        if reading is None:
            return {"sent": False, "why": "the alert's rule does not hold for yesterday"}
        site_name = next(s.name for s in store.sites() if s.id == site_id)
        mail = alert_mail(site_name, reading)
        if found["settings"].get("webhook") is not None:
            # False when this day's reading was queued already (its delivery log shows it) or
            # the webhook is disabled.
            answer["webhook_queued"] = alerts.queue(store, found, reading, summary(site_name, reading), now)
    answer["subject"] = mail[0]
    if found["recipients"]:
        assert smtp_url is not None
        try:
            Smtp.parse(smtp_url).send(found["recipients"], *mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise ClientError(502, f"the SMTP server refused or could not be reached: {exc}") from None
    return answer


routes = [
    Route("/reports", returns(a.Schedules, schedules)),
    Route("/reports", returns(a.Schedule, add_schedule), methods=["POST"]),
    Route("/reports/{id}", returns(a.Deleted, delete_schedule), methods=["DELETE"]),
    Route("/reports/{id}/send", returns(a.Sent, send_schedule), methods=["POST"]),
    Route("/me", returns(a.Me, me)),
    Route("/members", returns(a.Members, members)),
    Route("/members", returns(a.Invited, invite), methods=["POST"]),
    Route("/members/{id}", returns(a.MemberRemoved, remove_member), methods=["DELETE"]),
    Route("/keys", returns(a.ApiKeys, keys)),
    Route("/keys", returns(a.NewApiKey, add_key), methods=["POST"]),
    Route("/keys/{id}", returns(a.Revoked, revoke_key), methods=["DELETE"]),
    Route("/shares", returns(a.Shares, shares)),
    Route("/shares", returns(a.Share, add_share), methods=["POST"]),
    Route("/shares/{id}", returns(a.Revoked, revoke_share), methods=["DELETE"]),
    Route("/shared/{token}", returns(a.Shared, shared)),
]
