"""`trailmark sites`: add sites, their keys and secrets, their settings; list them."""

from __future__ import annotations

import re

import click
import msgspec

from collector.api import sites as site_settings
from collector.cli.options import open_tool_store, store_options
from collector.wire import json_encoder


@click.group()
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
    kept = open_tool_store(store, db)
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
    kept = open_tool_store(store, db)
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
@click.option("--replay-assets", type=click.Choice(["on", "off"]), default=None,
              help="Whether the collector keeps copies of the stylesheets, fonts and images recordings load.")
@store_options
def sites_set(
    site_id: str, goal: str | None, currency: str | None, shop: str | None, timezone: str | None,
    replay_assets: str | None, store: str | None, db: str | None,
) -> None:
    """Set a site's conversion goal, currency, shop flag, time zone or asset copies; prints its settings."""
    fields: dict[str, object] = {}
    if goal is not None:
        fields["goal"] = goal
    if currency is not None:
        fields["currency"] = None if currency.lower() == "none" else currency.upper()
    if shop is not None:
        fields["shop"] = {"yes": True, "no": False, "auto": None}[shop]
    if timezone is not None:
        fields["timezone"] = timezone
    if replay_assets is not None:
        fields["replay_assets"] = replay_assets == "on"
    if not fields:
        raise click.UsageError("nothing to set: give --goal, --currency, --shop, --timezone or --replay-assets")
    try:
        change = msgspec.convert(fields, site_settings.SettingsChange)
    except msgspec.ValidationError as error:
        raise click.BadParameter(str(error)) from None
    site = open_tool_store(store, db).update_site_settings(site_id, change.changes())
    if site is None:
        raise click.BadParameter(f"no site {site_id!r} (see `trailmark sites list`)", param_hint="ID")
    click.echo(json_encoder.encode(site_settings.public(site.settings)).decode())


@sites.command("list")
@store_options
def sites_list(store: str | None, db: str | None) -> None:
    """List sites with their write keys and origins."""
    for site in open_tool_store(store, db).sites():
        origins = ", ".join(site.origins) or "any origin"
        click.echo(f"{site.id}\t{site.name}\t{site.write_key}\t{origins}")
