"""The ClickHouse schema: MergeTree tables ordered for the questions asked, created if missing.

Events are append-only and ordered by site, UTC day, type and session (EVENTS_ORDER), so a range
of days of one site is a contiguous read, a question about one type of event (pageviews, clicks,
scroll reports) reads that type's rows alone, and a session's events of a type sit together.
Rows that change (sessions, persons, identities, sites, segments, goals, experiments, accounts
and the other team rows) are ReplacingMergeTree tables written whole by the store's writer with a
rising version, read with FINAL: the newest version of each key is the row (a session's row also
keeps its pageviews and scroll reports, for the paths and heatmaps: views.py). Single-value settings
(meta, salts) keep every insert and the earliest one wins, so two collectors racing on a new
day's salt agree on one.

With `?cluster=NAME` each table is a Replicated table created ON CLUSTER, with a Distributed
table of the plain name in front, sharded so that every version of a row lands on one shard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from collector.store.clickhouse.client import Connection, lit

log = logging.getLogger("trailmark.store")

LC = "LowCardinality(Nullable(String))"
NS = "Nullable(String)"

EVENT_COLUMNS = (
    ("site_id", "LowCardinality(String)"), ("id", "String"), ("session_id", "String"),
    ("type", "LowCardinality(String)"), ("ts", "Int64"), ("client_ts", "Int64"), ("received_at", "Int64"),
    # A site has a few thousand paths and routes, and the questions group by them: dictionary-coded,
    # they are grouped, matched and hashed once per distinct value (all questions together 10 %
    # faster on 5.1M events). URLs, with their queries, have too many values for that.
    ("anon_id", NS), ("user_id", NS), ("url", NS), ("path", LC), ("route", LC), ("name", NS),
    ("data", "String"),
    # Where the contact happened (web, email, call_center...): the journey map and the 360 timeline.
    ("touchpoint", "LowCardinality(String)"),
)
# The order SQLite's `sessions` table has: `SELECT *` answers list the columns in it.
SESSION_COLUMNS = (
    ("site_id", "LowCardinality(String)"), ("id", "String"), ("visitor_id", "String"), ("anon_id", NS),
    ("user_id", NS), ("first_ts", "Int64"), ("last_ts", "Int64"), ("duration_ms", "Int64"),
    ("events", "Int64"), ("pageviews", "Int64"), ("entry_ts", "Nullable(Int64)"), ("entry_url", NS),
    ("exit_ts", "Nullable(Int64)"), ("exit_url", NS), ("referrer", NS), ("channel", LC),
    ("utm_source", LC), ("utm_medium", LC), ("utm_campaign", LC), ("utm_term", NS), ("utm_content", NS),
    ("browser", LC), ("browser_version", LC), ("os", LC), ("os_version", LC), ("device", LC),
    ("device_brand", LC), ("device_model", LC), ("is_bot", "UInt8"), ("country", LC),
    ("country_name", LC), ("region", LC), ("city", LC), ("timezone", LC), ("lat", "Nullable(Float64)"),
    ("lon", "Nullable(Float64)"), ("vw", "Nullable(Int64)"), ("vh", "Nullable(Int64)"),
    ("cart_adds", "Int64"), ("purchases", "Int64"), ("revenue", "Float64"), ("clicks", "Int64"),
    ("rage_clicks", "Int64"), ("dead_clicks", "Int64"), ("errors", "Int64"), ("has_replay", "UInt8"),
    ("replay_bytes", "Int64"),
    # The user the site's backend vouched for in this session (user_id is what was claimed).
    ("verified_user", NS),
)
SESSION_NAMES = tuple(name for name, _ in SESSION_COLUMNS)
# Beside SQLite's columns: the session's pageviews in the order paths walk them, and its scroll
# reports as the heatmaps read them (views.py).
VIEW_FIELDS = (
    ("ts", "Int64"), ("seq", "UInt64"), ("path", "LowCardinality(Nullable(String))"),
    ("route", "LowCardinality(Nullable(String))"),
)
SCROLL_FIELDS = (
    ("url", "Nullable(String)"), ("ts", "Int64"), ("seq", "UInt64"), ("path", "LowCardinality(String)"),
    ("route", "LowCardinality(String)"), ("device", "LowCardinality(String)"), ("depth", "Float64"),
    ("vh", "Nullable(Int64)"),
)


def _kept(column: str, fields: tuple[tuple[str, str], ...]) -> str:
    return f"{column} Array(Tuple({', '.join(f'{n} {t}' for n, t in fields)})) DEFAULT []"


SESSION_VIEWS = _kept("views", VIEW_FIELDS)
SESSION_SCROLLS = _kept("scrolls", SCROLL_FIELDS)
EVENT_NAMES = tuple(name for name, _ in EVENT_COLUMNS)
# The type before the session: most questions read one or two types of event over a range of
# days (measured on 5.1M events: all questions together 6 % faster than with the session first,
# for 11 % more bytes; a session's events are then a few runs per day instead of one).
EVENTS_ORDER = "(site_id, day, type, session_id, ts, seq)"

# (name, columns, engine, ORDER BY, shard key, extra): the versioned engines name their version column.
TABLES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "events",
        ", ".join(f"{n} {t}" for n, t in EVENT_COLUMNS)
        + ", seq UInt64, day Int32 MATERIALIZED intDiv(ts, 86400000)"
        # Retried batches are found by id before insert: a skip index keeps that lookup to a few granules.
        + ", INDEX id_bloom id TYPE bloom_filter GRANULARITY 4",
        "MergeTree",
        EVENTS_ORDER,
        "cityHash64(site_id, session_id)",
    ),
    (
        "sessions",
        ", ".join(f"{n} {t}" for n, t in SESSION_COLUMNS) + f", version UInt64, {SESSION_VIEWS}, {SESSION_SCROLLS}",
        "ReplacingMergeTree(version)",
        "(site_id, id)",
        "cityHash64(site_id, id)",
    ),
    (
        "identities",
        # The writer applies the rules (a claim replaces only a claim, the backend's word anything
        # older) and writes the link that results, with a rising version.
        "site_id LowCardinality(String), anon_id String, user_id String, ts Int64, verified UInt8, version UInt64",
        "ReplacingMergeTree(version)",
        "(site_id, anon_id)",
        "cityHash64(site_id, anon_id)",
    ),
    (
        "persons",
        "site_id LowCardinality(String), user_id String, traits String, first_ts Int64, last_ts Int64,"
        " version UInt64",
        "ReplacingMergeTree(version)",
        "(site_id, user_id)",
        "cityHash64(site_id, user_id)",
    ),
    (
        "dead_letters",
        "id UInt64, site_id Nullable(String), received_at Int64, source LowCardinality(String),"
        " reason String, raw String",
        "MergeTree",
        "(id)",
        "id",
    ),
    (
        "replay_chunks",
        "site_id LowCardinality(String), session_id String, seq Int64, first_ts Int64, last_ts Int64,"
        " size Int64, data String CODEC(NONE),"  # gzip already: another codec only costs time
        " received_at Int64 DEFAULT 0",
        "ReplacingMergeTree",
        "(site_id, session_id, seq)",
        "cityHash64(site_id, session_id)",
    ),
    (
        "sites",
        "id String, name String, write_key String, origins String, settings String, created_at Int64,"
        " secret_hash Nullable(String), version UInt64",
        "ReplacingMergeTree(version)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        "segments",
        "id Int64, site_id String, name String, filters String, created_at Int64, version UInt64,"
        " deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(site_id, id)",
        "cityHash64(site_id)",
    ),
    (
        "goals",
        "id Int64, site_id String, name String, definition String, created_at Int64, version UInt64,"
        " deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(site_id, id)",
        "cityHash64(site_id)",
    ),
    # Experiment definitions (query/experiments.py); their exposures are events.
    (
        "experiments",
        "site_id String, key String, name String, variants String, goal Nullable(String), metrics String,"
        " hypothesis String, created_at Int64, saved_goal Nullable(String), version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(site_id, key)",
        "cityHash64(site_id)",
    ),
    # The likely-outcome model's last report per site; its version names the scores that go with it.
    (
        "outcome_models",
        "site_id String, trained_at Int64, report String, version UInt64",
        "ReplacingMergeTree(version)",
        "(site_id)",
        "cityHash64(site_id)",
    ),
    # Each training's scores, under the version of the model row written after them: readers take
    # the scores of the model they read, so they see the old model's or the new one's, never a mix.
    (
        "outcome_scores",
        "site_id String, model UInt64, visitor_id String, probability Float64, label LowCardinality(String)",
        "MergeTree",
        "(site_id, model, label, visitor_id)",
        "cityHash64(site_id)",
    ),
    # Accounts, roles, invites, API keys, share links and schedules (teams.py): SQLite's columns.
    (
        "accounts",
        "id Int64, email String, password_hash Nullable(String), created_at Int64, version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        "memberships",
        "account_id Int64, site_id String, role String, version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(account_id, site_id)",
        "cityHash64(account_id)",
    ),
    (
        "invites",
        "token_hash String, account_id Int64, expires_at Int64, version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(token_hash)",
        "cityHash64(token_hash)",
    ),
    (
        "api_keys",
        "id Int64, name String, key_hash String, role String, site_id String, created_at Int64,"
        " revoked_at Nullable(Int64), version UInt64",
        "ReplacingMergeTree(version)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        "share_links",
        "id String, site_id String, view String, params String, people UInt8, created_at Int64,"
        " expires_at Int64, revoked_at Nullable(Int64), version UInt64",
        "ReplacingMergeTree(version)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        "schedules",
        "id Int64, site_id String, kind String, recipients String, settings String, last_sent Int64,"
        " version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(id)",
        "cityHash64(id)",
    ),
    # Logged-out dashboard logins, until their cookie would have expired anyway.
    ("revoked_logins", "id String, expires_at Int64", "ReplacingMergeTree", "(id)", "cityHash64(id)"),
    ("meta", "key String, value String, inserted UInt64", "MergeTree", "(key, inserted)", "cityHash64(key)"),
    ("salts", "day String, salt String, inserted UInt64", "MergeTree", "(day, inserted)", "cityHash64(day)"),
)

# Journey triggers (collector/store/clickhouse/triggers.py says why versioned rows make a durable
# outbox): rules and deliveries change by new versions of their row; a settled absence check is
# a deleted version; when a rule last fired for a person keeps its latest time.
TRIGGER_TABLES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "trigger_rules",
        "id Int64, site_id String, name String, spec String, url String, secret String, cooldown_s Int64,"
        " sample Float64, max_per_hour Nullable(Int64), enabled UInt8, disabled_reason Nullable(String),"
        " failures Int64, created_at Int64, version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        # One row per firing: the outbox while next_at is set, the delivery log after.
        "trigger_deliveries",
        "id String, rule_id Int64, site_id String, visitor_id String, session_id Nullable(String),"
        " fired_at Int64, events String, status LowCardinality(String), attempts Int64, next_at Nullable(Int64),"
        " first_attempt_at Nullable(Int64), last_attempt_at Nullable(Int64), response_code Nullable(Int64),"
        " error Nullable(String), latency_ms Nullable(Int64), version UInt64",
        "ReplacingMergeTree(version)",
        "(id)",
        "cityHash64(id)",
    ),
    (
        # Ordered by due time: the scheduler reads the due ones from the front.
        "trigger_checks",
        "id String, rule_id Int64, site_id String, visitor_id String, session_id String, start String,"
        " start_ts Int64, due_at Int64, version UInt64, deleted UInt8",
        "ReplacingMergeTree(version, deleted)",
        "(due_at, id)",
        "cityHash64(id)",
    ),
    ("trigger_fired", "rule_id Int64, visitor_id String, at Int64", "ReplacingMergeTree(at)", "(rule_id, visitor_id)",
     "cityHash64(rule_id, visitor_id)"),
)

# Copies of recorded assets (collector/store/assets.py): the bytes once per site and content (the id
# is a hash of both, so a row never changes and a second insert of it is the same row again), and
# which copy each session's recorded URL is shown with (the first one given stays: the writer
# stores only references the session does not hold yet). Read with FINAL where two collectors may
# have stored the same row.
ASSET_TABLES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "replay_assets",
        "id String, site_id LowCardinality(String), content_type LowCardinality(String), size Int64,"
        " data String, stored_at Int64",
        "ReplacingMergeTree",
        "(id)",
        "cityHash64(id)",
    ),
    (
        "replay_asset_refs",
        "site_id LowCardinality(String), session_id String, url String, asset_id String, ts Int64,"
        " fetched_at Int64,"
        # The copier asks for the copy last fetched for a URL: a skip index keeps that to a few granules.
        " INDEX url_bloom url TYPE bloom_filter GRANULARITY 4",
        "ReplacingMergeTree",
        "(site_id, session_id, url)",
        "cityHash64(site_id, session_id)",
    ),
)

# Durable before acknowledged: each insert's part files and directory are fsynced before it returns.
# Replaced parts go at once, so erased or purged rows do not linger on disk in old parts.
SETTINGS = "fsync_after_insert = 1, fsync_part_directory = 1, old_parts_lifetime = 0"


@dataclass(frozen=True)
class Layout:
    """Where the tables are: a database, and a cluster when replicated."""

    database: str
    cluster: str | None = None

    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    @property
    def on_cluster(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""


# Columns added after a table was first created: (table, column definition), applied in order.
ADDED = (
    ("replay_chunks", "received_at Int64 DEFAULT 0"),
    ("dead_letters", "kind LowCardinality(String) DEFAULT 'invalid'"),
    # Events stored before touchpoints were: web when they had a page URL, else the site's
    # server (normalize.default_touchpoint), computed for the old parts as they are read.
    ("events", "touchpoint LowCardinality(String) DEFAULT if(url IS NULL, 'server', 'web')"),
    ("sessions", SESSION_VIEWS),  # filled by views.keep
    ("sessions", SESSION_SCROLLS),
)



def _json(field: str, kind: str, types: str) -> str:
    return f"if(type IN {types}, JSONExtract(data, {field!r}, {kind!r}), NULL)"


_CLICK, _SHOWN = "('click')", "('click', 'scroll')"
# The types most events are: their JSON is not copied into m_data.
FREQUENT_TYPES = ("pageview", "click", "scroll", "vital")
FREQUENT = "(" + ", ".join(f"'{t}'" for t in FREQUENT_TYPES) + ")"
# Fields of an event's JSON `data` that the heatmaps read for every click or scroll of a page,
# kept as columns of their own when the event is stored: parsing the JSON of half a million
# clicks at query time cost a second; reading these columns costs milliseconds. Each is exactly
# the JSONExtract the readers used to run (NULL for other types of event), so answers are the same.
# (column, type, expression); added to an existing store like ADDED, then filled in the background.
MATERIALIZED = (
    ("events", "m_vw", "Nullable(Float64)", _json("vw", "Nullable(Float64)", _SHOWN)),
    ("events", "m_x", "Nullable(Float64)", _json("x", "Nullable(Float64)", _CLICK)),
    ("events", "m_y", "Nullable(Float64)", _json("y", "Nullable(Float64)", _CLICK)),
    ("events", "m_rx", "Nullable(Float64)", _json("rx", "Nullable(Float64)", _CLICK)),
    ("events", "m_ry", "Nullable(Float64)", _json("ry", "Nullable(Float64)", _CLICK)),
    ("events", "m_dead", "UInt8", "if(type = 'click', JSONExtractBool(data, 'dead'), 0)"),
    ("events", "m_rage", "UInt8", "if(type = 'click', JSONExtractBool(data, 'rage'), 0)"),
    ("events", "m_tag", "LowCardinality(Nullable(String))", _json("tag", "Nullable(String)", _CLICK)),
    ("events", "m_text", "LowCardinality(Nullable(String))", _json("text", "Nullable(String)", _CLICK)),
    ("events", "m_depth", "Nullable(Float64)", _json("depth", "Nullable(Float64)", "('scroll')")),
    ("events", "m_vh", "Nullable(Int64)", _json("vh", "Nullable(Int64)", "('scroll')")),
    # A vital's value as the vitals read it: a number, true/false as 1/0, else none.
    ("events", "m_value", "Nullable(Float64)",
     "if(type = 'vital', multiIf(JSONType(data, 'value') = 'Bool', toFloat64(JSONExtractBool(data, 'value')),"
     " JSONType(data, 'value') IN ('Int64', 'UInt64', 'Double'), JSONExtractFloat(data, 'value'), NULL), NULL)"),
    # The data of the rarer types (errors, custom events, surveys, carts, purchases...), empty for
    # the types that make most events: their fields are read from this column, whose few
    # non-empty values decompress in a tenth of the time of the whole `data` column.
    ("events", "m_data", "String", f"if(type IN {FREQUENT}, '', data)"),
)


def create(conn: Connection, layout: Layout) -> None:
    """Create the database and every table that is missing, and add later columns (safe on every start)."""
    conn.command(f"CREATE DATABASE IF NOT EXISTS {layout.database}{layout.on_cluster}")
    for name, columns, engine, order, shard in (*TABLES, *TRIGGER_TABLES, *ASSET_TABLES):
        for statement in table_ddl(layout, name, columns, engine, order, shard):
            conn.command(statement)
    for name, column in ADDED:
        tables = [f"{name}_local", name] if layout.cluster else [name]
        for table in tables:
            conn.command(f"ALTER TABLE {layout.table(table)}{layout.on_cluster} ADD COLUMN IF NOT EXISTS {column}")
    materialize(conn, layout)
    resort_events(conn, layout)


def once(conn: Connection, layout: Layout, key: str, work: Callable[[], object]) -> bool:
    """Run `work` on a store that has not run it yet, then mark it done (the `meta` key `key`);
    whether it ran."""
    meta = layout.table("meta")
    if conn.rows(f"SELECT 1 FROM {meta} WHERE key = {lit(key)} LIMIT 1"):
        return False
    work()
    conn.command(f"INSERT INTO {meta} (key, value, inserted) VALUES ({lit(key)}, '1', 0)")
    return True


def materialize(conn: Connection, layout: Layout) -> None:
    """Add the MATERIALIZED columns a store lacks. New events get them on insert; the rows stored
    before are computed from the JSON as they are read (the same values, only slower) until a
    background mutation has written the column into their parts."""
    present = {(t, c) for t, c in conn.rows(
        f"SELECT table, name FROM system.columns WHERE database = {lit(layout.database)}"
    )}
    for name, column, kind, expression in MATERIALIZED:
        local = f"{name}_local" if layout.cluster else name
        if (local, column) in present:
            continue
        for table in ([local, name] if layout.cluster else [name]):
            conn.command(f"ALTER TABLE {layout.table(table)}{layout.on_cluster}"
                         f" ADD COLUMN IF NOT EXISTS {column} {kind} MATERIALIZED {expression}")
        if conn.rows(f"SELECT 1 FROM {layout.table(local)} LIMIT 1"):  # a new store has nothing to fill
            conn.command(f"ALTER TABLE {layout.table(local)}{layout.on_cluster} MATERIALIZE COLUMN {column}")


def resort_events(conn: Connection, layout: Layout) -> None:
    """Put the events of a store made before EVENTS_ORDER (and its column types) into it:
    ClickHouse cannot change a table's order in place, so the events are copied into a new table
    that then takes the old one's name (docs/deployment.md gives the same statements for a
    server). Answers are the same in either order, only slower in the old one; so this runs only
    where this process is alone with the store (embedded): a server's other collectors would write
    into the old table during the copy. A copy cut short leaves a spare table that the next start
    drops before it copies again."""
    database = lit(layout.database)
    local = "events_local" if layout.cluster else "events"
    order = conn.rows(f"SELECT sorting_key FROM system.tables WHERE database = {database} AND name = {lit(local)}")
    in_order = [key for key, in order] == [EVENTS_ORDER.strip("()")]
    if conn.state is None or layout.cluster is not None:
        if not in_order:
            log.warning("the events of %s are in an older order, answered alike but slower: docs/deployment.md"
                        " says how to copy them into the new one", layout.database)
        return
    events, spare = layout.table("events"), layout.table("events_resorting")
    conn.command(f"DROP TABLE IF EXISTS {spare} SYNC")  # SYNC: erased rows must not linger
    if in_order:
        return
    types = dict(conn.rows(f"SELECT name, type FROM system.columns WHERE database = {database} AND table = 'events'"))
    changed = ", ".join(f"MODIFY COLUMN {name} {kind}" for name, kind in EVENT_COLUMNS if types[name] != kind)
    conn.command(f"CREATE TABLE {spare} AS {events} ENGINE = MergeTree ORDER BY {EVENTS_ORDER} SETTINGS {SETTINGS}")
    if changed:
        conn.command(f"ALTER TABLE {spare} {changed}")
    conn.command(f"INSERT INTO {spare} SELECT * FROM {events}")  # the MATERIALIZED columns are computed again
    conn.command(f"EXCHANGE TABLES {events} AND {spare}")
    conn.command(f"DROP TABLE {spare} SYNC")


def table_ddl(layout: Layout, name: str, columns: str, engine: str, order: str, shard: str) -> list[str]:
    full = layout.table(name)
    if layout.cluster is None:
        return [f"CREATE TABLE IF NOT EXISTS {full} ({columns}) ENGINE = {engine}"
                f" ORDER BY {order} SETTINGS {SETTINGS}"]
    kind, _, args = engine.partition("(")
    replica = f"'/clickhouse/tables/{{shard}}/{layout.database}/{name}', '{{replica}}'"
    replicated = f"Replicated{kind}({replica}{', ' + args if args.rstrip(')') else ')'}"
    local = f"{full}_local"
    return [
        f"CREATE TABLE IF NOT EXISTS {local}{layout.on_cluster} ({columns}) ENGINE = {replicated}"
        f" ORDER BY {order} SETTINGS {SETTINGS}",
        f"CREATE TABLE IF NOT EXISTS {full}{layout.on_cluster} AS {local}"
        f" ENGINE = Distributed({layout.cluster}, {layout.database}, {name}_local, {shard})",
    ]
