"""A Scope compiled to SQLite: the WHERE body over the `sessions` table aliased `s`.

The one place where session filters become SQL for this engine, always with bound parameters.
"""

from __future__ import annotations

from collector.query.definitions import BOT_COLUMN, BOUNCE_PAGEVIEWS, DAY_MS, DESKTOP_FROM_PX, TABLET_FROM_PX
from collector.query.scope import NONE, Filters, Goal, Scope
from collector.store.sqlite.reads.patterns import glob_literal, url_match

_COLUMNS = {
    "country": "s.country", "region": "s.region", "device": "s.device", "browser": "s.browser", "os": "s.os",
    "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
    "user": "s.user_id", "visitor": "s.visitor_id",
}


# ---- the concepts of collector/query/definitions.py, as SQLite spells them (the one spelling;
# tests/query/test_definitions.py checks each against its Python definition) ----


def _of(alias: str) -> str:
    """A column's qualifier: `alias.`, or none for '' (a rollup table's own columns)."""
    return f"{alias}." if alias else ""


def human_sql(alias: str = "s") -> str:
    """True for a human session `alias`."""
    return f"{_of(alias)}{BOT_COLUMN} = 0"


def human_event_sql(alias: str) -> str:
    """True for an event `alias` that no bot's session holds (the rollup triggers' form, which
    needs no join)."""
    return (f"NOT EXISTS (SELECT 1 FROM sessions s WHERE s.site_id = {alias}.site_id"
            f" AND s.id = {alias}.session_id AND s.{BOT_COLUMN} = 1)")


def viewed_sql(alias: str = "s") -> str:
    """True for a session with a pageview: the bounce rate's denominator."""
    return f"{_of(alias)}pageviews > 0"


def bounced_sql(alias: str = "s") -> str:
    """True for a session that bounced."""
    return f"{_of(alias)}pageviews = {BOUNCE_PAGEVIEWS}"


def carted_sql(alias: str = "s") -> str:
    """True for a session with a cart add."""
    return f"{_of(alias)}cart_adds > 0"


def abandoned_sql(alias: str = "s") -> str:
    """True for a session with a cart add and no purchase."""
    return f"{carted_sql(alias)} AND {_of(alias)}purchases = 0"


def device_sql(vw: str) -> str:
    """The device bucket of a viewport width expression ('' when it is NULL)."""
    return (f"(CASE WHEN {vw} IS NULL THEN '' WHEN {vw} < {TABLET_FROM_PX} THEN 'mobile'"
            f" WHEN {vw} < {DESKTOP_FROM_PX} THEN 'tablet' ELSE 'desktop' END)")


def day_sql(ms: str) -> str:
    """The day number of an epoch-ms integer expression."""
    return f"({ms}) / {DAY_MS}"


def goal_sql(goal: Goal) -> tuple[str, list[object]]:
    """True for a session `s` holding a goal event."""
    if goal == Goal():
        return "s.purchases > 0", []  # the session rollup counts purchases on write
    sql, args = goal_event_sql(goal, "g")
    return f"EXISTS (SELECT 1 FROM events g WHERE g.site_id = s.site_id AND g.session_id = s.id AND {sql})", args


def goal_event_sql(goal: Goal, alias: str) -> tuple[str, list[object]]:
    """True for an event `alias` that is a goal event."""
    sql = f"{alias}.type = ?"
    args: list[object] = [goal.type]
    if goal.name is not None:
        sql += f" AND {alias}.name = ?"
        args.append(goal.name)
    if goal.page is not None:
        page_sql, page_args = url_match(goal.page, alias)
        sql += f" AND {page_sql}"
        args += page_args
    if goal.prop is not None:
        key, value = goal.prop
        # The key is a JSON path member, quoted; numbers compare by their text (1 = '1').
        sql += f" AND CAST(json_extract({alias}.data, ?) AS TEXT) = ?"
        args += ['$.props."' + key.replace('"', "") + '"', value]
    return sql, args


def _pageview_at(column: str, pattern: str) -> tuple[str, list[object]]:
    """The session's pageview at `column` (its entry or exit time) matches the pattern."""
    sql, args = url_match(pattern, "p")
    return (
        "EXISTS (SELECT 1 FROM events p WHERE p.site_id = s.site_id AND p.session_id = s.id"
        f" AND p.type = 'pageview' AND p.ts = s.{column} AND {sql})",
        args,
    )


def referrer_sql(host: str) -> tuple[str, list[object]]:
    """The session's referrer comes from `host` (or its www. twin); NONE: no referrer."""
    if host == NONE:
        return "coalesce(s.referrer, '') = ''", []
    globs = [f"*://{glob_literal(h)}{tail}" for h in (host, f"www.{host}") for tail in ("", "/*", ":*")]
    return "(" + " OR ".join("s.referrer GLOB ?" for _ in globs) + ")", list(globs)


def filters_sql(filters: Filters, goal: Goal, site_id: str | None = None) -> tuple[list[str], list[object]]:
    """SQL clauses over `s`, one per filter (`site_id`, when known, lets some run faster)."""

    where: list[str] = []
    args: list[object] = []
    for name, value in filters.columns:
        if value == NONE:
            where.append(f"coalesce({_COLUMNS[name]}, '') = ''")
        else:
            where.append(f"{_COLUMNS[name]} = ?")
            args.append(value)
    for column, patterns in (("entry_ts", filters.entries), ("exit_ts", filters.exits)):
        for pattern in patterns:
            sql, page_args = _pageview_at(column, pattern)
            where.append(sql)
            args += page_args
    for host in filters.referrers:
        sql, host_args = referrer_sql(host)
        where.append(sql)
        args += host_args
    for selector in filters.clicked:
        # The click's selector is its `name` (collector/ingest/pipeline.py). With a page filter the
        # click must be on that page: the sessions behind one heatmap hotspot.
        sql = ("EXISTS (SELECT 1 FROM events c WHERE c.site_id = s.site_id AND c.session_id = s.id"
               " AND c.type = 'click' AND c.name = ?")
        args.append(selector)
        for page in filters.pages:
            page_sql, page_args = url_match(page, "c")
            sql += f" AND {page_sql}"
            args += page_args
        where.append(sql + ")")
    for message in filters.errors:
        # an error's message is its `name`
        where.append(
            "EXISTS (SELECT 1 FROM events x WHERE x.site_id = s.site_id AND x.session_id = s.id"
            " AND x.type = 'error' AND x.name = ?)"
        )
        args.append(message)
    for page in filters.pages:
        sql, page_args = url_match(page, "p")
        where.append(
            "EXISTS (SELECT 1 FROM events p WHERE p.session_id = s.id AND p.site_id = s.site_id"
            f" AND p.type = 'pageview' AND {sql})"
        )
        args += page_args
    flag_sql = {
        "converted": goal_sql(goal),
        "abandoned": (abandoned_sql("s"), []),
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
    for experiment, variant in filters.exposures:
        sql, exposure_args = exposed_sql(experiment, variant, site_id)
        where.append(sql)
        args += exposure_args
    return where, args


def exposed_sql(
    experiment: str, variant: str | None, site_id: str | None = None, column: str = "s.id"
) -> tuple[str, list[object]]:
    """True for a session `s` of a visitor whose first exposure to the experiment (to `variant`,
    the rule the results count by) came at or before the session's end; `column` names the
    session id to test when it is not `s.id` (heatmaps test their events' sessions).

    With `site_id` the qualifying sessions are found once (a subquery that does not depend on
    `s`, kept by SQLite as a lookup table); without it, per session, which is far slower.
    """
    site = "?" if site_id is not None else "s.site_id"
    firsts = (
        "SELECT xs.visitor_id AS visitor, x.ts, json_extract(x.data, '$.variant') AS variant,"
        " row_number() OVER (PARTITION BY xs.visitor_id ORDER BY x.ts, x.rowid) AS n"
        " FROM events x INDEXED BY events_exposure"
        " JOIN sessions xs ON xs.site_id = x.site_id AND xs.id = x.session_id"
        f" WHERE x.site_id = {site} AND x.type = 'exposure' AND x.name = ?"
    )
    sites = [site_id] if site_id is not None else []
    args: list[object] = [*sites, experiment, *sites]
    sql = (
        f"{column} IN (SELECT fs.id FROM ({firsts}) f JOIN sessions fs ON fs.site_id = {site}"
        " AND fs.visitor_id = f.visitor AND fs.last_ts >= f.ts WHERE f.n = 1"
    )
    if variant is not None:
        sql += " AND f.variant = ?"
        args.append(variant)
    return sql + ")", args


def events_sql(scope: Scope, event_type: str) -> tuple[str, list[object]]:
    """`FROM ... WHERE ...` over the events `e` of one type in the scope's sessions `s`.

    The events drive (CROSS JOIN fixes the order): one range of the type's index, from the range's
    start to the last event of its sessions, each event then finding its session by primary key.
    Exact: a session's events lie between its first_ts, inside the range, and its last_ts. Led by
    the sessions instead, SQLite would scan the type's events once per session.
    """
    where, args = scope_sql(scope)
    return (
        "FROM events e CROSS JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
        " WHERE e.site_id = ? AND e.type = ? AND e.ts >= ?"
        f" AND e.ts <= (SELECT max(s.last_ts) FROM sessions s WHERE {where}) AND {where}",
        [scope.site_id, event_type, scope.start, *args, *args],
    )


def open_sql(scope: Scope, began_before: int) -> tuple[str, list[object]]:
    """True for a session `s` open at some time in the range that began before `began_before`
    (the range's start: those that began earlier; its end: all of them). One open at the range's
    start began at most the site's longest session before it (session_span, migration m032), so
    SQLite seeks that stretch of the sessions' start order, not every older session."""
    return (
        "s.first_ts < ? AND s.first_ts >= ? - coalesce((SELECT longest FROM session_span WHERE site_id = ?), 0)"
        " AND s.last_ts >= ?",
        [began_before, scope.start, scope.site_id, scope.start],
    )


def scope_sql(scope: Scope, *, started: bool = True) -> tuple[str, list[object]]:
    """The WHERE body over `s` and its parameters (without the range if not `started`)."""
    clauses = ["s.site_id = ?"]
    args: list[object] = [scope.site_id]
    if started:
        clauses += ["s.first_ts >= ?", "s.first_ts < ?"]
        args += [scope.start, scope.end]
    if not scope.include_bots:
        clauses.append(human_sql("s"))
    where, filter_args = filters_sql(scope.filters, scope.goal, scope.site_id)
    return " AND ".join([*clauses, *where]), [*args, *filter_args]
