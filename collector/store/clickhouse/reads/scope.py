"""A Scope compiled to ClickHouse: the WHERE body over the `sessions` table aliased `s`, and page
patterns over an events alias. The one place where filters become SQL for this engine; every
value enters through `lit`.
"""

from __future__ import annotations

from collections.abc import Sequence

from collector.query.definitions import BOT_COLUMN, BOUNCE_PAGEVIEWS, DAY_MS, DESKTOP_FROM_PX, TABLET_FROM_PX, day_of
from collector.query.patterns import PARAM_SEGMENT, is_route_template
from collector.query.scope import NONE, Filters, Goal, Scope
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.schema import FREQUENT_TYPES, Layout

_COLUMNS = {
    "country": "s.country", "region": "s.region", "device": "s.device", "browser": "s.browser", "os": "s.os",
    "channel": "s.channel", "campaign": "s.utm_campaign", "source": "s.utm_source",
    "user": "s.user_id", "visitor": "s.visitor_id",
}


# ---- the concepts of collector/query/definitions.py, as ClickHouse spells them (the one spelling;
# tests/query/test_definitions.py checks each against its Python definition) ----


def _of(alias: str) -> str:
    """A column's qualifier: `alias.`, or none for '' (a rollup table's own columns)."""
    return f"{alias}." if alias else ""


def human_sql(alias: str = "s") -> str:
    """True for a human session `alias`."""
    return f"{_of(alias)}{BOT_COLUMN} = 0"


def human_event_sql(layout: Layout, site_id: str, alias: str = "e") -> str:
    """True for an event `alias` of the site that no bot's session holds."""
    return (f"{alias}.session_id NOT IN (SELECT s.id FROM {sessions_in(layout)}"
            f" WHERE s.site_id = {lit(site_id)} AND s.{BOT_COLUMN} = 1)")


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
    return (f"multiIf({vw} IS NULL, '', {vw} < {TABLET_FROM_PX}, 'mobile',"
            f" {vw} < {DESKTOP_FROM_PX}, 'tablet', 'desktop')")


def day_sql(ms: str) -> str:
    """The day number of an epoch-ms integer expression."""
    return f"intDiv({ms}, {DAY_MS})"


def like_literal(text: str) -> str:
    """Text with LIKE's special characters escaped, so that only our `*` (as %) are wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def url_match(pattern: str, alias: str = "e") -> str:
    """SQL matching a stored event's page: exact URL, `/path` only, `*` wildcard, or `/route/:id`
    (the SQLite engine's GLOB rules, as LIKE). `alias` names the event, or is empty where the
    columns are names of their own (a lambda's parameters)."""
    if not pattern:
        raise ValueError("a page pattern must not be empty")
    of = f"{alias}." if alias else ""
    if is_route_template(pattern):
        segments = pattern.split("/")
        like = "/".join("%" if PARAM_SEGMENT.match(s) else like_literal(s) for s in segments)
        slashes = pattern.count("/")
        path = f"{of}path"
        return (
            f"({of}route = {lit(pattern)} OR ({path} LIKE {lit(like)}"
            f" AND length({path}) - length(replaceAll({path}, '/', '')) = {slashes}))"
        )
    column = f"{of}path" if pattern.startswith("/") else f"{of}url"
    if "*" in pattern:
        return f"{column} LIKE {lit('%'.join(like_literal(part) for part in pattern.split('*')))}"
    return f"{column} = {lit(pattern)}"


def data_of(alias: str, event_type: str) -> str:
    """The column holding the JSON data of events `alias` of a type: the rarer types' own copy
    (schema.MATERIALIZED's m_data) or the whole `data` column."""
    return f"{alias}.data" if event_type in FREQUENT_TYPES else f"{alias}.m_data"


def json_text(data: str, *path: str) -> str:
    """A JSON member as SQLite's CAST(json_extract(...) AS TEXT) gives it: a string unquoted, true
    and false as 1 and 0, null or missing as NULL, any other value as its JSON text."""
    keys = ", ".join(lit(p) for p in path)
    kind = f"JSONType({data}, {keys})"
    return (
        f"multiIf({kind} = 'String', JSONExtractString({data}, {keys}),"
        f" {kind} = 'Bool', if(JSONExtractBool({data}, {keys}), '1', '0'),"
        f" {kind} = 'Null', NULL, JSONExtractRaw({data}, {keys}))"
    )


def since_sql(alias: str, since: int | None) -> str:
    """` AND` the events `alias` from the UTC day of `since` on: where only sessions that started
    at or after `since` are asked about, their events are no older (a session's first_ts is its
    earliest event's time), and the events table is ordered by day, so older days go unread."""
    return "" if since is None else f" AND {alias}.day >= {day_of(since)}"


def goal_sql(layout: Layout, site_id: str, goal: Goal, since: int | None = None) -> str:
    """True for a session `s` holding a goal event (sessions started at or after `since`)."""
    if goal == Goal():
        return "s.purchases > 0"  # the session rollup counts purchases on write
    return (f"s.id IN (SELECT g.session_id FROM {layout.table('events')} AS g WHERE g.site_id = {lit(site_id)}"
            f"{since_sql('g', since)} AND {goal_event_sql(goal, 'g')})")


def goal_event_sql(goal: Goal, alias: str) -> str:
    """True for an event `alias` that is a goal event."""
    sql = f"{alias}.type = {lit(goal.type)}"
    if goal.name is not None:
        sql += f" AND {alias}.name = {lit(goal.name)}"
    if goal.page is not None:
        sql += f" AND {url_match(goal.page, alias)}"
    if goal.prop is not None:
        key, value = goal.prop
        # numbers compare by their text (1 = '1'), as on SQLite
        sql += f" AND {json_text(data_of(alias, goal.type), 'props', key.replace(chr(34), ''))} = {lit(value)}"
    return sql


def referrer_sql(host: str) -> str:
    """The session's referrer comes from `host` (or its www. twin); NONE: no referrer."""
    if host == NONE:
        return "coalesce(s.referrer, '') = ''"
    likes = [f"%://{like_literal(h)}{tail}" for h in (host, f"www.{host}") for tail in ("", "/%", ":%")]
    return "(" + " OR ".join(f"s.referrer LIKE {lit(like)}" for like in likes) + ")"


def filters_sql(
    layout: Layout, site_id: str, filters: Filters, goal: Goal, since: int | None = None,
) -> list[str]:
    """SQL clauses over `s`, one per filter (for sessions started at or after `since`)."""
    where = [
        f"coalesce({_COLUMNS[name]}, '') = ''" if value == NONE else f"{_COLUMNS[name]} = {lit(value)}"
        for name, value in filters.columns
    ]
    events = layout.table("events")
    for column, patterns in (("entry_ts", filters.entries), ("exit_ts", filters.exits)):
        for pattern in patterns:
            # the session's pageview at its entry (or exit) time matches the pattern
            where.append(
                f"(s.id, s.{column}) IN (SELECT p.session_id, p.ts FROM {events} AS p"
                f" WHERE p.site_id = {lit(site_id)}{since_sql('p', since)} AND p.type = 'pageview'"
                f" AND {url_match(pattern, 'p')})"
            )
    where += [referrer_sql(host) for host in filters.referrers]
    for selector in filters.clicked:
        # The click's selector is its `name`. With a page filter the click must be on that page:
        # the sessions behind one heatmap hotspot.
        on_page = "".join(f" AND {url_match(page, 'c')}" for page in filters.pages)
        where.append(
            f"s.id IN (SELECT c.session_id FROM {events} AS c WHERE c.site_id = {lit(site_id)}{since_sql('c', since)}"
            f" AND c.type = 'click' AND c.name = {lit(selector)}{on_page})"
        )
    for message in filters.errors:  # an error's message is its `name`
        where.append(
            f"s.id IN (SELECT x.session_id FROM {events} AS x WHERE x.site_id = {lit(site_id)}{since_sql('x', since)}"
            f" AND x.type = 'error' AND x.name = {lit(message)})"
        )
    for page in filters.pages:
        where.append(
            f"s.id IN (SELECT p.session_id FROM {events} AS p WHERE p.site_id = {lit(site_id)}{since_sql('p', since)}"
            f" AND p.type = 'pageview' AND {url_match(page, 'p')})"
        )
    flag_sql = {
        "converted": goal_sql(layout, site_id, goal, since),
        "abandoned": abandoned_sql("s"),
        "replay": "s.has_replay = 1",
        "frustrated": "(s.rage_clicks > 0 OR s.dead_clicks > 0 OR s.errors > 0)",
    }
    for name, wanted in filters.flags:
        sql = flag_sql[name]
        where.append(sql if wanted else f"NOT ({sql})")
    for ms in filters.min_duration_ms:
        where.append(f"s.duration_ms >= {lit(float(ms))}")
    where += [outcome_sql(layout, site_id, label) for label in filters.outcomes]
    where += [exposed_sql(layout, site_id, experiment, variant) for experiment, variant in filters.exposures]
    return where


def outcome_sql(layout: Layout, site_id: str, label: str) -> str:
    """True for a session `s` whose person has this label in the site's current model's scores."""
    return (
        f"s.visitor_id IN (SELECT o.visitor_id FROM {layout.table('outcome_scores')} AS o"
        f" WHERE o.site_id = {lit(site_id)} AND o.model = ({current_model(layout, site_id)})"
        f" AND o.label = {lit(label)})"
    )


def current_model(layout: Layout, site_id: str) -> str:
    """A scalar subquery: the version of the site's last trained model, whose scores are the ones read."""
    return f"SELECT max(m.version) FROM {layout.table('outcome_models')} AS m WHERE m.site_id = {lit(site_id)}"


def exposed_sql(layout: Layout, site_id: str, experiment: str, variant: str | None, column: str = "s.id") -> str:
    """True for a session (id in `column`) of a visitor whose first exposure to the experiment (to
    `variant`, the rule the results count by) came at or before the session's end."""
    events, sessions = layout.table("events"), layout.table("sessions")
    site = lit(site_id)
    firsts = (
        f"SELECT xs.visitor_id AS visitor, min(x.ts) AS first_ts,"
        f" argMin(JSONExtractString(x.m_data, 'variant'), (x.ts, x.seq)) AS first_variant"
        f" FROM {events} AS x INNER JOIN (SELECT id, visitor_id FROM {sessions} FINAL WHERE site_id = {site}) AS xs"
        f" ON x.session_id = xs.id"
        f" WHERE x.site_id = {site} AND x.type = 'exposure' AND x.name = {lit(experiment)} GROUP BY xs.visitor_id"
    )
    chosen = "" if variant is None else f" AND f.first_variant = {lit(variant)}"
    return (
        f"{column} IN (SELECT fs.id FROM {sessions} AS fs FINAL INNER JOIN ({firsts}) AS f ON fs.visitor_id = f.visitor"
        f" WHERE fs.site_id = {site} AND fs.last_ts >= f.first_ts{chosen})"
    )


def scope_sql(layout: Layout, scope: Scope, *, started: bool = True) -> str:
    """The WHERE body over `s` (without the range if not `started`)."""
    clauses = [f"s.site_id = {lit(scope.site_id)}"]
    if started:
        clauses += [f"s.first_ts >= {lit(scope.start)}", f"s.first_ts < {lit(scope.end)}"]
    if not scope.include_bots:
        clauses.append(human_sql("s"))
    since = scope.start if started else None
    return " AND ".join([*clauses, *filters_sql(layout, scope.site_id, scope.filters, scope.goal, since)])


def visitors_ids_sql(layout: Layout, site_id: str, visitors: Sequence[str]) -> str:
    """True for a session id (`id`) that some stored version of its row gives one of these
    visitors. The sessions table is ordered by id, so a plain `visitor_id =` under FINAL reads
    every session's every column; two columns of every version cost a tenth of that. A caller
    then holds the newest version (FINAL) to the visitor: a version that once named them counts
    here too."""
    return (f"id IN (SELECT id FROM {layout.table('sessions')} WHERE site_id = {lit(site_id)}"
            f" AND visitor_id IN {lits(visitors)})")


def visitor_sessions_sql(layout: Layout, site_id: str, visitor: str, alias: str = "s") -> str:
    """True for a session `alias` (read FINAL) of one visitor, found by visitors_ids_sql."""
    return f"{_of(alias)}{visitors_ids_sql(layout, site_id, [visitor])} AND {_of(alias)}visitor_id = {lit(visitor)}"


# Ends a query whose joins are written with their smaller side on the right, the one ClickHouse
# builds its hash table of: left to itself, the planner swapped the sides of some (the funnel's
# sessions and purchases, the surveys' sessions and answers: a fifth to a quarter slower).
AS_WRITTEN = " SETTINGS query_plan_join_swap_table = 'false'"


def sessions_in(layout: Layout) -> str:
    """The sessions table as every question reads it: the newest version of each row."""
    return f"{layout.table('sessions')} AS s FINAL"
