"""Session filters and the scope every analyst query runs in: site, range, bots, filters, segment.

One rule for every endpoint: a session belongs to the range in which it starts, with all of its
events (a session over midnight counts on the day it began). Filters are SQL clauses over the
`sessions` table aliased `s`, always with bound parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace

import msgspec

from collector.errors import ClientError
from collector.query.patterns import url_match
from collector.schema import EVENT_TYPES

# Filter name -> what it takes; docs/api.md lists them for the dashboard.
FILTERS = (
    "country", "device", "browser", "os", "page", "channel", "campaign", "source", "converted",
    "abandoned", "replay", "frustrated", "min_duration", "user", "visitor",
)
_COLUMN_FILTERS = {
    "country": "s.country", "device": "s.device", "browser": "s.browser", "os": "s.os",
    "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
    "user": "s.user_id", "visitor": "s.visitor_id",
}
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


@dataclass(frozen=True)
class Goal:
    """The event that counts as a conversion: a purchase unless the site names another."""

    type: str = "purchase"
    name: str | None = None

    @classmethod
    def of_site(cls, settings: Mapping[str, object]) -> Goal:
        """settings["goal"]: an event type (`checkout`) or a track event name (`signup`)."""
        goal = settings.get("goal")
        if not goal or not isinstance(goal, str) or goal == "purchase":
            return cls()
        return cls(goal) if goal in EVENT_TYPES else cls("track", goal)

    def session_clause(self) -> tuple[str, list[object]]:
        """True for a session `s` holding a goal event."""
        if self.type == "purchase":
            return "s.purchases > 0", []  # the session rollup counts purchases on write
        sql = (
            "EXISTS (SELECT 1 FROM events g WHERE g.session_id = s.id AND g.site_id = s.site_id"
            " AND g.type = ?"
        )
        args: list[object] = [self.type]
        if self.name is not None:
            sql += " AND g.name = ?"
            args.append(self.name)
        return sql + ")", args


def boolean(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ClientError(400, f"{name} must be 1 or 0, not {value!r}")


def parse_filters(params: Mapping[str, str], goal: Goal) -> tuple[list[str], list[object]]:
    """SQL clauses over `s` for the filters present in `params`; unknown keys are ignored."""
    where: list[str] = []
    args: list[object] = []
    for name, column in _COLUMN_FILTERS.items():
        value = params.get(name)
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    page = params.get("page")
    if page:
        sql, page_args = url_match(page, "p")
        where.append(
            "EXISTS (SELECT 1 FROM events p WHERE p.session_id = s.id AND p.site_id = s.site_id"
            f" AND p.type = 'pageview' AND {sql})"
        )
        args += page_args
    flags = {
        "converted": goal.session_clause(),
        "abandoned": ("s.cart_adds > 0 AND s.purchases = 0", []),
        "replay": ("s.has_replay = 1", []),
        "frustrated": ("(s.rage_clicks > 0 OR s.dead_clicks > 0 OR s.errors > 0)", []),
    }
    for name, (sql, flag_args) in flags.items():
        value = params.get(name)
        if value:
            where.append(sql if boolean(value, name) else f"NOT ({sql})")
            args += flag_args
    min_duration = params.get("min_duration")
    if min_duration:
        try:
            seconds = float(min_duration)
        except ValueError:
            raise ClientError(400, "min_duration must be a number of seconds") from None
        if not 0 <= seconds < 1e9:
            raise ClientError(400, "min_duration must be between 0 and 1e9 seconds")
        where.append("s.duration_ms >= ?")
        args.append(seconds * 1000)
    return where, args


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
    try:
        parse_filters(clean, Goal())
    except ValueError as exc:
        raise ClientError(400, str(exc)) from None
    return clean


def segment_filters(conn: sqlite3.Connection, site_id: str, segment: str) -> dict[str, str]:
    if not (segment.isascii() and segment.isdigit()) or len(segment) > 18:  # "²" and 2**64 would be a 500
        raise ClientError(400, "segment must be a segment id (see /api/segments)")
    row = conn.execute(
        "SELECT filters FROM segments WHERE id = ? AND site_id = ?", (int(segment), site_id)
    ).fetchone()
    if row is None:
        raise ClientError(404, f"no segment {segment} for this site")
    filters: dict[str, str] = msgspec.json.decode(row[0])
    return filters


@dataclass(frozen=True)
class Scope:
    """Which sessions a query looks at: one site, started in [start, end), filtered."""

    site_id: str
    start: int
    end: int
    goal: Goal = Goal()
    where: tuple[str, ...] = ()
    args: tuple[object, ...] = ()
    include_bots: bool = False

    def sql(self, *, started: bool = True) -> tuple[str, list[object]]:
        """The WHERE body over `s` and its parameters (without the range if not `started`)."""
        clauses = ["s.site_id = ?"]
        args: list[object] = [self.site_id]
        if started:
            clauses += ["s.first_ts >= ?", "s.first_ts < ?"]
            args += [self.start, self.end]
        if not self.include_bots:
            clauses.append("s.is_bot = 0")
        return " AND ".join([*clauses, *self.where]), [*args, *self.args]

    @property
    def rolled_up(self) -> bool:
        """Whether the day rollups answer this scope: whole UTC days, humans, no filters."""
        return (
            not self.where and not self.include_bots
            and self.start % 86_400_000 == 0 and self.end % 86_400_000 == 0
        )

    def during(self, start: int, end: int) -> Scope:
        return replace(self, start=start, end=end)

    @property
    def previous(self) -> Scope:
        """The period of equal length just before this one."""
        return self.during(self.start - (self.end - self.start), self.start)


def build_scope(
    conn: sqlite3.Connection,
    site_id: str,
    settings: Mapping[str, object],
    start: int,
    end: int,
    params: Mapping[str, str],
) -> Scope:
    """The scope from request parameters: filters, a saved segment's filters, `bots=1`."""
    goal = Goal.of_site(settings)
    try:
        where, args = parse_filters(params, goal)
        segment = params.get("segment")
        if segment:
            more_where, more_args = parse_filters(segment_filters(conn, site_id, segment), goal)
            where, args = where + more_where, args + more_args
    except ValueError as exc:
        raise ClientError(400, str(exc)) from None
    include_bots = boolean(params["bots"], "bots") if params.get("bots") else False
    return Scope(site_id, start, end, goal, tuple(where), tuple(args), include_bots)
