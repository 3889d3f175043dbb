"""Journey triggers under /api/triggers: rules per site, their delivery log; admin only."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import OWNER, api, api_post
from collector.api.base import decode_json, site_param, site_settings
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.params import integer
from collector.replies import Reply, returns
from collector.triggers import netguard, signing
from collector.triggers.rules import ALERT, NewRule, RuleChange, check_spec
from collector.triggers.service import supported


def _available(request: Request) -> None:
    store = request.app.state.store
    if not supported(store):
        raise ClientError(501, f"journey triggers are not available on the {store.engine} store yet")


def _rule_id(request: Request) -> int:
    text = request.path_params["id"]
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ClientError(400, "a trigger id is a number")
    return int(text)


def check_url(request: Request, url: str) -> None:
    """Refuse a URL the collector may not call, when it is set (it is checked again on every POST)."""
    try:
        netguard.resolve(url, allow_private=request.app.state.settings.webhooks.allow_private)
    except netguard.Refused as exc:
        raise ClientError(400, f"url refused: {exc}") from None


@api(OWNER)
def list_rules(request: Request) -> Any:
    _available(request)
    return {"triggers": request.app.state.store.trigger_rules(site_param(request))}


@api_post(OWNER)
def create_rule(request: Request, body: bytes) -> Any:
    _available(request)
    new = decode_json(body, NewRule)
    site_id = new.site or site_param(request)
    site_settings(request, site_id)
    spec = check_spec(new.spec())
    store = request.app.state.store
    if spec.segment is not None and store.segment_filters(site_id, spec.segment) is None:
        raise ClientError(400, f"no segment {spec.segment} for this site (see /api/segments)")
    check_url(request, new.url)
    secret = signing.new_secret()
    rule = store.create_trigger_rule(site_id, new, secret)
    # The secret is shown here once; the API never returns it again.
    return Reply({**rule, "secret": secret}, 201)


@api(OWNER)
def get_rule(request: Request) -> Any:
    _available(request)
    rule = request.app.state.store.trigger_rule(site_param(request), _rule_id(request))
    if rule is None:
        raise ClientError(404, f"no trigger {request.path_params['id']} for this site")
    return rule


@api_post(OWNER)
def update_rule(request: Request, body: bytes) -> Any:
    _available(request)
    rule_id = _rule_id(request)
    changes = decode_json(body, RuleChange).changes()
    if not changes:
        raise ClientError(400, "nothing to change: send name, url, enabled, cooldown_s, sample or max_per_hour")
    if "url" in changes:
        check_url(request, str(changes["url"]))
    rule = request.app.state.store.update_trigger_rule(site_param(request), rule_id, changes)
    if rule is None:
        raise ClientError(404, f"no trigger {rule_id} for this site")
    return rule


@api_post(OWNER)
def delete_rule(request: Request, body: bytes) -> Any:
    _available(request)
    rule_id, site_id = _rule_id(request), site_param(request)
    store = request.app.state.store
    found = store.trigger_rule(site_id, rule_id)
    if found is None:
        raise ClientError(404, f"no trigger {rule_id} for this site")
    if found["kind"] == ALERT:
        alert = next((s["id"] for s in store.schedules(site_id) if s["settings"].get("webhook") == rule_id), None)
        raise ClientError(409, f"trigger {rule_id} is the webhook of alert {alert}: delete the alert"
                               f" (DELETE /api/reports/{alert}) and its webhook goes with it")
    store.delete_trigger_rule(site_id, rule_id)
    return {"deleted": rule_id}


@api(OWNER)
def deliveries(request: Request) -> Any:
    _available(request)
    site_id, rule_id = site_param(request), _rule_id(request)
    limit = integer(request.query_params.get("limit"), 100, name="limit", lo=1, hi=1000)
    store = request.app.state.store
    if store.trigger_rule(site_id, rule_id) is None:
        raise ClientError(404, f"no trigger {rule_id} for this site")
    return {"deliveries": store.trigger_deliveries(site_id, rule_id, limit)}


routes = [
    Route("/triggers", returns(a.TriggerRules, list_rules)),
    Route("/triggers", returns(a.NewTriggerRule, create_rule, 201), methods=["POST"]),
    Route("/triggers/{id}", returns(a.TriggerRule, get_rule)),
    Route("/triggers/{id}", returns(a.TriggerRule, update_rule), methods=["PATCH"]),
    Route("/triggers/{id}", returns(a.Deleted, delete_rule), methods=["DELETE"]),
    Route("/triggers/{id}/deliveries", returns(a.TriggerDeliveries, deliveries)),
]
