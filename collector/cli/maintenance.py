"""`trailmark purge` (retention) and `trailmark backup` (a consistent copy while the collector serves)."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import click

from collector.cli.options import store_options, store_url
from collector.store import open_store, sqlite_path

_UNITS = {"h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_age(text: str) -> int:
    """`90d`, `12h` or `2w` as milliseconds."""
    match = re.fullmatch(r"(\d{1,6})([hdw])", text.strip().lower())
    if match is None:
        raise click.BadParameter(f"{text!r}: use a number and h, d or w, such as 90d")
    return int(match[1]) * _UNITS[match[2]] * 1000


@click.command()
@click.option("--older-than", "older_than", required=True, help="Age such as 90d, 12h or 2w.")
@store_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(older_than: str, store: str | None, db: str | None, yes: bool) -> None:
    """Delete events, sessions, replays and rejected events older than an age (retention)."""
    url = existing_store(store, db)
    cutoff = int(time.time() * 1000) - parse_age(older_than)
    kept = open_store(url, tool=True)
    try:
        total = kept.count_older(cutoff)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cutoff / 1000))
        if not yes and total:
            click.confirm(f"Delete {total} rows older than {when} from {url}?", abort=True)
        with click.progressbar(length=total, label="purging", file=sys.stderr) as bar:
            counts = kept.purge(cutoff, bar.update)
    finally:
        kept.close()
    click.echo(" ".join(f"{table}={n}" for table, n in counts.items()))


@click.command()
@click.argument("target", type=click.Path(dir_okay=False))
@store_options
@click.option("--force", is_flag=True, help="Overwrite TARGET if it exists.")
def backup(target: str, store: str | None, db: str | None, force: bool) -> None:
    """Copy the store to TARGET, consistent while the collector serves (SQLite's online backup)."""
    url = existing_store(store, db)
    out = Path(target)
    if out.exists() and not force:
        raise click.ClickException(f"{target} exists (use --force to overwrite)")
    kept = open_store(url, tool=True)
    try:
        events = kept.backup(out)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        kept.close()
    click.echo(f"backed up {url} to {target}: {events} events, integrity ok")


def existing_store(store: str | None, db: str | None) -> str:
    """The store URL, refused when it names a SQLite file that does not exist (a typo would make one)."""
    url = store_url(store, db)
    path = sqlite_path(url)
    if path is not None and not Path(path).exists():
        raise click.BadParameter(f"no store at {path}", param_hint="--store/--db")
    return url
