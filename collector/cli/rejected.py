"""`trailmark rejected`: the dead letters, newest first, as JSON lines."""

from __future__ import annotations

import click

from collector.cli.options import open_tool_store, store_options
from collector.wire import json_encoder


@click.command()
@click.option("--site", default=None, help="Only this site's rejections.")
@click.option("--limit", default=50, show_default=True, type=int)
@store_options
def rejected(site: str | None, limit: int, store: str | None, db: str | None) -> None:
    """List rejected events (the dead-letter table), newest first, as JSON lines."""
    rows = open_tool_store(store, db).rejected(site_id=site, limit=limit)
    for row in rows:
        click.echo(json_encoder.encode(row).decode())
