"""An alert's webhook: a trigger rule of kind `alert`, made and deleted with its alert, that no
event fires.

When the alert's daily check finds an unusual reading (collector/schedules.py), it queues a
delivery for that rule in the triggers outbox. The journey triggers' machinery then applies
unchanged: the address guard before every attempt, the signature, retries with backoff and
Retry-After under one delivery id, the delivery log, disabling the rule after failures.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from collector.triggers.evaluate import Delivery, delivery_id
from collector.triggers.outbox import Outgoing
from collector.triggers.rules import ALERT, NewRule

if TYPE_CHECKING:
    from collector.schedules import Reading
    from collector.store import Store, TriggerStore


def describe(settings: dict[str, Any]) -> str:
    """The alert's rule in words, as its webhook rule is named: `visitors above 300 or below 50`."""
    parts = []
    if settings.get("above") is not None:
        parts.append(f"above {settings['above']:g}")
    if settings.get("below") is not None:
        parts.append(f"below {settings['below']:g}")
    if settings.get("change") is not None:
        parts.append(f"moves {settings['change'] * 100:g}% from usual")
    return f"{settings['metric']} {' or '.join(parts)}"


def new_rule(settings: dict[str, Any], url: str) -> NewRule:
    """The webhook rule of a new alert (its URL checked by the caller)."""
    return NewRule(name=f"Alert: {describe(settings)}"[:200], url=url, kind=ALERT)


def queue(store: Store, schedule: dict[str, Any], reading: Reading, summary: str, now: float) -> bool:
    """Queue the webhook of an alert that fired; False when its rule is disabled or gone, or this
    day's reading was queued already (the delivery id is made from the alert and the day read, so
    a second check of the same day, by a retry or another collector, queues nothing)."""
    from collector.triggers.service import supported

    rule_id = int(schedule["settings"]["webhook"])
    if not supported(store):
        return False
    settings = schedule["settings"]
    # Kept where a journey delivery keeps its events: one outbox row shape serves both kinds.
    body = {
        "alert": {
            "id": schedule["id"], "metric": reading.metric, "value": reading.value, "above": settings.get("above"),
            "below": settings.get("below"), "change": settings.get("change"), "usual": reading.usual,
            "reasons": reading.reasons,
        },
        "period": {"start": reading.start, "end": reading.end},
        "summary": summary,
    }
    at = int(now * 1000)
    delivery = Delivery(delivery_id(rule_id, ALERT, f"{schedule['id']}:{reading.start}"), rule_id,
                        schedule["site"], "", None, at, [body])
    return cast("TriggerStore", store).queue_trigger_delivery(delivery, at)


def payload(item: Outgoing, base_url: str) -> dict[str, Any]:
    """The JSON an alert's receiver gets (docs/triggers.md describes every field)."""
    (body,) = item.events
    site = quote(item.site_id, safe="")
    day = dt.datetime.fromtimestamp(body["period"]["start"] / 1000, dt.UTC).date().isoformat()
    return {
        "id": item.id,
        "type": "alert.fired",
        "fired_at": item.fired_at,
        "rule": {"id": item.rule_id, "name": item.rule_name, "kind": item.kind},
        "site": item.site_id,
        "alert": {**body["alert"], "url": f"{base_url}/reports?site={site}"},
        "period": {**body["period"], "day": day, "url": f"{base_url}/overview?site={site}&from={day}&to={day}"},
        "summary": body["summary"],
    }
