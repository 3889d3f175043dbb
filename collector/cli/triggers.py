"""`trailmark triggers`: add, list, disable and enable journey triggers from the shell."""

from __future__ import annotations

import os

import click
import msgspec

from collector.cli.options import store_options, store_url
from collector.errors import ClientError
from collector.query.definitions import yes_no
from collector.store import TriggerStore, open_store
from collector.triggers import netguard, signing
from collector.triggers.rules import Condition, NewRule, check_spec
from collector.wire import json_encoder


def _store(store: str | None, db: str | None) -> TriggerStore:
    kept = open_store(store_url(store, db), tool=True)
    if not isinstance(kept, TriggerStore):
        kept.close()
        raise click.ClickException(f"journey triggers are not available on the {kept.engine} store yet")
    return kept


def _seconds(text: str) -> int:
    """30, 30s, 45m, 2h or 1d as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text[-1:] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a duration such as 90, 30m, 2h or 1d") from None


def _condition(kind: str, name: str | None, page: str | None, props: tuple[str, ...],
               score_min: float | None, score_max: float | None) -> Condition:
    properties: dict[str, str | int | float | bool] = {}
    for item in props:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{item!r}: write --prop PATH=VALUE", param_hint="--prop")
        properties[path] = value
    return Condition(type=kind, name=name, page=page, properties=properties,
                     score_min=score_min, score_max=score_max)


@click.group()
def triggers() -> None:
    """Journey triggers: signed webhooks when a journey does something (docs/triggers.md)."""


@triggers.command("add")
@click.argument("site_id", metavar="SITE")
@click.argument("name")
@click.option("--url", required=True, help="Where to POST (https://...).")
@click.option("--on", "on_type", default=None, help="Event type that fires it (or starts the wait with --absent).")
@click.option("--name", "event_name", default=None, help="The event's name: track name, cart action, survey kind.")
@click.option("--page", default=None, help="Page pattern, as in funnels: /checkout, /product/*, /product/:id.")
@click.option("--prop", "props", multiple=True, help="PATH=VALUE the event's property must equal (repeatable).")
@click.option("--score-min", type=float, default=None, help="Survey answers from this score.")
@click.option("--score-max", type=float, default=None, help="Survey answers up to this score.")
@click.option("--absent", "absent_type", default=None, help="Fire when no event of this type follows within --delay.")
@click.option("--absent-name", default=None, help="The absent event's name.")
@click.option("--delay", default=None, help="How long to wait for the absent event: 90, 30m, 2h, 1d.")
@click.option("--segment", type=int, default=None, help="Fire when a session enters this saved segment.")
@click.option("--cooldown", default="0", show_default=True, help="At most once per person per this long.")
@click.option("--sample", type=float, default=1.0, show_default=True, help="Fraction of firings sent (0..1].")
@click.option("--max-per-hour", type=int, default=None, help="At most this many deliveries an hour.")
@store_options
def add(site_id: str, name: str, url: str, on_type: str | None, event_name: str | None, page: str | None,
        props: tuple[str, ...], score_min: float | None, score_max: float | None, absent_type: str | None,
        absent_name: str | None, delay: str | None, segment: int | None, cooldown: str, sample: float,
        max_per_hour: int | None, store: str | None, db: str | None) -> None:
    """Add a trigger to SITE; prints it and its signing secret (shown this once)."""
    if segment is not None:
        kind = "segment"
    elif absent_type is not None:
        kind = "absence"
    else:
        kind = "event"
    event = _condition(on_type, event_name, page, props, score_min, score_max) if on_type else None
    fields: dict[str, object] = {
        "name": name, "url": url, "kind": kind, "event": event, "segment": segment,
        "cooldown_s": _seconds(cooldown), "sample": sample, "max_per_hour": max_per_hour,
    }
    if absent_type is not None:
        fields["absent"] = Condition(type=absent_type, name=absent_name)
        fields["delay_s"] = _seconds(delay) if delay else None
    try:
        new = msgspec.convert({k: v for k, v in fields.items() if v is not None}, NewRule, from_attributes=True)
        check_spec(new.spec())
        allow = yes_no(os.environ.get("TRAILMARK_WEBHOOK_ALLOW_PRIVATE", "")) is True
        netguard.resolve(url, allow_private=allow)
    except (msgspec.ValidationError, ClientError, netguard.Refused) as error:
        raise click.UsageError(str(error)) from None
    kept = _store(store, db)
    try:
        if site_id not in {s.id for s in kept.sites()}:
            raise click.BadParameter(f"no site {site_id!r} (see `trailmark sites list`)", param_hint="SITE")
        if segment is not None and kept.segment_filters(site_id, segment) is None:
            raise click.BadParameter(f"no segment {segment} for {site_id!r}", param_hint="--segment")
        secret = signing.new_secret()
        rule = kept.create_trigger_rule(site_id, new, secret)
    finally:
        kept.close()
    click.echo(json_encoder.encode(rule).decode())
    click.echo(f"signing secret (shown this once): {secret}")


@triggers.command("list")
@click.argument("site_id", metavar="SITE")
@store_options
def list_(site_id: str, store: str | None, db: str | None) -> None:
    """List SITE's triggers, one JSON object a line."""
    kept = _store(store, db)
    try:
        for rule in kept.trigger_rules(site_id):
            click.echo(json_encoder.encode(rule).decode())
    finally:
        kept.close()


def _set_enabled(site_id: str, rule_id: int, enabled: bool, store: str | None, db: str | None) -> None:
    kept = _store(store, db)
    try:
        rule = kept.update_trigger_rule(site_id, rule_id, {"enabled": enabled})
    finally:
        kept.close()
    if rule is None:
        raise click.BadParameter(f"no trigger {rule_id} for {site_id!r}", param_hint="ID")
    click.echo(json_encoder.encode(rule).decode())


@triggers.command("disable")
@click.argument("site_id", metavar="SITE")
@click.argument("rule_id", metavar="ID", type=int)
@store_options
def disable(site_id: str, rule_id: int, store: str | None, db: str | None) -> None:
    """Stop a trigger; its pending deliveries wait until it is enabled again."""
    _set_enabled(site_id, rule_id, False, store, db)


@triggers.command("enable")
@click.argument("site_id", metavar="SITE")
@click.argument("rule_id", metavar="ID", type=int)
@store_options
def enable(site_id: str, rule_id: int, store: str | None, db: str | None) -> None:
    """Start a trigger again (also after it was disabled for failing); held deliveries are sent."""
    _set_enabled(site_id, rule_id, True, store, db)
