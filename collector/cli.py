"""The `trailmark` command: serve, sites, rejected, demo, purge, backup."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import sys
from pathlib import Path

import click
import msgspec

from collector import maintenance
from collector.config import Settings
from collector.demo import commands as demo_commands
from collector.demo.shop import DEMO_KEY, DEMO_SITE
from collector.query import rejected as rejected_queries
from collector.store import SQLiteStore


def _store(db: str | None) -> SQLiteStore:
    return SQLiteStore(Path(db or os.environ.get("TRAILMARK_DB", "trailmark.db")))


db_option = click.option(
    "--db", type=click.Path(dir_okay=False), default=None,
    help="SQLite file [env TRAILMARK_DB, default ./trailmark.db]",
)


@click.group()
@click.version_option(package_name="trailmark-collector")
def main() -> None:
    """Trailmark: self-hosted customer-journey tracking."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@db_option
@click.option("--geoip", type=click.Path(exists=True, dir_okay=False), default=None,
              help="MaxMind .mmdb City database [env TRAILMARK_GEOIP]")
@click.option("--demo", is_flag=True, help="Create the demo site and serve the demo shop.")
def serve(host: str, port: int, db: str | None, geoip: str | None, demo: bool) -> None:
    """Run the collector."""
    from collector.app import create_app
    from collector.server import serve as serve_http

    settings = Settings.from_env(
        db=Path(db) if db else None, geoip=Path(geoip) if geoip else None, demo=demo
    )
    store = SQLiteStore(settings.db, max_pending=settings.max_pending,
                        synchronous=settings.synchronous)
    if not os.environ.get("TRAILMARK_ADMIN_TOKEN"):
        # Stable across restarts: the first start picks the token and keeps it in the database.
        token = store.meta("admin_token", secrets.token_urlsafe(24))
        settings = dataclasses.replace(settings, admin_token=token)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if demo:
        store.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
        _seed_demo_once(store, base)
    click.echo(f"Trailmark collector on {base}  (database {settings.db})")
    click.echo(f"  admin token : {settings.admin_token}")
    click.echo(f"  geo         : {settings.geoip or 'off (no --geoip / TRAILMARK_GEOIP: geo fields stay empty)'}")
    for site in store.sites():
        click.echo(f"  site {site.id!r}: write key {site.write_key}")
    click.echo(f"  dashboard   : {base}/")
    click.echo(f"  snippet     : {base}/trailmark.js")
    if demo:
        click.echo(f"  demo shop   : {base}/demo/")
    sys.stdout.flush()
    # Bounded headers and bodies, slow clients timed out: safe without a proxy (collector/server.py).
    serve_http(create_app(settings, store), host, port)


def _seed_demo_once(store: SQLiteStore, base_url: str) -> None:
    """A fresh demo database gets a week of believable journeys, so every page has data."""
    with store.read() as conn:
        seeded = conn.execute("SELECT 1 FROM events WHERE site_id = ? LIMIT 1", (DEMO_SITE,)).fetchone()
    if seeded:
        return
    from collector.demo.seed import seed

    click.echo("Seeding the demo site with 500 visitors (first run only)...")
    stored = seed(store.path, visitors=500, seed=1, base_url=base_url)
    click.echo(f"  {stored} events stored through /v1/batch")


@main.group()
def sites() -> None:
    """Manage sites and their write keys."""


@sites.command("add")
@click.argument("name")
@click.option("--origin", "origins", multiple=True,
              help="Allowed origin (repeatable, * wildcards); none allows any origin.")
@click.option("--key", default=None, help="Write key to use instead of a generated one.")
@click.option("--id", "site_id", default=None, help="Site id (default: NAME made URL-safe).")
@db_option
def sites_add(name: str, origins: tuple[str, ...], key: str | None, site_id: str | None,
              db: str | None) -> None:
    """Add a site (or update it) and print its write key."""
    site_id = site_id or re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "site"
    site = _store(db).add_site(site_id, name, origins=origins, key=key)
    click.echo(site.write_key)


@sites.command("list")
@db_option
def sites_list(db: str | None) -> None:
    """List sites with their write keys and origins."""
    for site in _store(db).sites():
        origins = ", ".join(site.origins) or "any origin"
        click.echo(f"{site.id}\t{site.name}\t{site.write_key}\t{origins}")


@main.command()
@click.option("--site", default=None, help="Only this site's rejections.")
@click.option("--limit", default=50, show_default=True, type=int)
@db_option
def rejected(site: str | None, limit: int, db: str | None) -> None:
    """List rejected events (the dead-letter table), newest first, as JSON lines."""
    with _store(db).read() as conn:
        rows = rejected_queries.rejected(conn, site_id=site, limit=limit)
    for row in rows:
        click.echo(msgspec.json.encode(row).decode())


main.add_command(demo_commands.demo)
main.add_command(maintenance.purge)
main.add_command(maintenance.backup)

if __name__ == "__main__":
    main()
