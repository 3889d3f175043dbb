"""A site's settings: its conversion goal, its currency, whether it is a shop, its time zone,
whether the collector keeps copies of the assets its recordings load.

Set from `trailmark sites set` or PATCH/POST /api/sites/{id} (the dashboard's settings page);
kept in the site's `settings` JSON beside its other settings.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType
from starlette.requests import Request
from starlette.routing import Route

from collector.access import ANY, OWNER, PATH, VIEWER, api, api_post, who
from collector.api.base import decode_json
from collector.auth import RANK
from collector.errors import ClientError
from collector.query import answers as a
from collector.query.days import UTC, Calendar, check_zone
from collector.replies import returns

Goal = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
Zone = Annotated[str, Meta(max_length=64, description="IANA time zone name, e.g. America/New_York")]
FIELDS = ("goal", "currency", "shop", "timezone", "replay_assets")


class SettingsChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields left out are kept; null resets one (goal: purchase, currency: none, shop: decided by
    the data, timezone: UTC, replay_assets: on)."""

    goal: Goal | None | UnsetType = UNSET
    currency: Currency | None | UnsetType = UNSET
    shop: bool | None | UnsetType = UNSET
    replay_assets: bool | None | UnsetType = UNSET
    # the zone whose midnights bound and group every day of the site's reports (query/days.py)
    timezone: Zone | None | UnsetType = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.timezone, str):
            check_zone(self.timezone)  # its ValueError is the client's 400, with the field's path

    def changes(self) -> dict[str, object]:
        changed = {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not UNSET}
        if changed.get("goal") == "purchase":
            changed["goal"] = None  # the default, stored as no setting
        if changed.get("replay_assets") is True:
            changed["replay_assets"] = None  # on is the default
        if changed.get("timezone") == UTC:
            changed["timezone"] = None
        return changed


def public(settings: dict[str, object]) -> dict[str, Any]:
    """The analysis settings as the API shows them, defaults filled in."""
    return {
        "goal": settings.get("goal") or "purchase",
        "currency": settings.get("currency"),
        "shop": settings.get("shop") if isinstance(settings.get("shop"), bool) else None,
        "timezone": Calendar.of_site(settings).zone,
        "replay_assets": settings.get("replay_assets") is not False,
    }


def is_shop(settings: dict[str, object], commerce_seen: bool) -> bool:
    """A shop by setting, else when the data has cart adds or orders."""
    shop = settings.get("shop")
    return shop if isinstance(shop, bool) else commerce_seen


@api(VIEWER, ANY)
def sites(request: Request) -> Any:
    return {
        "sites": [
            {"id": s.id, "name": s.name, "write_key": s.write_key, "origins": list(s.origins),
             "settings": public(s.settings)}
            for s in request.app.state.store.sites() if who(request).rank(s.id) >= RANK[VIEWER]
        ]
    }


@api_post(OWNER, PATH)
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
