"""Clock skew: client times moved onto the server clock, with limits on how old they may be."""

from __future__ import annotations

from collector.query.definitions import DAY_MS

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


def guess_sent_at(times: list[int], received_at: int, max_age_ms: int = MAX_AGE_MS) -> int | None:
    """A stand-in for the missing `sent_at` of a batch whose every event lies beyond the age limit.

    Without `sent_at` a clock that jumped back (a dead RTC battery, a phone set to the wrong year)
    cannot be told from an offline queue, and refusing would lose the batch. Taking its newest
    `ts` as the send time moves the batch to the receive time and keeps the gaps between its
    events. A batch with any event inside the limit is taken at its word: None.
    """
    if not times:
        return None
    newest = max(times)
    return newest if received_at - newest > max_age_ms else None
