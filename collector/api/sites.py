"""A site's analysis settings: its conversion goal, its currency, whether it is a shop.

Set from `trailmark sites set` or PATCH/POST /api/sites/{id} (the dashboard's settings page);
kept in the site's `settings` JSON beside its other settings.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from starlette.requests import Request
from starlette.routing import Route

from collector.api.base import admin, admin_post, decode_json, returns
from collector.errors import ClientError
from collector.query import answers as a

Goal = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
FIELDS = ("goal", "currency", "shop")


class SettingsChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out are kept; null resets one (goal: purchase, currency: none, shop: decided by the data)."""

    goal: Goal | None | UnsetType = UNSET
    currency: Currency | None | UnsetType = UNSET
    shop: bool | None | UnsetType = UNSET

    def changes(self) -> dict[str, object]:
        changed = {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not UNSET}
        if changed.get("goal") == "purchase":
            changed["goal"] = None  # the default, stored as no setting
        return changed


def public(settings: dict[str, object]) -> dict[str, Any]:
    """The analysis settings as the API shows them, defaults filled in."""
    return {
        "goal": settings.get("goal") or "purchase",
        "currency": settings.get("currency"),
        "shop": settings.get("shop") if isinstance(settings.get("shop"), bool) else None,
    }


def is_shop(settings: dict[str, object], commerce_seen: bool) -> bool:
    """A shop by setting, else when the data has cart adds or orders."""
    shop = settings.get("shop")
    return shop if isinstance(shop, bool) else commerce_seen


@admin
def sites(request: Request) -> Any:
    return {
        "sites": [
            {"id": s.id, "name": s.name, "write_key": s.write_key, "origins": list(s.origins),
             "settings": public(s.settings)}
            for s in request.app.state.store.sites()
        ]
    }


@admin_post
def update_site(request: Request, body: bytes) -> Any:
    changes = decode_json(body, SettingsChange).changes()
    if not changes:
        raise ClientError(400, f"nothing to change: send one of {', '.join(FIELDS)}")
    site = request.app.state.store.update_site_settings(request.path_params["id"], changes)
    if site is None:
        raise ClientError(404, f"no site {request.path_params['id']!r}")
    return {"id": site.id, "name": site.name, "settings": public(site.settings)}


routes = [
    Route("/sites", returns(a.Sites, sites)),
    Route("/sites/{id}", returns(a.SiteChanged, update_site), methods=["PATCH", "POST"]),
]
