"""`trailmark demo seed`: believable journeys for the demo site, through the real ingest path."""

from __future__ import annotations

import time

import click

from collector.cli.options import store_options, store_url
from collector.enrich.clock import MAX_AGE_MS
from collector.query.definitions import DAY_MS
from collector.store import open_store

MAX_DAYS = MAX_AGE_MS // DAY_MS
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@click.group()
def demo() -> None:
    """The demo shop and its data."""


@demo.command("seed")
@click.option("--visitors", default=500, show_default=True, type=click.IntRange(1, 1_000_000),
              help="People to simulate; each makes one to three visits.")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int,
              help="Random seed: the same seed gives the same journeys.")
@store_options
@click.option("--days", default=MAX_DAYS, show_default=True, type=click.IntRange(1, MAX_DAYS),
              help="Spread the visits over this many past days (ingest keeps at most this many).")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where the demo shop is served; page URLs in the events start with it.")
def seed(visitors: int, seed_value: int, store: str | None, db: str | None, days: int, base_url: str) -> None:
    """Post simulated shoppers' journeys to the `demo` site (key wk_demo)."""
    from collector.demo.seed import plan_for, post_plan  # the app is imported only when seeding

    url = store_url(store, db)
    journeys = plan_for(visitors, seed_value, days=days, base_url=base_url)
    started = time.perf_counter()
    with click.progressbar(length=len(journeys.visits), label=f"Seeding {visitors} visitors") as bar:
        stored = post_plan(open_store(url, synchronous="NORMAL"), journeys, bar.update)
    seconds = time.perf_counter() - started
    click.echo(
        f"{stored} events in {len(journeys.visits)} sessions stored in {url} "
        f"({stored / max(seconds, 1e-9):,.0f} events/s); purchases: {journeys.total('purchase')}"
    )
