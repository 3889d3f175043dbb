"""The scope every analyst question runs in: site, range, bots, session filters, as plain data.

One rule for every endpoint: a session belongs to the range in which it starts, with all of its
events (a session over midnight counts on the day it began). Filters are validated here once;
each store engine compiles them to its own SQL in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from urllib.parse import urlsplit

from collector.errors import ClientError
from collector.query.days import DAY_MS, UTC_DAYS, Calendar
from collector.query.definitions import yes_no
from collector.wire import EVENT_TYPES

# Filter name -> what it takes; docs/api.md lists them for the dashboard.
FILTERS = (
    "country", "region", "device", "browser", "os", "page", "entry", "exit", "referrer", "channel",
    "campaign", "source", "converted", "abandoned", "replay", "frustrated", "min_duration", "user",
    "visitor", "clicked", "error", "experiment", "variant", "outcome",
)
# outcome=: the label the likely-outcome model gave the session's person (query/outcome.py).
OUTCOMES = ("likely", "at_risk")
# Filters that compare a session column with the value as given; NONE matches an empty column.
COLUMN_FILTERS = (
    "country", "region", "device", "browser", "os", "channel", "campaign", "source", "user", "visitor",
)
# Filters on a page of the session: any pageview (`page`), the first one (`entry`), the last (`exit`).
PAGE_FILTERS = ("page", "entry", "exit")
# The value a breakdown shows for sessions without one (a direct visit has no referrer).
NONE = "(none)"
# Filters that hold or negate a session property: converted=1, abandoned=0...
FLAG_FILTERS = ("converted", "abandoned", "replay", "frustrated")


@dataclass(frozen=True)
class Goal:
    """The event that counts as a conversion: a purchase unless the site or a chosen goal names another.

    `page` narrows pageviews to a page pattern; `prop` = (key, value) asks a custom event's
    property to equal a value (compared as text).
    """

    type: str = "purchase"
    name: str | None = None
    page: str | None = None
    prop: tuple[str, str] | None = None

    @classmethod
    def of_site(cls, settings: Mapping[str, object]) -> Goal:
        """settings["goal"]: an event type (`checkout`) or a track event name (`signup`)."""
        goal = settings.get("goal")
        if not goal or not isinstance(goal, str) or goal == "purchase":
            return cls()
        return cls(goal) if goal in EVENT_TYPES else cls("track", goal)


def boolean(value: str, name: str) -> bool:
    """The one parser of yes/no parameters: 1/true/yes and 0/false/no, else a 400."""
    answer = yes_no(value)
    if answer is None:
        raise ClientError(400, f"{name} must be 1 or 0, not {value!r}")
    return answer


@dataclass(frozen=True)
class Filters:
    """Validated session filters: exact columns, a page pattern, flags, a minimum duration."""

    columns: tuple[tuple[str, str], ...] = ()
    pages: tuple[str, ...] = ()
    flags: tuple[tuple[str, bool], ...] = ()
    min_duration_ms: tuple[float, ...] = ()
    entries: tuple[str, ...] = ()  # page patterns of the first pageview
    exits: tuple[str, ...] = ()  # page patterns of the last pageview
    referrers: tuple[str, ...] = ()  # referrer hosts (NONE: no referrer)
    clicked: tuple[str, ...] = ()  # CSS selectors of a clicked element
    errors: tuple[str, ...] = ()  # messages of a JS error the session had
    # (experiment, variant or None): sessions of visitors exposed to it, from their first exposure
    exposures: tuple[tuple[str, str | None], ...] = ()
    outcomes: tuple[str, ...] = ()  # likely-outcome labels of the session's person

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def __add__(self, other: Filters) -> Filters:
        return Filters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def parse_filters(params: Mapping[str, str]) -> Filters:
    """The filters present in `params`, validated; unknown keys are ignored."""
    columns = tuple((name, params[name]) for name in COLUMN_FILTERS if params.get(name))
    flags = tuple((name, boolean(params[name], name)) for name in FLAG_FILTERS if params.get(name))
    page, entry, exit_ = (params.get(name) for name in PAGE_FILTERS)
    referrer = params.get("referrer")
    clicked = params.get("clicked")
    error = params.get("error")
    min_duration = params.get("min_duration")
    durations: tuple[float, ...] = ()
    if min_duration:
        try:
            seconds = float(min_duration)
        except ValueError:
            raise ClientError(400, "min_duration must be a number of seconds") from None
        if not 0 <= seconds < 1e9:
            raise ClientError(400, "min_duration must be between 0 and 1e9 seconds")
        durations = (seconds * 1000,)
    def one(value: str | None) -> tuple[str, ...]:
        return (value,) if value else ()

    outcome = params.get("outcome")
    if outcome and outcome not in OUTCOMES:
        raise ClientError(400, f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    return Filters(
        columns, one(page), flags, durations, one(entry), one(exit_), one(referrer_host(referrer)), one(clicked),
        one(error), exposure_filters(params), one(outcome),
    )


def referrer_host(value: str | None) -> str | None:
    """A referrer filter as its host: `news.example` from itself or from a whole referrer URL."""
    if not value or value == NONE:
        return value
    try:
        host = urlsplit(value).hostname if "://" in value else value.split("/", 1)[0]
    except ValueError:  # "http://[": not a URL, so matched as the text given
        host = None
    return (host or value).lower().removeprefix("www.")


def exposure_filters(params: Mapping[str, str]) -> tuple[tuple[str, str | None], ...]:
    """`experiment` (and `variant`): sessions of visitors exposed to it, from their first exposure."""
    experiment, variant = params.get("experiment"), params.get("variant")
    if variant and not experiment:
        raise ClientError(400, "variant needs experiment: the key of the experiment it belongs to")
    if not experiment:
        return ()
    if len(experiment) > 64 or (variant and len(variant) > 64):
        raise ClientError(400, "experiment and variant are at most 64 characters")
    return ((experiment, variant or None),)


def check_filters(filters: Mapping[str, object]) -> dict[str, str]:
    """A segment's filters, validated: known names with string values that parse."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise ClientError(400, f"unknown filter {unknown[0]!r}; filters are {', '.join(FILTERS)}")
    clean: dict[str, str] = {}
    for name, value in filters.items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            raise ClientError(400, f"filter {name} must be a string")
        clean[name] = value
    parse_filters(clean)
    return clean


@dataclass(frozen=True)
class Scope:
    """Which sessions a query looks at: one site, started in [start, end), filtered."""

    site_id: str
    start: int
    end: int
    goal: Goal = Goal()
    filters: Filters = Filters()
    include_bots: bool = False
    calendar: Calendar = UTC_DAYS  # the site's days: its time zone's midnights

    @property
    def rolled_up(self) -> bool:
        """Whether the day rollups answer this scope: whole UTC days, humans, no filters.

        The rollups are kept by UTC day, so they hold a site's local days only where its zone is
        at UTC (UTC itself, or London in winter); elsewhere the sessions are read instead.
        """
        return (
            not self.filters and not self.include_bots
            and self.start % DAY_MS == 0 and self.end % DAY_MS == 0
            and self.calendar.zero_offset(self.start, self.end)
        )

    def during(self, start: int, end: int) -> Scope:
        return replace(self, start=start, end=end)

    @property
    def previous(self) -> Scope:
        """The period just before this one: as many local days for a range of whole days (a
        week holding a 25-hour day is compared with the week before, midnight to midnight),
        else of equal length."""
        if self.calendar.whole_days(self.start, self.end):
            days = self.calendar.days(self.start, self.end)
            return self.during(self.calendar.day_start(days.start - len(days)), self.start)
        return self.during(self.start - (self.end - self.start), self.start)


def build_scope(
    site_id: str,
    settings: Mapping[str, object],
    start: int,
    end: int,
    params: Mapping[str, str],
    segment: Mapping[str, str] | None = None,
) -> Scope:
    """The scope from request parameters: filters, a saved segment's filters, `bots=1`."""
    filters = parse_filters(params)
    if segment:
        filters = filters + parse_filters(segment)
    include_bots = boolean(params["bots"], "bots") if params.get("bots") else False
    return Scope(site_id, start, end, Goal.of_site(settings), filters, include_bots, Calendar.of_site(settings))
