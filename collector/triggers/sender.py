"""One webhook POST: the documented payload, signed, to an address that passed the guard."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from collector.triggers import alerts, netguard, signing
from collector.triggers.outbox import Outgoing
from collector.triggers.rules import ALERT
from collector.wire import json_encoder

USER_AGENT = "Trailmark-Webhooks/1"
# A response bigger than this is not read: only its status matters.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    code: int | None  # the HTTP status, None when no response came
    error: str | None
    retry_after: float | None  # seconds, from a 429 or 503's Retry-After
    latency_ms: int
    refused: bool = False  # the URL may not be called: retrying will not help


def payload(item: Outgoing, base_url: str) -> dict[str, Any]:
    """The JSON a receiver gets (docs/triggers.md describes every field)."""
    if item.kind == ALERT:
        return alerts.payload(item, base_url)
    site = quote(item.site_id, safe="")
    person = quote(item.visitor_id, safe="")
    session = None
    if item.session_id is not None:
        sid = quote(item.session_id, safe="")
        session = {
            "id": item.session_id,
            "url": f"{base_url}/sessions/{sid}?site={site}",
            "replay_url": f"{base_url}/sessions/{sid}/replay?site={site}",
        }
    return {
        "id": item.id,
        "type": "trigger.fired",
        "fired_at": item.fired_at,
        "rule": {"id": item.rule_id, "name": item.rule_name, "kind": item.kind},
        "site": item.site_id,
        "person": {"id": item.visitor_id, "url": f"{base_url}/people/{person}?site={site}"},
        "session": session,
        "events": item.events,
    }


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def post(item: Outgoing, *, base_url: str, allow_private: bool, timeout: float) -> Outcome:
    """Send one attempt of a delivery; never raises for what the network or receiver does."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        # Resolved and checked on every attempt: the name may point elsewhere since the last.
        target = netguard.resolve(item.url, allow_private=allow_private)
    except netguard.Refused as exc:
        return Outcome(None, f"refused: {exc}", None, elapsed(), refused=True)
    body = json_encoder.encode(payload(item, base_url))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.DELIVERY_HEADER: item.id,
        signing.HEADER: signing.signature(item.secret, int(time.time()), body),
    }
    conn = netguard.connection(target, timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return Outcome(response.status, None, retry_after(response.getheader("Retry-After")), elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:300], None, elapsed())
    finally:
        conn.close()
