"""The SQLite schema, created and upgraded by idempotent migrations."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("trailmark")


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
def m008_segments(db: Database) -> None:
    """Saved session filters (issue 8), usable as `segment=<id>` on every analyst endpoint."""
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
def m008_query_indexes(db: Database) -> None:
    """Indexes for the analyst queries (bench/query.py measures them)."""
    db.executescript(
        """
        -- Pageviews of a session in order, without reading the event rows (paths, top pages).
        CREATE INDEX IF NOT EXISTS events_session_type ON events (site_id, session_id, type, ts, path);
        """
    )


def migrate(db: Database) -> None:
    """Bring the schema up to date; safe to run on every start."""
    migrations.apply(db)
