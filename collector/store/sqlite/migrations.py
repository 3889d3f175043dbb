"""The SQLite schema, created and upgraded by idempotent migrations."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

from collector.store.sqlite import paths, touches
from collector.store.sqlite.rollups import cell, clicks, device, human, keys, point, trigger_body

migrations = Migrations("trailmark")
# Migrations are numbered in the order they apply. These two once carried numbers out of that
# order; a store that applied them under the old names has them renamed, not applied again.
RENAMED = {"m008_segments": "m002_segments", "m008_query_indexes": "m003_query_indexes"}


@migrations()
def m001_core(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sites (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            write_key TEXT NOT NULL UNIQUE,
            origins TEXT NOT NULL DEFAULT '[]',
            settings TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL
        );

        -- Per-session event streams: read through the (session_id, ts) index.
        CREATE TABLE events (
            rowid INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL,
            id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts INTEGER NOT NULL,
            client_ts INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            anon_id TEXT,
            user_id TEXT,
            url TEXT,
            path TEXT,
            route TEXT,
            name TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX events_dedup ON events (site_id, id);
        CREATE INDEX events_session ON events (session_id, ts);
        CREATE INDEX events_site_type_ts ON events (site_id, type, ts);

        CREATE TABLE sessions (
            site_id TEXT NOT NULL,
            id TEXT NOT NULL,
            visitor_id TEXT NOT NULL,
            anon_id TEXT,
            user_id TEXT,
            first_ts INTEGER NOT NULL,
            last_ts INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            events INTEGER NOT NULL DEFAULT 0,
            pageviews INTEGER NOT NULL DEFAULT 0,
            entry_ts INTEGER,
            entry_url TEXT,
            exit_ts INTEGER,
            exit_url TEXT,
            referrer TEXT,
            channel TEXT,
            utm_source TEXT,
            utm_medium TEXT,
            utm_campaign TEXT,
            utm_term TEXT,
            utm_content TEXT,
            browser TEXT,
            browser_version TEXT,
            os TEXT,
            os_version TEXT,
            device TEXT,
            device_brand TEXT,
            device_model TEXT,
            is_bot INTEGER NOT NULL DEFAULT 0,
            country TEXT,
            country_name TEXT,
            region TEXT,
            city TEXT,
            timezone TEXT,
            lat REAL,
            lon REAL,
            vw INTEGER,
            vh INTEGER,
            cart_adds INTEGER NOT NULL DEFAULT 0,
            purchases INTEGER NOT NULL DEFAULT 0,
            revenue REAL NOT NULL DEFAULT 0,
            clicks INTEGER NOT NULL DEFAULT 0,
            rage_clicks INTEGER NOT NULL DEFAULT 0,
            dead_clicks INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            has_replay INTEGER NOT NULL DEFAULT 0,
            replay_bytes INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (site_id, id)
        ) WITHOUT ROWID;
        CREATE INDEX sessions_site_first ON sessions (site_id, first_ts);
        CREATE INDEX sessions_visitor ON sessions (site_id, visitor_id, last_ts);
        CREATE INDEX sessions_id ON sessions (id);

        -- identify links an anonymous id to a known user; the latest identify wins.
        CREATE TABLE identities (
            site_id TEXT NOT NULL,
            anon_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            PRIMARY KEY (site_id, anon_id)
        ) WITHOUT ROWID;
        CREATE INDEX identities_user ON identities (site_id, user_id);

        CREATE TABLE persons (
            site_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            traits TEXT NOT NULL DEFAULT '{}',
            first_ts INTEGER NOT NULL,
            last_ts INTEGER NOT NULL,
            PRIMARY KEY (site_id, user_id)
        ) WITHOUT ROWID;

        CREATE TABLE dead_letters (
            rowid INTEGER PRIMARY KEY,
            site_id TEXT,
            received_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            raw TEXT NOT NULL
        );
        CREATE INDEX dead_letters_site ON dead_letters (site_id, received_at);

        CREATE TABLE replay_chunks (
            site_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            first_ts INTEGER NOT NULL,
            last_ts INTEGER NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (site_id, session_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );

        CREATE TABLE salts (
            day TEXT PRIMARY KEY,
            salt BLOB NOT NULL
        );
        """
    )


@migrations()
def m002_segments(db: Database) -> None:
    """Saved session filters, usable as `segment=<id>` on every analyst endpoint."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS segments (
            id INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL,
            name TEXT NOT NULL,
            filters TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS segments_site ON segments (site_id, id);
        """
    )


@migrations()
def m003_query_indexes(db: Database) -> None:
    """Indexes and rollups for the analyst queries (bench/query.py measures them)."""
    dims = "channel, utm_campaign, device, browser, country"
    sums = "sessions, pageviews, viewed, bounces, duration_ms, carts, abandoned, revenue, orders"

    def values(row: str, sign: str) -> str:
        return ", ".join([
            f"{row}.site_id", f"{row}.first_ts / 86400000", f"{row}.is_bot",
            *(f"coalesce({row}.{d}, '')" for d in dims.split(", ")),
            f"{sign}1", f"{sign}{row}.pageviews", f"{sign}({row}.pageviews > 0)",
            f"{sign}({row}.pageviews = 1)", f"{sign}{row}.duration_ms", f"{sign}({row}.cart_adds > 0)",
            f"{sign}({row}.cart_adds > 0 AND {row}.purchases = 0)", f"{sign}{row}.revenue",
            f"{sign}{row}.purchases",
        ])

    add = ", ".join(f"{c} = {c} + excluded.{c}" for c in sums.split(", "))
    upsert = f"INSERT INTO session_days VALUES ({{}}) ON CONFLICT DO UPDATE SET {add};"
    # Bots are known per session, often after its first pageviews: a session that becomes a
    # bot takes its pageviews back out of page_days, and a bot's later pageviews stay out.
    unbot = (
        "INSERT INTO page_days (site_id, day, path, pageviews)"
        " SELECT site_id, ts / 86400000, coalesce(path, ''), -count(*) FROM events"
        " WHERE site_id = new.site_id AND session_id = new.id AND type = 'pageview'"
        " GROUP BY 2, 3 ON CONFLICT DO UPDATE SET pageviews = pageviews + excluded.pageviews;"
    )
    db.executescript(
        f"""
        -- Sessions by the UTC day they started and the overview's breakdowns, kept by triggers
        -- in the writer's transaction: exact, never stale. NULL dimensions are stored as ''.
        CREATE TABLE session_days (
            site_id TEXT NOT NULL, day INTEGER NOT NULL, is_bot INTEGER NOT NULL,
            channel TEXT NOT NULL, utm_campaign TEXT NOT NULL, device TEXT NOT NULL,
            browser TEXT NOT NULL, country TEXT NOT NULL,
            sessions INTEGER NOT NULL, pageviews INTEGER NOT NULL, viewed INTEGER NOT NULL,
            bounces INTEGER NOT NULL, duration_ms INTEGER NOT NULL, carts INTEGER NOT NULL,
            abandoned INTEGER NOT NULL, revenue REAL NOT NULL, orders INTEGER NOT NULL,
            PRIMARY KEY (site_id, day, is_bot, {dims})
        ) WITHOUT ROWID;
        INSERT INTO session_days SELECT {values("s", "")} FROM sessions s WHERE true
            ON CONFLICT DO UPDATE SET {add};
        CREATE TRIGGER session_days_insert AFTER INSERT ON sessions BEGIN
            {upsert.format(values("new", ""))}
        END;
        CREATE TRIGGER session_days_update AFTER UPDATE OF
            first_ts, is_bot, {dims}, pageviews, duration_ms, cart_adds, purchases, revenue
            ON sessions BEGIN
            {upsert.format(values("old", "-"))}
            {upsert.format(values("new", ""))}
        END;
        CREATE TRIGGER session_days_delete AFTER DELETE ON sessions BEGIN
            {upsert.format(values("old", "-"))}
        END;

        -- Pageviews of humans by the UTC day they happened and path (the overview's top pages).
        CREATE TABLE page_days (
            site_id TEXT NOT NULL, day INTEGER NOT NULL, path TEXT NOT NULL,
            pageviews INTEGER NOT NULL,
            PRIMARY KEY (site_id, day, path)
        ) WITHOUT ROWID;
        INSERT INTO page_days SELECT e.site_id, e.ts / 86400000, coalesce(e.path, ''), count(*)
            FROM events e WHERE e.type = 'pageview' AND NOT EXISTS (SELECT 1 FROM sessions s
            WHERE s.site_id = e.site_id AND s.id = e.session_id AND s.is_bot = 1) GROUP BY 1, 2, 3;
        CREATE TRIGGER page_days_insert AFTER INSERT ON events WHEN new.type = 'pageview'
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.site_id = new.site_id
                            AND s.id = new.session_id AND s.is_bot = 1) BEGIN
            INSERT INTO page_days VALUES (new.site_id, new.ts / 86400000, coalesce(new.path, ''), 1)
                ON CONFLICT DO UPDATE SET pageviews = pageviews + 1;
        END;
        CREATE TRIGGER page_days_bot_insert AFTER INSERT ON sessions WHEN new.is_bot = 1 BEGIN
            {unbot}
        END;
        CREATE TRIGGER page_days_bot_update AFTER UPDATE OF is_bot ON sessions
            WHEN new.is_bot = 1 AND old.is_bot = 0 BEGIN
            {unbot}
        END;
        CREATE TRIGGER page_days_delete AFTER DELETE ON events WHEN old.type = 'pageview'
            AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.site_id = old.site_id
                            AND s.id = old.session_id AND s.is_bot = 1) BEGIN
            UPDATE page_days SET pageviews = pageviews - 1 WHERE site_id = old.site_id
                AND day = old.ts / 86400000 AND path = coalesce(old.path, '');
        END;

        -- Pageviews of a session in order, read from the index alone (paths, funnels).
        CREATE INDEX events_session_type ON events (site_id, session_id, type, ts, path);
        -- Distinct and converted visitors over a range, read from the index alone.
        CREATE INDEX sessions_visitors ON sessions (site_id, first_ts, is_bot, visitor_id, purchases);
        """
    )


@migrations()
def m006_heatmap(db: Database) -> None:
    """Heatmap rollups, kept in the writer's transaction: exact, never stale. Stored clicks
    are added per commit group since m011 (store/rollups.py); deletes and bots still use triggers.

    docs/heatmaps.md explains the grids; collector/query/heatmap.py reads these tables.
    """
    # The hot path, one row per stored click: plain VALUES, no GROUP BY sorter per statement.
    upsert = "ON CONFLICT DO UPDATE SET n = n + excluded.n"
    one_click = f"""
            INSERT INTO heatmap_elements (site_id, route, device, day, rage, sel, n, dead, tag, text)
                VALUES ({keys("new")}, 1, coalesce(json_extract(new.data, '$.dead'), 0),
                    json_extract(new.data, '$.tag'), json_extract(new.data, '$.text'))
                ON CONFLICT DO UPDATE SET n = n + 1, dead = dead + excluded.dead,
                    tag = coalesce(max(tag, excluded.tag), tag, excluded.tag),
                    text = coalesce(max(text, excluded.text), text, excluded.text);
            INSERT INTO heatmap_cells VALUES ({keys("new")}, {cell("new", "rx")}, {cell("new", "ry")}, 1) {upsert};
            INSERT INTO heatmap_points VALUES ({keys("new")}, {point("new", "x")}, {point("new", "y")}, 1) {upsert};"""
    bot_clicks = "FROM events e WHERE e.site_id = new.site_id AND e.session_id = new.id AND e.type = 'click'"

    # Scroll: one report per pageview counts, its latest (deepest). Two reports belong to the same
    # pageview when they share session and URL with no pageview of that session between them.
    def same_view(a: str, b: str) -> str:
        """Report `a` (an events row) and report `b` (a heatmap_scroll_views row) are one pageview."""
        return (f"{b}.site_id = {a}.site_id AND {b}.session_id = {a}.session_id AND {b}.url IS {a}.url"
                f" AND NOT EXISTS (SELECT 1 FROM events p WHERE p.site_id = {a}.site_id"
                f" AND p.session_id = {a}.session_id AND p.type = 'pageview'"
                f" AND p.ts > min({a}.ts, {b}.ts) AND p.ts <= max({a}.ts, {b}.ts))")

    def views(sign: str, row: str) -> str:
        return f"""INSERT INTO heatmap_scroll VALUES ({row}.site_id, {row}.route, {row}.device,
                {row}.day, {row}.depth, {sign}1, {sign}coalesce({row}.vh, 0), {sign}({row}.vh IS NOT NULL))
            ON CONFLICT DO UPDATE SET n = n + excluded.n, vh_sum = vh_sum + excluded.vh_sum,
                vh_n = vh_n + excluded.vh_n;"""

    db.executescript(
        f"""
        -- Clicks per page (route template), device bucket, UTC day, rage flag and element selector.
        CREATE TABLE heatmap_elements (
            site_id TEXT NOT NULL, route TEXT NOT NULL, device TEXT NOT NULL, day INTEGER NOT NULL,
            rage INTEGER NOT NULL, sel TEXT NOT NULL,
            n INTEGER NOT NULL, dead INTEGER NOT NULL, tag TEXT, text TEXT,
            PRIMARY KEY (site_id, route, device, day, rage, sel)
        ) WITHOUT ROWID;
        -- Where inside its element a click landed: rx, ry on a 16 x 16 grid.
        CREATE TABLE heatmap_cells (
            site_id TEXT NOT NULL, route TEXT NOT NULL, device TEXT NOT NULL, day INTEGER NOT NULL,
            rage INTEGER NOT NULL, sel TEXT NOT NULL, gx INTEGER NOT NULL, gy INTEGER NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (site_id, route, device, day, rage, sel, gx, gy)
        ) WITHOUT ROWID;
        -- Where on the page a click landed (32 px grid): drawn only for elements the viewer cannot find.
        CREATE TABLE heatmap_points (
            site_id TEXT NOT NULL, route TEXT NOT NULL, device TEXT NOT NULL, day INTEGER NOT NULL,
            rage INTEGER NOT NULL, sel TEXT NOT NULL, px INTEGER NOT NULL, py INTEGER NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (site_id, route, device, day, rage, sel, px, py)
        ) WITHOUT ROWID;

        CREATE TRIGGER heatmap_click_insert AFTER INSERT ON events
            WHEN new.type = 'click' AND {human("new")} BEGIN
            {one_click}
        END;
        CREATE TRIGGER heatmap_click_delete AFTER DELETE ON events
            WHEN old.type = 'click' AND {human("old")} BEGIN
            {trigger_body(clicks("old", "-", "WHERE true"))}
        END;
        CREATE TRIGGER heatmap_click_bot_insert AFTER INSERT ON sessions WHEN new.is_bot = 1 BEGIN
            {trigger_body(clicks("e", "-", bot_clicks))}
        END;
        CREATE TRIGGER heatmap_click_bot_update AFTER UPDATE OF is_bot ON sessions
            WHEN new.is_bot = 1 AND old.is_bot = 0 BEGIN
            {trigger_body(clicks("e", "-", bot_clicks))}
        END;

        -- The counted scroll report of each pageview of a human; heatmap_scroll sums these.
        CREATE TABLE heatmap_scroll_views (
            event INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL, session_id TEXT NOT NULL, url TEXT, ts INTEGER NOT NULL,
            route TEXT NOT NULL, path TEXT NOT NULL, device TEXT NOT NULL, day INTEGER NOT NULL,
            depth INTEGER NOT NULL, vh INTEGER
        );
        CREATE INDEX heatmap_scroll_views_session ON heatmap_scroll_views (site_id, session_id, url, ts);
        CREATE INDEX heatmap_scroll_views_path ON heatmap_scroll_views (site_id, path, ts);
        -- Pageviews by the depth they reached (0..100 % of the document) and their viewport heights.
        CREATE TABLE heatmap_scroll (
            site_id TEXT NOT NULL, route TEXT NOT NULL, device TEXT NOT NULL, day INTEGER NOT NULL,
            depth INTEGER NOT NULL, n INTEGER NOT NULL, vh_sum INTEGER NOT NULL, vh_n INTEGER NOT NULL,
            PRIMARY KEY (site_id, route, device, day, depth)
        ) WITHOUT ROWID;
        CREATE TRIGGER heatmap_scroll_view_insert AFTER INSERT ON heatmap_scroll_views BEGIN
            {views("", "new")}
        END;
        CREATE TRIGGER heatmap_scroll_view_delete AFTER DELETE ON heatmap_scroll_views BEGIN
            {views("-", "old")}
        END;
        -- A later report replaces the earlier one of its pageview; a late-arriving earlier one is ignored.
        CREATE TRIGGER heatmap_scroll_insert AFTER INSERT ON events
            WHEN new.type = 'scroll' AND {human("new")} AND NOT EXISTS (
                SELECT 1 FROM heatmap_scroll_views v WHERE {same_view("new", "v")} AND v.ts > new.ts)
            BEGIN
            DELETE FROM heatmap_scroll_views WHERE event IN (
                SELECT v.event FROM heatmap_scroll_views v WHERE {same_view("new", "v")});
            INSERT INTO heatmap_scroll_views VALUES (new.rowid, new.site_id, new.session_id, new.url,
                new.ts, coalesce(new.route, new.path, ''), coalesce(new.path, ''), {device("new")},
                new.ts / 86400000, coalesce(json_extract(new.data, '$.depth'), 0),
                json_extract(new.data, '$.vh'));
        END;
        CREATE TRIGGER heatmap_scroll_delete AFTER DELETE ON events WHEN old.type = 'scroll' BEGIN
            DELETE FROM heatmap_scroll_views WHERE event = old.rowid;
        END;
        CREATE TRIGGER heatmap_scroll_bot_insert AFTER INSERT ON sessions WHEN new.is_bot = 1 BEGIN
            DELETE FROM heatmap_scroll_views WHERE site_id = new.site_id AND session_id = new.id;
        END;
        CREATE TRIGGER heatmap_scroll_bot_update AFTER UPDATE OF is_bot ON sessions
            WHEN new.is_bot = 1 AND old.is_bot = 0 BEGIN
            DELETE FROM heatmap_scroll_views WHERE site_id = new.site_id AND session_id = new.id;
        END;

        -- Clicks of one concrete path (not a route template), for heatmaps of /product/42.
        CREATE INDEX events_click_path ON events (site_id, path, ts) WHERE type = 'click';
        """
    )


@migrations()
def m010_drop_events_session_index(db: Database) -> None:
    """Every read of a session's events also names its site, so events_session_type serves them:
    one index less to update per stored event."""
    db.execute("DROP INDEX IF EXISTS events_session")


@migrations()
def m011_fold_clicks_per_group(db: Database) -> None:
    """The writer adds each commit group's clicks to the heatmap grids with one GROUP BY per grid
    (store/rollups.py fold_clicks) instead of this trigger's three upserts per stored click."""
    db.execute("DROP TRIGGER IF EXISTS heatmap_click_insert")


@migrations()
def m012_replay_chunk_received_at(db: Database) -> None:
    """When each chunk was stored, so a site's replay bytes per hour and day are one index range
    (replay_limits.ReplayLedger); chunks stored before this have 0, outside every window."""
    db.executescript(
        """
        ALTER TABLE replay_chunks ADD COLUMN received_at INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX replay_chunks_received ON replay_chunks (site_id, received_at, size);
        """
    )


@migrations()
def m013_verified_identity(db: Database) -> None:
    """A secret server key per site (stored as its SHA-256 only), identify links and session owners
    vouched for by the site's backend, and logged-out dashboard logins (docs/security.md)."""
    db.executescript(
        """
        ALTER TABLE sites ADD COLUMN secret_hash TEXT;
        CREATE UNIQUE INDEX sites_secret ON sites (secret_hash) WHERE secret_hash IS NOT NULL;
        ALTER TABLE identities ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
        -- The user the site's backend vouched for in this session (user_id is what was claimed).
        ALTER TABLE sessions ADD COLUMN verified_user TEXT;
        -- What was stored before this version keeps the trust it had then.
        UPDATE identities SET verified = 1;
        UPDATE sessions SET verified_user = user_id WHERE user_id IS NOT NULL;
        CREATE INDEX sessions_verified_user ON sessions (site_id, verified_user, last_ts)
            WHERE verified_user IS NOT NULL;
        CREATE TABLE revoked_logins (
            id TEXT PRIMARY KEY,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m014_events_type_ts_session(db: Database) -> None:
    """Funnels and paths read the events of a few types over a range from this index alone, in
    one pass (the session, page and name beside the time). It replaces events_site_type_ts, whose
    columns are its prefix, so ingest still updates the same number of indexes per event."""
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS events_type_ts_session ON events (site_id, type, ts, session_id, path, route, name);
        DROP INDEX IF EXISTS events_site_type_ts;
        """
    )


@migrations()
def m015_goals(db: Database) -> None:
    """A site's goals (collector/query/goals.py)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS goals (
            id INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL,
            name TEXT NOT NULL,
            definition TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS goals_site ON goals (site_id, id);
        """
    )


@migrations()
def m016_experiments(db: Database) -> None:
    """Experiments defined per site, and the exposures of an experiment read from an index alone:
    an exposure is an event with type 'exposure', its experiment in `name`."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS experiments (
            site_id TEXT NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            variants TEXT NOT NULL,
            goal TEXT,
            metrics TEXT NOT NULL DEFAULT '[]',
            hypothesis TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            PRIMARY KEY (site_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS events_exposure ON events (site_id, name, ts, session_id)
            WHERE type = 'exposure';
        """
    )


@migrations()
def m017_event_touchpoint(db: Database) -> None:
    """Where each contact happened (web, email, call_center, store...): events stored before this
    were web when they had a page URL, else the site's server (normalize.default_touchpoint)."""
    db.executescript(
        """
        ALTER TABLE events ADD COLUMN touchpoint TEXT NOT NULL DEFAULT 'web';
        UPDATE events SET touchpoint = 'server' WHERE url IS NULL;
        """
    )


@migrations()
def m018_outcome_scores(db: Database) -> None:
    """The likely-outcome model's last report per site and its scores per person, replaced whole
    by each training (query/outcome.py); the `outcome` session filter reads the labels."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS outcome_models (
            site_id TEXT PRIMARY KEY,
            trained_at INTEGER NOT NULL,
            report TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS outcome_scores (
            site_id TEXT NOT NULL,
            visitor_id TEXT NOT NULL,
            probability REAL NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (site_id, visitor_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS outcome_scores_label ON outcome_scores (site_id, label, probability);
        """
    )


@migrations()
def m019_triggers(db: Database) -> None:
    """Journey triggers: rules, the outbox that is also the delivery log, pending absence checks
    (IF NOT EXISTS: a database made while this migration had another number is left as it is)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS trigger_rules (
            id INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL,
            name TEXT NOT NULL,
            spec TEXT NOT NULL,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            cooldown_s INTEGER NOT NULL DEFAULT 0,
            sample REAL NOT NULL DEFAULT 1,
            max_per_hour INTEGER,
            enabled INTEGER NOT NULL DEFAULT 1,
            disabled_reason TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS trigger_rules_site ON trigger_rules (site_id, enabled);

        -- One row per firing: the outbox while next_at is set, the delivery log after.
        CREATE TABLE IF NOT EXISTS trigger_deliveries (
            id TEXT PRIMARY KEY,
            rule_id INTEGER NOT NULL,
            site_id TEXT NOT NULL,
            visitor_id TEXT NOT NULL,
            session_id TEXT,
            fired_at INTEGER NOT NULL,
            events TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at INTEGER,
            first_attempt_at INTEGER,
            last_attempt_at INTEGER,
            response_code INTEGER,
            error TEXT,
            latency_ms INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS trigger_deliveries_due ON trigger_deliveries (next_at) WHERE next_at IS NOT NULL;
        CREATE INDEX IF NOT EXISTS trigger_deliveries_rule ON trigger_deliveries (rule_id, fired_at);

        -- Absence checks waiting for their due time; the scheduler reads them by due_at only.
        -- A rowid table with no index on the random id: a check per cart add appends to the end
        -- of both B-trees (their events are deduplicated before any check is made).
        CREATE TABLE IF NOT EXISTS trigger_checks (
            id TEXT NOT NULL,
            rule_id INTEGER NOT NULL,
            site_id TEXT NOT NULL,
            visitor_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            start TEXT NOT NULL,
            start_ts INTEGER NOT NULL,
            due_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS trigger_checks_due ON trigger_checks (due_at);

        CREATE TABLE IF NOT EXISTS trigger_fired (
            rule_id INTEGER NOT NULL,
            visitor_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (rule_id, visitor_id)
        ) WITHOUT ROWID;
        """
    )


@migrations()
def m021_replay_assets(db: Database) -> None:
    """Copies of the stylesheets, fonts and images recordings use (collector/store/assets.py): the
    bytes once per site and content, and which copy each session's recorded URL is shown with."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS replay_assets (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            content_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            stored_at INTEGER NOT NULL
        );
        -- A site's copy bytes per hour and day (the replay budgets) are one index range.
        CREATE INDEX IF NOT EXISTS replay_assets_stored ON replay_assets (site_id, stored_at, size);

        CREATE TABLE IF NOT EXISTS replay_asset_refs (
            site_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            url TEXT NOT NULL,
            asset_id TEXT NOT NULL,
            ts INTEGER NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (site_id, session_id, url)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS replay_asset_refs_url ON replay_asset_refs (site_id, url, fetched_at);
        CREATE INDEX IF NOT EXISTS replay_asset_refs_asset ON replay_asset_refs (asset_id);
        CREATE INDEX IF NOT EXISTS replay_asset_refs_ts ON replay_asset_refs (ts);
        """
    )


@migrations()
def m022_experiment_saved_goal(db: Database) -> None:
    """An experiment's goal may be a saved goal: its id, name and definition as they were when the
    experiment was defined (query/experiments.py), as JSON; NULL for the others."""
    if "saved_goal" not in db["experiments"].columns_dict:
        db.execute("ALTER TABLE experiments ADD COLUMN saved_goal TEXT")


@migrations()
def m024_dead_letter_kind(db: Database) -> None:
    """Why each dead letter was refused, as one of a closed set of kinds (store.model.RejectKind),
    so that nobody reads the kind out of the sentence again. Rows stored before it get the kind
    their sentence stood for."""
    db.executescript(
        """
        ALTER TABLE dead_letters ADD COLUMN kind TEXT NOT NULL DEFAULT 'invalid';
        UPDATE dead_letters SET kind = CASE
            WHEN source = 'replay' THEN 'over_budget'
            WHEN reason LIKE '%larger than%' THEN 'too_large'
            WHEN reason LIKE 'nested deeper than%' THEN 'too_deep'
            WHEN reason = 'ts too old' THEN 'too_old'
            ELSE 'invalid' END;
        """
    )


def migrate(db: Database) -> None:
    """Bring the schema up to date; safe to run on every start."""
    table = migrations.migrations_table
    if db[table].exists():
        with db.conn:
            db.conn.executemany(
                f"UPDATE {table} SET name = ? WHERE migration_set = ? AND name = ?",
                [(new, migrations.name, old) for old, new in RENAMED.items()],
            )
    migrations.apply(db)


@migrations()
def m025_teams(db: Database) -> None:
    """People with a password and a role per site, single-use invites, API keys (stored as their
    SHA-256 only), read-only share links and scheduled e-mail reports (docs/security.md)
    (IF NOT EXISTS: a database made while this migration had another number is left as it is)."""
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS accounts (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            password_hash TEXT,
            created_at INTEGER NOT NULL
        );
        -- site_id '*' is every site, present and future.
        CREATE TABLE IF NOT EXISTS memberships (
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            site_id TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (account_id, site_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS invites (
            token_hash TEXT PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS api_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            site_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE IF NOT EXISTS share_links (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            view TEXT NOT NULL,
            params TEXT NOT NULL,
            people INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked_at INTEGER
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS schedules (
            id INTEGER PRIMARY KEY,
            site_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            recipients TEXT NOT NULL,
            settings TEXT NOT NULL,
            last_sent INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@migrations()
def m026_sessions_by_start(db: Database) -> None:
    """Sessions kept in the order of their start (the primary key site_id, first_ts, id), as a
    ClickHouse table is ordered: every question of a date range reads its sessions as one run of
    the table instead of one key lookup per session from the (site_id, first_ts) index (at 120,000
    sessions the overview's sources pass 2.5 s -> 1.0 s, a filtered session list 0.3 s -> 0.05 s).
    A session is found by its id through the unique index (id, site_id), which also serves the
    writer's upsert; an earlier event arriving late moves the row, as an update of its key."""
    conn = db.conn
    table = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sessions'").fetchone()[0]
    if "PRIMARY KEY (site_id, id)" not in table:
        return
    kept = [
        sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'sessions' AND sql IS NOT NULL"
            " AND (type = 'trigger' OR (type = 'index' AND name NOT IN ('sessions_site_first', 'sessions_id')))"
        )
    ]
    # The old table is dropped before the new one takes its name, while triggers of other tables
    # name it: the legacy rename leaves their text alone instead of refusing the dangling name.
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:  # inside the migration's own transaction: all of it, or none
        conn.execute(table.replace("CREATE TABLE sessions", "CREATE TABLE sessions_by_start", 1)
                     .replace("PRIMARY KEY (site_id, id)", "PRIMARY KEY (site_id, first_ts, id)"))
        conn.execute("INSERT INTO sessions_by_start SELECT * FROM sessions ORDER BY site_id, first_ts, id")
        conn.execute("DROP TABLE sessions")
        conn.execute("ALTER TABLE sessions_by_start RENAME TO sessions")
        conn.execute("CREATE UNIQUE INDEX sessions_key ON sessions (id, site_id)")
        for sql in kept:
            conn.execute(sql)
    finally:
        conn.execute("PRAGMA legacy_alter_table = OFF")


@migrations()
def m027_vital_values(db: Database) -> None:
    """The vitals in time order with all the report reads of them: their metric, page and value
    (the JSON path read once on write). Without it each vital costs a lookup of its events row to
    read `data` (at 120,000 vitals the read 1.1 s -> 0.14 s); only vital events pay on write."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS events_vital ON events"
        " (site_id, ts, session_id, name, path, json_extract(data, '$.value')) WHERE type = 'vital'"
    )


@migrations()
def m028_journey_touches(db: Database) -> None:
    """The journey map reads every event of the scope's sessions: with the name and touchpoint in
    the session index it reads them from the index alone, not one events row per event. The index
    keeps its name, its first columns and the order of its entries (the rowid, which broke ties
    after the path, stays before the new columns), so every read of it stays as it was. Rage and dead
    clicks, a few percent of clicks, get a small index of their own, so that the rows of the other
    clicks are not looked up for their `data` either. Only a rage or dead click adds an index entry
    on write; rebuilding the session index takes a few seconds per million events, once."""
    db.execute("DROP INDEX IF EXISTS events_session_type")
    db.execute(
        "CREATE INDEX events_session_type ON events (site_id, session_id, type, ts, path, rowid, name, touchpoint)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS events_friction ON events (site_id, ts)"
        " WHERE type = 'click' AND (data ->> '$.rage' OR data ->> '$.dead')"
    )


# The overview's sources that a session holds from its start: (kind, value, extra) of a session
# row, each NULL kept as '' (the overview reads both as none).
_SOURCES = (("referrer", "referrer", None), ("entry", "entry_url", None), ("region", "country", "region"))


def _source_key(row: str, kind: str, value: str, extra: str | None) -> str:
    empty = "''"
    return (f"{row}site_id, {row}first_ts / 86400000, {row}is_bot, '{kind}', coalesce({row}{value}, ''),"
            f" {f'coalesce({row}{extra}, {empty})' if extra else empty}")


def _source_rows(row: str, sign: str) -> str:
    """Add (sign '') or take back (sign '-') session `row`'s sources in source_days; a row taken
    back to no sessions goes (its value may be a page address an erased person saw)."""
    statements = []
    for kind, value, extra in _SOURCES:
        key = _source_key(f"{row}.", kind, value, extra)
        statements.append(f"INSERT INTO source_days VALUES ({key}, {sign}1)"
                          " ON CONFLICT DO UPDATE SET sessions = sessions + excluded.sessions;")
        if sign:
            statements.append("DELETE FROM source_days WHERE (site_id, day, is_bot, kind, value, extra)"
                              f" = ({key}) AND sessions = 0;")
    return "\n".join(statements)


@migrations()
def m029_source_days(db: Database) -> None:
    """Sessions by the UTC day they started and their referrer, entry page or region (the
    overview's sources, but exit pages), kept by triggers in the writer's transaction as
    session_days is. These are fixed once a session has begun, so the triggers write when a session
    is new, changes one of them or goes, not on every pageview; exit pages change with each
    pageview and are grouped from the sessions at query time."""
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in ("is_bot", "referrer", "entry_url", "country", "region"))
    backfill = "".join(
        f"INSERT INTO source_days SELECT {_source_key('', kind, value, extra)}, count(*) FROM sessions"
        " GROUP BY 1, 2, 3, 5, 6;"
        for kind, value, extra in _SOURCES
    )
    db.executescript(
        f"""
        CREATE TABLE source_days (
            site_id TEXT NOT NULL, day INTEGER NOT NULL, is_bot INTEGER NOT NULL,
            kind TEXT NOT NULL, value TEXT NOT NULL, extra TEXT NOT NULL, sessions INTEGER NOT NULL,
            PRIMARY KEY (site_id, day, is_bot, kind, value, extra)
        ) WITHOUT ROWID;
        {backfill}
        CREATE TRIGGER source_days_insert AFTER INSERT ON sessions BEGIN
            {_source_rows("new", "")}
        END;
        CREATE TRIGGER source_days_update AFTER UPDATE OF first_ts, is_bot, referrer, entry_url, country, region
            ON sessions WHEN old.first_ts / 86400000 != new.first_ts / 86400000 OR {changed} BEGIN
            {_source_rows("old", "-")}
            {_source_rows("new", "")}
        END;
        CREATE TRIGGER source_days_delete AFTER DELETE ON sessions BEGIN
            {_source_rows("old", "-")}
        END;
        """
    )


@migrations()
def m030_session_paths(db: Database) -> None:
    """Each session's pageview paths on its own row (collector/store/sqlite/paths.py), so that a
    filtered overview counts pageviews by path in its one read of the scope's sessions instead of
    seeking each session's pageviews in the events index. Triggers recompute the text from the
    session's pageviews when a session begins with some or their count changes (the writer's
    upsert sets every column, hence the WHEN), and forget it (NULL: read from the events) when a
    pageview is deleted; a text once unknown stays so, which also bounds what a long session's
    recompute reads. The backfill reads each session's pageviews once."""
    recompute = f"UPDATE sessions SET paths = {paths.of_events_sql('new')} WHERE site_id = new.site_id AND id = new.id;"
    db.executescript(
        f"""
        ALTER TABLE sessions ADD COLUMN paths TEXT DEFAULT '';
        UPDATE sessions SET paths = {paths.of_events_sql('sessions')} WHERE pageviews > 0;
        CREATE TRIGGER session_paths_insert AFTER INSERT ON sessions WHEN new.pageviews > 0 BEGIN
            {recompute}
        END;
        CREATE TRIGGER session_paths_update AFTER UPDATE OF pageviews ON sessions
            WHEN new.pageviews IS NOT old.pageviews AND old.paths IS NOT NULL BEGIN
            {recompute}
        END;
        CREATE TRIGGER session_paths_forget AFTER DELETE ON events WHEN old.type = 'pageview' BEGIN
            UPDATE sessions SET paths = NULL WHERE id = old.session_id AND site_id = old.site_id AND paths IS NOT NULL;
        END;
        """
    )


def _scroll_views_of(row: str | None) -> str:
    """Count again the scroll views of the session of events row `row` (None: of every session):
    each human report that no later report of its URL follows without a pageview of the session
    between them (at the very time of the later one counts as between, as ClickHouse reads it),
    the later of two at one instant by storage order."""
    session = f" WHERE site_id = {row}.site_id AND session_id = {row}.session_id" if row else ""
    of = f"r.site_id = {row}.site_id AND r.session_id = {row}.session_id AND " if row else ""
    return f"""DELETE FROM heatmap_scroll_views{session};
        INSERT INTO heatmap_scroll_views SELECT r.rowid, r.site_id, r.session_id, r.url, r.ts,
                coalesce(r.route, r.path, ''), coalesce(r.path, ''), {device("r")}, r.ts / 86400000,
                coalesce(json_extract(r.data, '$.depth'), 0), json_extract(r.data, '$.vh')
            FROM events r WHERE {of}r.type = 'scroll' AND {human("r")} AND NOT EXISTS (
                SELECT 1 FROM events l WHERE l.site_id = r.site_id AND l.session_id = r.session_id
                AND l.type = 'scroll' AND l.url IS r.url AND (l.ts > r.ts OR l.ts = r.ts AND l.rowid > r.rowid)
                AND NOT EXISTS (SELECT 1 FROM events p WHERE p.site_id = r.site_id AND p.session_id = r.session_id
                                AND p.type = 'pageview' AND p.ts > r.ts AND p.ts <= l.ts));"""


@migrations()
def m031_scroll_views_after_late_pageviews(db: Database) -> None:
    """Scroll reports are of one view while no pageview of their session lies between them. The
    insert trigger judges a report by the pageviews stored before it, so a pageview stored after
    a report at or after its own time (a retried batch, a slow connection) may fall between reports
    already counted as one view: the session's views are then counted again from its events, as
    if every event had come in time, which is how ClickHouse reads them at query time. (A pageview
    that goes never joins two views: a purge takes every report before it too, an erasure the
    whole session.) Views stored before are counted again once, here."""
    db.executescript(
        f"""
        {_scroll_views_of(None)}
        CREATE TRIGGER heatmap_scroll_late_pageview AFTER INSERT ON events WHEN new.type = 'pageview'
            AND EXISTS (SELECT 1 FROM events r WHERE r.site_id = new.site_id AND r.session_id = new.session_id
                        AND r.type = 'scroll' AND r.ts >= new.ts) BEGIN
            {_scroll_views_of("new")}
        END;
        """
    )


@migrations()
def m032_session_span(db: Database) -> None:
    """The longest session each site has had (last_ts - first_ts), kept by triggers: a session
    open across a range's start began at most that long before it, so the reads of such sessions
    seek a bounded stretch of the sessions' start order instead of every older session. Never
    lowered (a purge or an erasure leaves a bound that is only looser)."""
    # Written only when a session outgrows the longest: most updates of a session find it shorter.
    longer = ("new.last_ts - new.first_ts > coalesce((SELECT longest FROM session_span"
              " WHERE site_id = new.site_id), -1)")
    upsert = ("INSERT INTO session_span VALUES (new.site_id, new.last_ts - new.first_ts)"
              " ON CONFLICT DO UPDATE SET longest = excluded.longest;")
    db.executescript(
        f"""
        CREATE TABLE session_span (site_id TEXT PRIMARY KEY, longest INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO session_span SELECT site_id, max(last_ts - first_ts) FROM sessions GROUP BY site_id;
        CREATE TRIGGER session_span_insert AFTER INSERT ON sessions WHEN {longer} BEGIN
            {upsert}
        END;
        CREATE TRIGGER session_span_update AFTER UPDATE OF first_ts, last_ts ON sessions WHEN {longer} BEGIN
            {upsert}
        END;
        """
    )


@migrations()
def m033_session_touches(db: Database) -> None:
    """Each session's touches kept on write as packed records (collector/store/sqlite/touches.py),
    so that the journey map reads a row per session instead of every event of its sessions. The
    rows of the sessions stored before are packed here from their events."""
    db.executescript(touches.SCHEMA)
    touches.repack(db.conn)
