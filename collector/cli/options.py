"""The options every data command shares: which store to use (`--store URL` or `--db PATH`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from collector.store import Store, open_store

DEFAULT_DB = "trailmark.db"


def store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--db", type=click.Path(dir_okay=False), default=None,
        help=f"SQLite file, short for --store sqlite:///PATH [env TRAILMARK_DB, default ./{DEFAULT_DB}]",
    )(command)
    return click.option(
        "--store", default=None, help="Store URL such as sqlite:///data/trailmark.db [env TRAILMARK_STORE]",
    )(command)


def store_url(store: str | None, db: str | None) -> str:
    """The store to open: --store, --db, TRAILMARK_STORE, TRAILMARK_DB, then ./trailmark.db."""
    if store and db:
        raise click.UsageError("give --store or --db, not both")
    env = os.environ
    return store or db or env.get("TRAILMARK_STORE") or env.get("TRAILMARK_DB") or DEFAULT_DB


def open_tool_store(store: str | None, db: str | None) -> Store:
    """The store a one-off command works on (no serving writer thread of its own to keep)."""
    return open_store(store_url(store, db), tool=True)
