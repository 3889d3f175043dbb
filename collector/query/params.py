"""Parsing the analyst API's common parameters into plain values, with clear 400s."""

from __future__ import annotations

import datetime as dt

from collector.errors import ClientError
from collector.query.days import DAY_MS, HOUR_MS, MAX_MS, UTC_DAYS, Calendar

# With `interval=auto` (the dashboard's), ranges up to this long are charted by the hour; the
# extra hour keeps two local days hourly when one of them is 25 hours long (clocks fall back).
HOURLY_UP_TO_MS = 2 * DAY_MS + HOUR_MS
MAX_DAYS = 1000  # a daily series longer than this is not a chart anyone reads
__all__ = ["DAY_MS", "HOUR_MS", "MAX_DAYS", "MAX_MS", "time_bound", "time_range"]


def time_bound(value: str | None, *, end: bool, calendar: Calendar = UTC_DAYS) -> int | None:
    """`YYYY-MM-DD` (a day of the site's time zone; an end date includes its whole day) or epoch
    ms; None when absent."""
    if value is None or value == "":
        return None
    if value.isascii() and value.isdigit():  # str.isdigit() alone also admits "²", which int() refuses
        ms = int(value)
        if ms > MAX_MS:  # SQLite integers are 64-bit: a larger bound would fail inside the query
            raise ClientError(400, f"bad time {value!r}: epoch ms past the year 2100")
        return ms + (1 if end else 0)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ClientError(400, f"bad date {value!r}: use YYYY-MM-DD or epoch ms") from None
    if not dt.date(1970, 1, 2) <= day <= dt.date(2099, 12, 30):  # the span epoch ms can hold
        raise ClientError(400, f"bad date {value!r}: between 1970-01-02 and 2099-12-30")
    return calendar.midnight(day + dt.timedelta(days=1) if end else day)


def time_range(start: str | None, end: str | None, calendar: Calendar = UTC_DAYS) -> tuple[int, int]:
    """[from, to) in epoch ms; open ends reach the beginning and end of time."""
    lo = time_bound(start, end=False, calendar=calendar)
    hi = time_bound(end, end=True, calendar=calendar)
    return (lo if lo is not None else 0, hi if hi is not None else 1 << 62)


def integer(value: str | None, default: int, *, name: str, lo: int = 0, hi: int = 1 << 31) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ClientError(400, f"{name} must be an integer") from None
    if not lo <= number <= hi:
        raise ClientError(400, f"{name} must be between {lo} and {hi}")
    return number


# The orders a list can be asked in: /api/sessions and /api/persons (`sort`, `order`).
SESSION_SORTS = ("time", "duration", "pages", "revenue")
PEOPLE_SORTS = ("last_seen", "first_seen", "sessions", "revenue", "purchases")


def sort_order(sort: str | None, order: str | None, allowed: tuple[str, ...]) -> tuple[str, bool]:
    """The sort key (the first allowed one by default) and whether it is descending (the default)."""
    sort = sort or allowed[0]
    if sort not in allowed:
        raise ClientError(400, f"sort must be one of {', '.join(allowed)}, not {sort!r}")
    order = order or "desc"
    if order not in ("asc", "desc"):
        raise ClientError(400, f"order must be asc or desc, not {order!r}")
    return sort, order == "desc"


def interval_width(value: str | None, start: int, end: int) -> int:
    """The series bucket in ms: `interval=day` (the default), `hour`, or `auto`: hours for ranges
    up to two days, else days."""
    if value in (None, "", "day"):
        return DAY_MS
    if value == "auto":
        return HOUR_MS if end - start <= HOURLY_UP_TO_MS else DAY_MS
    if value == "hour":
        if end - start > 31 * DAY_MS + HOUR_MS:
            raise ClientError(400, "interval=hour covers at most 31 days; use interval=day")
        return HOUR_MS
    raise ClientError(400, f"interval must be day, hour or auto, not {value!r}")
