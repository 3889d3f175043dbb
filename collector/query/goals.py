"""Goals: what counts as a conversion for a site, defined by the analyst, as plain data.

A goal is a pageview of a page pattern (`/thanks`, `/product/*`, `/order/:id`), an event type
(`checkout`, `survey`), or a custom event name (`signup`) with an optional property condition
(`plan` = `pro`). Every engine stores the definition as given and compiles it from `Goal`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from collector.errors import ClientError
from collector.query.scope import Goal
from collector.wire import EVENT_TYPES

MAX_GOALS = 50  # the overview counts every goal: a few queries each
PropKey = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.$-]{1,64}$")]


class Property(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    key: PropKey
    value: Annotated[str, Meta(max_length=256)]


class GoalDefinition(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """POST /api/goals: `kind` pageview (value: a page pattern), event (value: an event type) or
    custom (value: a custom event name, with an optional `property` condition)."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    kind: Literal["pageview", "event", "custom"]
    value: Annotated[str, Meta(min_length=1, max_length=500)]
    property: Property | None = None
    site: str | None = None

    def check(self) -> GoalDefinition:
        if self.kind == "event" and self.value not in EVENT_TYPES:
            raise ClientError(400, f"an event goal names an event type: {', '.join(EVENT_TYPES)}")
        if self.kind == "custom" and len(self.value) > 256:
            raise ClientError(400, "a custom event name is at most 256 characters")
        if self.property is not None and self.kind != "custom":
            raise ClientError(400, "only a custom event goal takes a property condition")
        return self

    def stored(self) -> dict[str, Any]:
        """The definition as a store keeps it (without the site)."""
        found: dict[str, Any] = {"kind": self.kind, "value": self.value}
        if self.property is not None:
            found["property"] = {"key": self.property.key, "value": self.property.value}
        return found


def goal_of(definition: dict[str, Any]) -> Goal:
    """The scope's Goal for a stored definition."""
    kind, value = definition["kind"], definition["value"]
    if kind == "pageview":
        return Goal("pageview", page=value)
    if kind == "event":
        return Goal(value)
    prop = definition.get("property")
    return Goal("track", value, prop=(prop["key"], prop["value"]) if prop else None)


def goal_id(value: str) -> int:
    """A goal id from a path or `goal=` parameter, or a 400."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ClientError(400, "a goal id is a number (see /api/goals)")
    return int(value)
