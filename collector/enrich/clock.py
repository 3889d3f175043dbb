"""Clock skew: client times moved onto the server clock, with limits on how old they may be."""

from __future__ import annotations

DAY_MS = 86_400_000
# Older events (after correction) go to dead letters: offline queues rarely hold a week, and
# accepting them would rewrite sessions and metrics that analysts already read.
MAX_AGE_MS = 7 * DAY_MS
TOO_OLD = "ts too old"


def correct_ts(ts: int, sent_at: int | None, received_at: int) -> int:
    """`ts` shifted by the client's clock offset (received_at - sent_at); never in the future."""
    corrected = ts if sent_at is None else ts + (received_at - sent_at)
    return min(corrected, received_at)


def ts_problem(corrected: int, received_at: int, max_age_ms: int = MAX_AGE_MS) -> str | None:
    """Why an event's corrected time is unacceptable ("ts too old"), or None when it is fine."""
    if received_at - corrected > max_age_ms:
        return TOO_OLD
    return None
