"""A site's days: the one definition of "a day" that every report bounds and groups by.

A day is the span between two local midnights of the site's time zone (an IANA name, UTC by
default), in UTC epoch ms: 24 hours most days, 23 on the day clocks spring forward and 25 on the
day they fall back. Days are numbered like UTC days (day 0 is 1970-01-01, local), so a UTC site's
day numbers are plain `ts // DAY_MS` and its rollups (kept by UTC day) still answer it.

SQL engines cannot all convert time zones (SQLite cannot), so a query groups by the local clock
as `ts + offset`, where the offset is a CASE over the few UTC instants at which it changes inside
the range asked about: the same SQL text on every engine, hence the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MAX_MS = 4_102_444_800_000  # 2100-01-01, as in the wire protocol
UTC = "UTC"
_EPOCH = dt.date(1970, 1, 1).toordinal()
# Offsets are sampled this far apart and the changes found between samples by bisection: time
# zone rules change offsets months apart (DST, or a country moving zone), never twice in a week.
_STEP_MS = 7 * DAY_MS


def check_zone(name: str) -> str:
    """The IANA time zone name as given, or ValueError saying why it is not one."""
    if not name or len(name) > 64 or name != name.strip() or "\\" in name or name.startswith("/"):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris")
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris") from None
    return name


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Calendar:
    """The days of one time zone."""

    zone: str = UTC

    @classmethod
    def of_site(cls, settings: Mapping[str, object]) -> Calendar:
        """settings["timezone"] (checked when it was set); UTC without one."""
        name = settings.get("timezone")
        return cls(name) if isinstance(name, str) and name else cls()

    @property
    def is_utc(self) -> bool:
        return self.zone == UTC

    def offset(self, ts: int) -> int:
        """The zone's offset from UTC at instant `ts`, in ms."""
        if self.is_utc:
            return 0
        moment = dt.datetime.fromtimestamp(min(max(ts, 0), MAX_MS) / 1000, _zone(self.zone))
        delta = moment.utcoffset()
        return int(delta.total_seconds() * 1000) if delta else 0

    # ---- days as numbers and dates ----

    def day_of(self, ts: int) -> int:
        """The local day number holding instant `ts`."""
        return (ts + self.offset(ts)) // DAY_MS

    def date(self, day: int) -> dt.date:
        return dt.date.fromordinal(day + _EPOCH)

    def day_name(self, day: int) -> str:
        return self.date(day).isoformat()

    def midnight(self, date: dt.date) -> int:
        """The UTC instant (ms) at which local `date` begins."""
        if self.is_utc:
            return (date.toordinal() - _EPOCH) * DAY_MS
        # A midnight skipped by a DST jump (fold 0 takes the offset before it) is the jump itself,
        # when the day truly begins.
        local = dt.datetime(date.year, date.month, date.day, tzinfo=_zone(self.zone))
        return int(local.timestamp() * 1000)

    def day_start(self, day: int) -> int:
        return self.midnight(self.date(day))

    def span(self, first: dt.date, last: dt.date) -> tuple[int, int]:
        """[start, end) in UTC ms of the local dates first..last (inclusive)."""
        return self.midnight(first), self.midnight(last + dt.timedelta(days=1))

    def days(self, start: int, end: int) -> range:
        """The local day numbers that [start, end) touches."""
        return range(self.day_of(start), self.day_of(max(start, end - 1)) + 1)

    def whole_days(self, start: int, end: int) -> bool:
        """Whether [start, end) begins and ends on local midnights."""
        if not 0 <= start < end <= MAX_MS:
            return False
        return start == self.day_start(self.day_of(start)) and end == self.day_start(self.day_of(end))

    # ---- buckets of a series: local days, or hours ----

    def bucket(self, ts: int, width: int) -> int:
        return (ts + self._shift(self.offset(ts), width)) // width

    def buckets(self, start: int, end: int, width: int) -> range:
        """The bucket numbers of a series over [start, end): every local day, or every hour."""
        if width == DAY_MS:
            return self.days(start, end)
        return range(self.bucket(start, width), self.bucket(max(start, end - 1), width) + 1)

    def bucket_label(self, bucket: int, width: int) -> dict[str, str]:
        """A series point's label: `date` for a day; `hour` for an hour, its local start in ISO
        with the offset (Z in UTC), so the two 01:00 hours of a night clocks fall back differ."""
        if width == DAY_MS:
            return {"date": self.day_name(bucket)}
        guess = bucket * width
        start = guess - self._shift(self.offset(guess), width)
        moment = dt.datetime.fromtimestamp(start / 1000, dt.UTC if self.is_utc else _zone(self.zone))
        if self.is_utc:
            return {"hour": moment.strftime("%Y-%m-%dT%H:%MZ")}
        return {"hour": moment.isoformat(timespec="minutes")}

    @staticmethod
    def _shift(offset: int, width: int) -> int:
        # An hour bucket moves only by the part of the offset that is not whole hours (India's
        # +05:30), so that the 25 hours of a day clocks fall back stay 25 buckets.
        return offset if width == DAY_MS else offset % HOUR_MS

    # ---- the same in SQL ----

    def changes(self, start: int, end: int) -> list[tuple[int, int]]:
        """The offset over [start, end) as pieces (until, offset): each offset holds before `until`
        (the last piece's `until` is `end`)."""
        end = min(end, MAX_MS)
        if self.is_utc or start >= end:
            return [(end, 0)]
        pieces: list[tuple[int, int]] = []
        at, current = start, self.offset(start)
        while at < end - 1:
            probe = min(at + _STEP_MS, end - 1)  # the last instant inside is end - 1
            if self.offset(probe) != current:
                lo, hi = at, probe  # offset(lo) == current != offset(hi): the change is in (lo, hi]
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if self.offset(mid) == current else (lo, mid)
                pieces.append((hi, current))
                at, current = hi, self.offset(hi)
                continue
            at = probe
        pieces.append((end, current))
        return pieces

    def zero_offset(self, start: int, end: int) -> bool:
        """Whether local time is UTC over all of [start, end): then UTC-day rollups answer it."""
        return self.is_utc or all(offset == 0 for _, offset in self.changes(start, end))

    def local_sql(self, column: str, start: int, end: int, width: int = DAY_MS) -> str:
        """SQL for `column` (UTC ms within [start, end)) moved onto the local clock, so that the
        engine's integer division by `width` gives `bucket()`."""
        pieces: list[tuple[int, int]] = []
        for until, offset in self.changes(start, end):
            shift = self._shift(offset, width)
            if pieces and pieces[-1][1] == shift:  # hours: DST moves whole hours, no bucket shift
                pieces[-1] = (until, shift)
            else:
                pieces.append((until, shift))
        if len(pieces) == 1:
            return f"({column} + {int(pieces[0][1])})" if pieces[0][1] else column
        cases = " ".join(f"WHEN {column} < {int(until)} THEN {int(offset)}" for until, offset in pieces[:-1])
        return f"({column} + CASE {cases} ELSE {int(pieces[-1][1])} END)"


UTC_DAYS = Calendar()  # the days of a site without a time zone
