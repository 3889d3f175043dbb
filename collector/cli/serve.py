"""`trailmark serve`: the collector on a hardened HTTP server, with its admin token and the demo."""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
from pathlib import Path

import click

from collector.cli.options import store_options, store_url
from collector.config import Settings
from collector.demo.shop import DEMO_KEY, DEMO_SITE
from collector.store import Store, StoreUnusable, open_store, sqlite_path


@click.command()
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
    owner_note = _first_owner(kept, base)
    if demo:
        kept.add_site(DEMO_SITE, "Demo shop", key=DEMO_KEY)
        _seed_demo_once(kept, base)
    app = create_app(settings, kept)

    def banner() -> None:
        click.echo(f"Trailmark collector on {base}  (store {settings.store_url})")
        click.echo(f"  admin token : {token_note}")
        if owner_note:
            click.echo(f"  sign in     : {owner_note}")
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
    """Where the generated admin token is written for the operator: beside a SQLite file or a chdb
    directory (never into a source tree the collector happens to run in), else here."""
    path = sqlite_path(url)
    if path is None and url.startswith("chdb://"):
        path = url.removeprefix("chdb://").split("?", 1)[0].rstrip("/") or None
    return Path(path + ".admin-token") if path else Path("trailmark.admin-token")


def _stored_admin_token(store: Store, path: Path) -> tuple[str, str]:
    """The token the first start picked and kept in the store, and what the banner says of it.

    Logs are kept and shipped around, so the banner never shows the token: it names the file
    (mode 0600) that holds it. People sign in with the link `_first_owner` prints.
    """
    fresh = secrets.token_urlsafe(24)
    token = store.meta("admin_token", fresh)
    if token == fresh or not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            os.fchmod(fd, 0o600)  # the mode given to open() only applies to a new file
            file.write(token + "\n")
    return token, f"in {path} (an owner key for automation; not printed; set TRAILMARK_ADMIN_TOKEN to choose one)"


def _first_owner(store: Store, base: str) -> str | None:
    """Until someone has a password, a single-use link that lets the owner choose one.

    Each start makes a new link and voids the one before, so a link left in old logs opens
    nothing; once a password is set, nothing is printed.
    """
    from collector.ui.login import make_invite

    people = store.accounts()
    if any(p["active"] for p in people):
        return None
    email = os.environ.get("TRAILMARK_OWNER_EMAIL", "").strip().lower() or "owner@localhost"
    owner = next((p for p in people if p["email"] == email), None)
    if people and owner is None:
        return None  # invites are out, for other people: an owner made them, and has the token
    link = make_invite(store, email, {"*": "owner"})
    return f"{base}/invite/{link}  (once: choose a password for {email}, the owner of every site)"


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
