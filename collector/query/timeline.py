"""A person's 360 timeline: one line across channels, the same on every engine.

An engine hands over the person's sessions and their newest contacts (events off the web, and
every order and survey answer) as the API shows them; this module lays them out.
"""

from __future__ import annotations

from typing import Any

# The newest entries of a 360 timeline; a busy customer's older contacts are in their sessions.
TIMELINE_LIMIT = 500
# What stands on the timeline alone even when it happened on the web.
CONTACT_TYPES = ("purchase", "survey")


def timeline(sessions: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Oldest first: each web visit (with its replay) as one entry, and every contact elsewhere (a
    call, an email, a store purchase) and every order and answer alone. `contacts` come newest
    first (ties: the later stored first), at most TIMELINE_LIMIT of them."""
    visits = [
        {"entry": "visit", "ts": s["first_ts"], "touchpoint": "web", "session_id": s["id"],
         "pageviews": s["pageviews"], "duration_ms": s["duration_ms"], "entry_url": s["entry_url"],
         "channel": s["channel"], "has_replay": bool(s["has_replay"])}
        for s in sessions if s["pageviews"]
    ]
    entries = visits + [{**c, "entry": "contact"} for c in contacts]
    return sorted(entries, key=lambda e: e["ts"], reverse=True)[:TIMELINE_LIMIT][::-1]
