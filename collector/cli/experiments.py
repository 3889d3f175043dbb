"""`trailmark experiments add/list/remove/results`: experiments defined per site from the shell."""

from __future__ import annotations

import click
import msgspec

from collector.cli.options import open_tool_store, store_options
from collector.errors import ClientError
from collector.query import experiments as ab
from collector.query.days import Calendar
from collector.query.params import time_range
from collector.query.scope import Scope
from collector.store import Store
from collector.wire import json_encoder


def _open(store: str | None, db: str | None, site_id: str) -> Store:
    opened = open_tool_store(store, db)
    if site_id not in {s.id for s in opened.sites()}:
        opened.close()
        raise click.BadParameter(f"no site {site_id!r} (see `trailmark sites list`)", param_hint="SITE")
    return opened


def _variant(text: str) -> dict[str, object]:
    """`name` or `name:weight`."""
    name, _, weight = text.rpartition(":") if ":" in text else (text, "", "")
    if not weight:
        return {"name": text}
    try:
        return {"name": name, "weight": float(weight)}
    except ValueError:
        raise click.BadParameter(f"{text!r}: a variant is NAME or NAME:WEIGHT", param_hint="--variant") from None


@click.group()
def experiments() -> None:
    """Define A/B experiments and read their results."""


@experiments.command("add")
@click.argument("site_id", metavar="SITE")
@click.argument("key")
@click.option("--variant", "variants", multiple=True, required=True,
              help="A variant as NAME or NAME:WEIGHT (repeat; the first is the control).")
@click.option("--name", default="", help="A readable name (default: the key).")
@click.option("--goal", default=None, help="Goal: an event type (checkout) or a track event name; default the site's.")
@click.option("--goal-id", type=int, default=None, help="Goal: a saved goal's id (see /api/goals), not with --goal.")
@click.option("--metric", "metrics", multiple=True, type=click.Choice(ab.METRICS), help="A secondary metric (repeat).")
@click.option("--hypothesis", default="", help="What the experiment is expected to show, and why.")
@store_options
def add(site_id: str, key: str, variants: tuple[str, ...], name: str, goal: str | None, goal_id: int | None,
        metrics: tuple[str, ...], hypothesis: str, store: str | None, db: str | None) -> None:
    """Define experiment KEY on SITE; prints it as JSON."""
    if goal is not None and goal_id is not None:
        raise click.UsageError("give --goal or --goal-id, not both")
    body = {"key": key, "name": name, "variants": [_variant(v) for v in variants],
            "goal": goal if goal_id is None else goal_id, "metrics": list(metrics), "hypothesis": hypothesis}
    try:
        ask = msgspec.convert(body, ab.NewExperiment)
    except msgspec.ValidationError as error:
        raise click.UsageError(str(error)) from None
    kept = _open(store, db, site_id)
    try:
        experiment = ab.checked(ask, kept.goals(site_id) if goal_id is not None else [])
        created = kept.create_experiment(site_id, experiment)
    except ClientError as error:
        raise click.UsageError(error.message) from None
    finally:
        kept.close()
    if created is None:
        raise click.UsageError(f"experiment {key!r} exists on {site_id}: remove it first to redefine it")
    click.echo(json_encoder.encode(created.as_dict()).decode())


@experiments.command("list")
@click.argument("site_id", metavar="SITE")
@store_options
def list_(site_id: str, store: str | None, db: str | None) -> None:
    """List SITE's experiments: key, name, variants with weights, goal."""
    kept = _open(store, db, site_id)
    try:
        for e in kept.experiments(site_id):
            variants = ", ".join(f"{n}:{w:g}" for n, w in e.variants)
            goal = f"goal {e.saved_goal['id']} ({e.saved_goal['name']})" if e.saved_goal else e.goal or "site goal"
            click.echo(f"{e.key}\t{e.name}\t{variants}\t{goal}")
    finally:
        kept.close()


@experiments.command("remove")
@click.argument("site_id", metavar="SITE")
@click.argument("key")
@store_options
def remove(site_id: str, key: str, store: str | None, db: str | None) -> None:
    """Forget experiment KEY's definition (its exposures stay until retention removes them)."""
    kept = _open(store, db, site_id)
    try:
        if not kept.delete_experiment(site_id, key):
            raise click.BadParameter(f"no experiment {key!r} on {site_id}", param_hint="KEY")
    finally:
        kept.close()
    click.echo(f"removed {key}")


@experiments.command("results")
@click.argument("site_id", metavar="SITE")
@click.argument("key")
@click.option("--from", "start", default=None, help="First day, YYYY-MM-DD in the site's time zone (default: all).")
@click.option("--to", "end", default=None, help="Last day, YYYY-MM-DD (default: all).")
@store_options
def results(site_id: str, key: str, start: str | None, end: str | None, store: str | None, db: str | None) -> None:
    """Print experiment KEY's per-variant results as JSON (the API's answer)."""
    kept = _open(store, db, site_id)
    try:
        found = kept.experiment(site_id, key)
        if found is None:
            raise click.BadParameter(f"no experiment {key!r} on {site_id}", param_hint="KEY")
        settings = next(s.settings for s in kept.sites() if s.id == site_id)
        calendar = Calendar.of_site(settings)
        try:
            lo, hi = time_range(start, end, calendar)
        except ClientError as error:
            raise click.UsageError(error.message) from None
        goal = found.goal_of(settings)
        answer = ab.results(found, kept.experiment_counts(Scope(site_id, lo, hi, goal, calendar=calendar), key, goal))
    finally:
        kept.close()
    click.echo(json_encoder.encode(answer).decode())
