"""The `trailmark` command: serve, sites, experiments, rejected, demo, purge, backup, store copy."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import sys
from pathlib import Path

import click
import msgspec

from collector import maintenance, site_settings, trigger_cli
from collector.cli_experiments import experiments
from collector.cli_options import store_options, store_url
from collector.config import Settings
from collector.demo import commands as demo_commands
from collector.demo.shop import DEMO_KEY, DEMO_SITE
from collector.store import Store, StoreUnusable, open_store, sqlite_path
from collector.store import copy as store_commands


def _store(store: str | None, db: str | None) -> Store:
    return open_store(store_url(store, db), tool=True)


@click.group()
@click.version_option(package_name="trailmark-collector")
def main() -> None:
    """Trailmark: self-hosted customer-journey tracking."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@store_options
@click.option("--geoip", type=click.Path(exists=True, dir_okay=False), default=None,
              help="MaxMind .mmdb City database [env TRAILMARK_GEOIP]")
@click.option("--demo", is_flag=True, help="Create the demo site and serve the demo shop.")
def serve(host: str, port: int, store: str | None, db: str | None, geoip: str | None, demo: bool) -> None:
    """Run the collector."""
    from collector.app import create_app
    from collector.server import serve as serve_http

    try:
        settings = Settings.from_env(
            store=store_url(store, db), geoip=Path(geoip) if geoip else None, demo=demo
        )
    except AssertionError as exc:  # a setting the operator must change: one sentence, no traceback
        raise click.ClickException(str(exc)) from None
    try:
        kept = open_store(settings.store_url, max_pending=settings.max_pending,
                          synchronous=settings.synchronous, serving=True)
    except StoreUnusable as exc:
        raise click.ClickException(str(exc)) from None
    if os.environ.get("TRAILMARK_ADMIN_TOKEN"):
        token_note = "from TRAILMARK_ADMIN_TOKEN"
    else:
        token, token_note = _stored_admin_token(kept, token_file(settings.store_url))
        settings = dataclasses.replace(settings, admin_token=token)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if not settings.public_url:  # the dashboard links in webhooks
        settings = dataclasses.replace(settings, public_url=base)
    if demo:
        kept.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
        _seed_demo_once(kept, base)
    app = create_app(settings, kept)

    def banner() -> None:
        click.echo(f"Trailmark collector on {base}  (store {settings.store_url})")
        click.echo(f"  admin token : {token_note}")
        click.echo(f"  proxies     : {_proxies_note(settings)}")
        click.echo(f"  geo         : {settings.geoip or 'off (no --geoip / TRAILMARK_GEOIP: geo fields stay empty)'}")
        for site in kept.sites():
            click.echo(f"  site {site.id!r}: write key {site.write_key}")
        click.echo(f"  dashboard   : {base}/")
        click.echo(f"  snippet     : {base}/trailmark.js")
        if demo:
            click.echo(f"  demo shop   : {base}/demo/")
        sys.stdout.flush()

    # Bounded headers and bodies, slow clients timed out: safe without a proxy (collector/server.py).
    serve_http(app, host, port, banner)


def token_file(url: str) -> Path:
    """Where the generated admin token is written for the operator: beside a SQLite file, else here."""
    path = sqlite_path(url)
    return Path(path + ".admin-token") if path else Path("trailmark.admin-token")


def _stored_admin_token(store: Store, path: Path) -> tuple[str, str]:
    """The token the first start picked and kept in the store, and what the banner says of it.

    Logs are kept and shipped around, so the token appears in them once, when it is created;
    after that the banner names the file (mode 0600) that holds it.
    """
    fresh = secrets.token_urlsafe(24)
    token = store.meta("admin_token", fresh)
    if token == fresh or not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            os.fchmod(fd, 0o600)  # the mode given to open() only applies to a new file
            file.write(token + "\n")
    if token == fresh:
        return token, f"{token}  (new: shown this once; also in {path}, mode 0600)"
    return token, f"in {path} (not printed; set TRAILMARK_ADMIN_TOKEN to choose one)"


def _proxies_note(settings: Settings) -> str:
    if settings.trusted_proxies:
        return "X-Forwarded-For believed from " + ", ".join(settings.trusted_proxies)
    return "none trusted: X-Forwarded-For is ignored (behind a reverse proxy set TRAILMARK_TRUSTED_PROXIES)"


def _seed_demo_once(store: Store, base_url: str) -> None:
    """A fresh demo store gets a week of believable journeys, so every page has data."""
    if store.has_events(DEMO_SITE):
        return
    from collector.demo.seed import plan_for, post_plan

    click.echo("Seeding the demo site with 500 visitors (first run only)...")
    stored = post_plan(store, plan_for(500, 1, base_url=base_url))
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
@store_options
def sites_add(name: str, origins: tuple[str, ...], key: str | None, site_id: str | None,
              store: str | None, db: str | None) -> None:
    """Add a site (or update it) and print its write key; a new site's secret server key follows."""
    site_id = site_id or re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "site"
    kept = _store(store, db)
    try:
        site = kept.add_site(site_id, name, origins=origins, key=key)
        secret = None if kept.has_secret(site_id) else kept.new_secret(site_id)
    finally:
        kept.close()
    click.echo(site.write_key)
    if secret is not None:
        click.echo(secret)
        click.echo("line 1: the public write key, for the page snippet; line 2: the secret server key,"
                   " for your backend only (the Python SDK). The secret is shown once: store it now.",
                   err=True)


@sites.command("secret")
@click.argument("site_id", metavar="ID")
@store_options
def sites_secret(site_id: str, store: str | None, db: str | None) -> None:
    """Make a new secret server key for a site and print it; the old one stops working."""
    kept = _store(store, db)
    try:
        secret = kept.new_secret(site_id)
    finally:
        kept.close()
    if secret is None:
        raise click.BadParameter(f"no site {site_id!r} (see `trailmark sites list`)", param_hint="ID")
    click.echo(secret)


@sites.command("set")
@click.argument("site_id", metavar="ID")
@click.option("--goal", default=None,
              help="Conversion goal: an event type (checkout) or a track event name (signup); purchase resets.")
@click.option("--currency", default=None, help="ISO 4217 code revenue is shown in, e.g. EUR; 'none' clears it.")
@click.option("--shop", type=click.Choice(["yes", "no", "auto"]), default=None,
              help="Whether the overview shows cart and revenue cards; auto: when the data has carts or orders.")
@click.option("--timezone", default=None,
              help="IANA time zone whose midnights bound the site's days, e.g. America/New_York (default UTC).")
@store_options
def sites_set(
    site_id: str, goal: str | None, currency: str | None, shop: str | None, timezone: str | None,
    store: str | None, db: str | None,
) -> None:
    """Set a site's conversion goal, currency, shop flag or time zone; prints its settings."""
    fields: dict[str, object] = {}
    if goal is not None:
        fields["goal"] = goal
    if currency is not None:
        fields["currency"] = None if currency.lower() == "none" else currency.upper()
    if shop is not None:
        fields["shop"] = {"yes": True, "no": False, "auto": None}[shop]
    if timezone is not None:
        fields["timezone"] = timezone
    if not fields:
        raise click.UsageError("nothing to set: give --goal, --currency, --shop or --timezone")
    try:
        change = msgspec.convert(fields, site_settings.SettingsChange)
    except msgspec.ValidationError as error:
        raise click.BadParameter(str(error)) from None
    site = _store(store, db).update_site_settings(site_id, change.changes())
    if site is None:
        raise click.BadParameter(f"no site {site_id!r} (see `trailmark sites list`)", param_hint="ID")
    click.echo(msgspec.json.encode(site_settings.public(site.settings)).decode())


@sites.command("list")
@store_options
def sites_list(store: str | None, db: str | None) -> None:
    """List sites with their write keys and origins."""
    for site in _store(store, db).sites():
        origins = ", ".join(site.origins) or "any origin"
        click.echo(f"{site.id}\t{site.name}\t{site.write_key}\t{origins}")


@main.command()
@click.option("--site", default=None, help="Only this site's rejections.")
@click.option("--limit", default=50, show_default=True, type=int)
@store_options
def rejected(site: str | None, limit: int, store: str | None, db: str | None) -> None:
    """List rejected events (the dead-letter table), newest first, as JSON lines."""
    rows = _store(store, db).rejected(site_id=site, limit=limit)
    for row in rows:
        click.echo(msgspec.json.encode(row).decode())


main.add_command(demo_commands.demo)
main.add_command(trigger_cli.triggers)
main.add_command(experiments)
main.add_command(maintenance.purge)
main.add_command(maintenance.backup)
main.add_command(store_commands.store)

if __name__ == "__main__":
    main()
