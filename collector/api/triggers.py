"""Journey triggers under /api/triggers: rules per site, their delivery log; admin only."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from collector.access import OWNER, api, api_post
from collector.api.base import decode_json, site_param, site_settings
from collector.errors import ClientError, json_response
from collector.query.params import integer
from collector.triggers import netguard, signing
from collector.triggers.rules import NewRule, RuleChange, check_spec
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


def _check_url(request: Request, url: str) -> None:
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
    _check_url(request, new.url)
    secret = signing.new_secret()
    rule = store.create_trigger_rule(site_id, new, secret)
    # The secret is shown here once; the API never returns it again.
    return json_response({**rule, "secret": secret}, 201)


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
        _check_url(request, str(changes["url"]))
    rule = request.app.state.store.update_trigger_rule(site_param(request), rule_id, changes)
    if rule is None:
        raise ClientError(404, f"no trigger {rule_id} for this site")
    return rule


@api_post(OWNER)
def delete_rule(request: Request, body: bytes) -> Any:
    _available(request)
    rule_id = _rule_id(request)
    if not request.app.state.store.delete_trigger_rule(site_param(request), rule_id):
        raise ClientError(404, f"no trigger {rule_id} for this site")
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
    Route("/triggers", list_rules),
    Route("/triggers", create_rule, methods=["POST"]),
    Route("/triggers/{id}", get_rule),
    Route("/triggers/{id}", update_rule, methods=["PATCH"]),
    Route("/triggers/{id}", delete_rule, methods=["DELETE"]),
    Route("/triggers/{id}/deliveries", deliveries),
]
