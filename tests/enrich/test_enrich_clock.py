from __future__ import annotations

import pytest

from collector.enrich import MAX_AGE_MS, TOO_OLD, correct_ts, guess_sent_at, ts_problem

NOW = 1_763_892_000_000
DAY = 86_400_000


@pytest.mark.parametrize(
    ("ts", "sent_at", "received_at", "expected"),
    [
        # Accurate client clock: unchanged.
        (NOW - 5_000, NOW, NOW, NOW - 5_000),
        # Client clock 1 h slow: events move forward by an hour.
        (NOW - 3_600_000 - 5_000, NOW - 3_600_000, NOW, NOW - 5_000),
        # Client clock 2 h fast: events move back.
        (NOW + 7_200_000 - 5_000, NOW + 7_200_000, NOW, NOW - 5_000),
        # Network delay counts as skew (the same trade PostHog and Snowplow make).
        (NOW - 1_000, NOW - 1_000, NOW + 250, NOW + 250),
        # Event stamped after sent_at (bad client): clamped to the receive time.
        (NOW + 60_000, NOW, NOW, NOW),
        # No sent_at (p.gif, old SDKs): ts kept, future clamped.
        (NOW - 9_000, None, NOW, NOW - 9_000),
        (NOW + 9_000, None, NOW, NOW),
        # Offline queue: sent two days after the event happened.
        (NOW - 2 * DAY, NOW - 60_000, NOW, NOW - 2 * DAY + 60_000),
    ],
)
def test_correct_ts(ts: int, sent_at: int | None, received_at: int, expected: int) -> None:
    assert correct_ts(ts, sent_at, received_at) == expected


@pytest.mark.parametrize(
    ("corrected", "problem"),
    [
        (NOW, None),
        (NOW - DAY, None),
        (NOW - MAX_AGE_MS, None),
        (NOW - MAX_AGE_MS - 1, TOO_OLD),
        (0, TOO_OLD),
    ],
)
def test_ts_problem(corrected: int, problem: str | None) -> None:
    assert ts_problem(corrected, NOW) == problem


def test_max_age_is_seven_days_and_the_reason_reads_well() -> None:
    assert MAX_AGE_MS == 7 * DAY
    assert TOO_OLD == "ts too old"
    assert ts_problem(NOW - 2 * DAY, NOW, max_age_ms=DAY) == "ts too old"


@pytest.mark.parametrize(
    ("times", "guess"),
    [
        ([], None),
        # inside the age limit: taken at its word, even when old
        ([NOW - 6 * DAY, NOW - 6 * DAY + 5_000], None),
        # one event inside the limit: the batch is not a clock that jumped
        ([NOW - 400 * DAY, NOW - 1_000], None),
        # every event beyond the limit: the newest stands in for the send time
        ([NOW - 365 * DAY, NOW - 365 * DAY + 9_000], NOW - 365 * DAY + 9_000),
        ([0, 1], 1),
    ],
)
def test_guess_sent_at_only_for_a_batch_wholly_beyond_the_limit(times: list[int], guess: int | None) -> None:
    assert guess_sent_at(times, NOW) == guess
