"""`trailmark keys` and `trailmark members`: API keys with a role, and the people who sign in."""

from __future__ import annotations

import click

from collector.cli.options import open_tool_store, store_options

ROLE_CHOICE = click.Choice(["viewer", "analyst", "owner"])


@click.group()
def keys() -> None:
    """API keys for automation: each has a role on one site or on every site ('*')."""


@keys.command("add")
@click.option("--name", required=True, help="What the key is for, e.g. 'nightly export'.")
@click.option("--role", type=ROLE_CHOICE, default="viewer", show_default=True)
@click.option("--site", "site_id", default="*", show_default=True, help="A site id, or * for every site.")
@store_options
def keys_add(name: str, role: str, site_id: str, store: str | None, db: str | None) -> None:
    """Make a key and print it once (the store keeps its SHA-256 only)."""
    from collector.auth import key_hash, new_api_key

    kept = open_tool_store(store, db)
    if site_id != "*" and site_id not in {s.id for s in kept.sites()}:
        raise click.ClickException(f"no site {site_id!r} (see `trailmark sites list`)")
    key = new_api_key()
    made = kept.add_api_key(name, key_hash(key), role, site_id)
    click.echo(f"key {made['id']} ({role} on {'every site' if site_id == '*' else site_id}): {key}")
    click.echo("  shown this once: send it as `Authorization: Bearer <key>`")


@keys.command("list")
@store_options
def keys_list(store: str | None, db: str | None) -> None:
    """The keys, revoked ones marked (never the keys themselves: they are not kept)."""
    for key in open_tool_store(store, db).api_keys():
        state = "revoked" if key["revoked"] else "active"
        click.echo(f"{key['id']}\t{key['name']}\t{key['role']}\t{key['site']}\t{state}")


@keys.command("revoke")
@click.argument("key_id", type=int)
@store_options
def keys_revoke(key_id: int, store: str | None, db: str | None) -> None:
    """Revoke a key: it stops working at once."""
    if not open_tool_store(store, db).revoke_api_key(key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"key {key_id} revoked")


@click.group()
def members() -> None:
    """People who sign in to the dashboard, with a role per site."""


@members.command("invite")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, default="viewer", show_default=True)
@click.option("--site", "site_id", default="*", show_default=True, help="A site id, or * for every site.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the dashboard is reached.")
@store_options
def members_invite(email: str, role: str, site_id: str, base_url: str, store: str | None, db: str | None) -> None:
    """Give EMAIL a role and print a single-use link to choose a password (or a new one)."""
    from collector.ui.login import make_invite

    kept = open_tool_store(store, db)
    if site_id != "*" and site_id not in {s.id for s in kept.sites()}:
        raise click.ClickException(f"no site {site_id!r} (see `trailmark sites list`)")
    token = make_invite(kept, email, {site_id: role})
    click.echo(f"{base_url.rstrip('/')}/invite/{token}")
    click.echo(f"  once, within 7 days: {email.strip().lower()} chooses a password ({role} on {site_id})")


@members.command("list")
@store_options
def members_list(store: str | None, db: str | None) -> None:
    """Everyone with an account and their roles."""
    for person in open_tool_store(store, db).accounts():
        roles = ", ".join(f"{role} on {site}" for site, role in sorted(person["roles"].items())) or "no role"
        click.echo(f"{person['id']}\t{person['email']}\t{'active' if person['active'] else 'invited'}\t{roles}")
