"""A Scope compiled to SQLite: the WHERE body over the `sessions` table aliased `s`.

The one place where session filters become SQL for this engine, always with bound parameters.
"""

from __future__ import annotations

from collector.query.scope import Filters, Goal, Scope
from collector.store.sqlite.reads.patterns import url_match

_COLUMNS = {
    "country": "s.country", "device": "s.device", "browser": "s.browser", "os": "s.os",
    "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
    "user": "s.user_id", "visitor": "s.visitor_id",
}


def goal_sql(goal: Goal) -> tuple[str, list[object]]:
    """True for a session `s` holding a goal event."""
    if goal.type == "purchase":
        return "s.purchases > 0", []  # the session rollup counts purchases on write
    sql = (
        "EXISTS (SELECT 1 FROM events g WHERE g.session_id = s.id AND g.site_id = s.site_id"
        " AND g.type = ?"
    )
    args: list[object] = [goal.type]
    if goal.name is not None:
        sql += " AND g.name = ?"
        args.append(goal.name)
    return sql + ")", args


def filters_sql(filters: Filters, goal: Goal) -> tuple[list[str], list[object]]:
    """SQL clauses over `s`, one per filter."""
    where: list[str] = []
    args: list[object] = []
    for name, value in filters.columns:
        where.append(f"{_COLUMNS[name]} = ?")
        args.append(value)
    for page in filters.pages:
        sql, page_args = url_match(page, "p")
        where.append(
            "EXISTS (SELECT 1 FROM events p WHERE p.session_id = s.id AND p.site_id = s.site_id"
            f" AND p.type = 'pageview' AND {sql})"
        )
        args += page_args
    flag_sql = {
        "converted": goal_sql(goal),
        "abandoned": ("s.cart_adds > 0 AND s.purchases = 0", []),
        "replay": ("s.has_replay = 1", []),
        "frustrated": ("(s.rage_clicks > 0 OR s.dead_clicks > 0 OR s.errors > 0)", []),
    }
    for name, wanted in filters.flags:
        sql, flag_args = flag_sql[name]
        where.append(sql if wanted else f"NOT ({sql})")
        args += flag_args
    for label in filters.outcomes:
        where.append(
            "EXISTS (SELECT 1 FROM outcome_scores o WHERE o.site_id = s.site_id"
            " AND o.visitor_id = s.visitor_id AND o.label = ?)"
        )
        args.append(label)
    for ms in filters.min_duration_ms:
        where.append("s.duration_ms >= ?")
        args.append(ms)
    return where, args


def scope_sql(scope: Scope, *, started: bool = True) -> tuple[str, list[object]]:
    """The WHERE body over `s` and its parameters (without the range if not `started`)."""
    clauses = ["s.site_id = ?"]
    args: list[object] = [scope.site_id]
    if started:
        clauses += ["s.first_ts >= ?", "s.first_ts < ?"]
        args += [scope.start, scope.end]
    if not scope.include_bots:
        clauses.append("s.is_bot = 0")
    where, filter_args = filters_sql(scope.filters, scope.goal)
    return " AND ".join([*clauses, *where]), [*args, *filter_args]
