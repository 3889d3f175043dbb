"""A Scope compiled to ClickHouse: the WHERE body over the `sessions` table aliased `s`, and page
patterns over an events alias. The one place where filters become SQL for this engine; every
value enters through `lit`.
"""

from __future__ import annotations

from collector.query.scope import Filters, Goal, Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.schema import Layout
from collector.store.sqlite.reads.patterns import _PARAM_SEGMENT, is_route_template

_COLUMNS = {
    "country": "s.country", "device": "s.device", "browser": "s.browser", "os": "s.os",
    "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
    "user": "s.user_id", "visitor": "s.visitor_id",
}


def like_literal(text: str) -> str:
    """Text with LIKE's special characters escaped, so that only our `*` (as %) are wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def url_match(pattern: str, alias: str = "e") -> str:
    """SQL matching a stored event's page: exact URL, `/path` only, `*` wildcard, or `/route/:id`
    (the SQLite engine's GLOB rules, as LIKE)."""
    if not pattern:
        raise ValueError("a page pattern must not be empty")
    if is_route_template(pattern):
        segments = pattern.split("/")
        like = "/".join("%" if _PARAM_SEGMENT.match(s) else like_literal(s) for s in segments)
        slashes = pattern.count("/")
        path = f"{alias}.path"
        return (
            f"({alias}.route = {lit(pattern)} OR ({path} LIKE {lit(like)}"
            f" AND length({path}) - length(replaceAll({path}, '/', '')) = {slashes}))"
        )
    column = f"{alias}.path" if pattern.startswith("/") else f"{alias}.url"
    if "*" in pattern:
        return f"{column} LIKE {lit('%'.join(like_literal(part) for part in pattern.split('*')))}"
    return f"{column} = {lit(pattern)}"


def goal_sql(layout: Layout, site_id: str, goal: Goal) -> str:
    """True for a session `s` holding a goal event."""
    if goal.type == "purchase":
        return "s.purchases > 0"
    name = f" AND name = {lit(goal.name)}" if goal.name is not None else ""
    return (f"s.id IN (SELECT session_id FROM {layout.table('events')} WHERE site_id = {lit(site_id)}"
            f" AND type = {lit(goal.type)}{name})")


def filters_sql(layout: Layout, site_id: str, filters: Filters, goal: Goal) -> list[str]:
    """SQL clauses over `s`, one per filter."""
    where = [f"{_COLUMNS[name]} = {lit(value)}" for name, value in filters.columns]
    for page in filters.pages:
        where.append(
            f"s.id IN (SELECT p.session_id FROM {layout.table('events')} AS p WHERE p.site_id = {lit(site_id)}"
            f" AND p.type = 'pageview' AND {url_match(page, 'p')})"
        )
    flag_sql = {
        "converted": goal_sql(layout, site_id, goal),
        "abandoned": "s.cart_adds > 0 AND s.purchases = 0",
        "replay": "s.has_replay = 1",
        "frustrated": "(s.rage_clicks > 0 OR s.dead_clicks > 0 OR s.errors > 0)",
    }
    for name, wanted in filters.flags:
        sql = flag_sql[name]
        where.append(sql if wanted else f"NOT ({sql})")
    for ms in filters.min_duration_ms:
        where.append(f"s.duration_ms >= {lit(float(ms))}")
    return where


def scope_sql(layout: Layout, scope: Scope, *, started: bool = True) -> str:
    """The WHERE body over `s` (without the range if not `started`)."""
    clauses = [f"s.site_id = {lit(scope.site_id)}"]
    if started:
        clauses += [f"s.first_ts >= {lit(scope.start)}", f"s.first_ts < {lit(scope.end)}"]
    if not scope.include_bots:
        clauses.append("s.is_bot = 0")
    return " AND ".join([*clauses, *filters_sql(layout, scope.site_id, scope.filters, scope.goal)])


def sessions_in(layout: Layout) -> str:
    """The sessions table as every question reads it: the newest version of each row."""
    return f"{layout.table('sessions')} AS s FINAL"
