"""Trigger rules as data: what fires them, and the one matcher of an event against a condition.

Evaluation runs in Python on the rows a group commit stores, so every store engine fires the
same rules the same way; engines only keep rules, the outbox and pending checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

from collector.errors import ClientError
from collector.query.patterns import page_tests
from collector.wire import EVENT_TYPES, json_encoder

KINDS = ("event", "absence", "segment")
# A rule of kind `alert` is an alert's webhook (collector/triggers/alerts.py): no event fires it,
# the daily alert check queues its deliveries, and it is made and deleted with its alert.
ALERT: Final = "alert"
# An absence rule waits at most this long: a pending check per start event is kept until then.
MAX_DELAY_S = 7 * 86400
MAX_COOLDOWN_S = 365 * 86400

Text = Annotated[str, Meta(min_length=1, max_length=256)]
Scalar = str | int | float | bool


class Condition(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """An event matches when every field given matches (all are optional but `type`)."""

    type: Annotated[str, Meta(min_length=1, max_length=32)]
    name: Text | None = None  # the event's name column: track name, cart action, survey kind...
    page: Annotated[str, Meta(min_length=1, max_length=2048)] | None = None  # the funnels' page patterns
    properties: dict[Annotated[str, Meta(max_length=128)], Scalar] = {}  # dotted path -> value it equals
    score_min: float | None = None  # survey answers: score within [score_min, score_max]
    score_max: float | None = None


class RuleSpec(Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """What fires a rule: `event` alone, `event` then no `absent` within `delay_s`, a segment, or
    an alert's check (an `alert` rule, made with its alert)."""

    kind: Literal["event", "absence", "segment", "alert"]
    event: Condition | None = None
    absent: Condition | None = None
    delay_s: Annotated[int, Meta(ge=1, le=MAX_DELAY_S)] | None = None
    segment: Annotated[int, Meta(ge=1)] | None = None


class NewRule(Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of POST /api/triggers."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    kind: Literal["event", "absence", "segment", "alert"]
    event: Condition | None = None
    absent: Condition | None = None
    delay_s: Annotated[int, Meta(ge=1, le=MAX_DELAY_S)] | None = None
    segment: Annotated[int, Meta(ge=1)] | None = None
    cooldown_s: Annotated[int, Meta(ge=0, le=MAX_COOLDOWN_S)] = 0
    sample: Annotated[float, Meta(gt=0, le=1)] = 1.0
    max_per_hour: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    site: str | None = None

    def spec(self) -> RuleSpec:
        return RuleSpec(kind=self.kind, event=self.event, absent=self.absent, delay_s=self.delay_s,
                        segment=self.segment)


class RuleChange(Struct, kw_only=True, forbid_unknown_fields=True):
    """The body of PATCH /api/triggers/{id}: only what is given changes."""

    name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    url: Annotated[str, Meta(min_length=1, max_length=2048)] | None = None
    enabled: bool | None = None
    cooldown_s: Annotated[int, Meta(ge=0, le=MAX_COOLDOWN_S)] | None = None
    sample: Annotated[float, Meta(gt=0, le=1)] | None = None
    max_per_hour: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None  # 0 removes the limit

    def changes(self) -> dict[str, object]:
        fields = {f: getattr(self, f) for f in self.__struct_fields__ if getattr(self, f) is not None}
        if fields.get("max_per_hour") == 0:
            fields["max_per_hour"] = None
        return fields


@dataclass(frozen=True)
class Rule:
    """A stored rule as the evaluator sees it."""

    id: int
    site_id: str
    name: str
    spec: RuleSpec
    cooldown_s: int = 0
    sample: float = 1.0
    max_per_hour: int | None = None


def check_spec(spec: RuleSpec) -> RuleSpec:
    """A rule's trigger, validated beyond its types: a 400 naming what is wrong or missing."""
    if spec.kind == ALERT:
        raise ClientError(400, "an alert's webhook is made with its alert: POST /api/reports with `webhook`")
    if spec.kind in ("event", "absence") and spec.event is None:
        raise ClientError(400, f"a {spec.kind} rule needs `event`")
    if spec.kind == "absence" and (spec.absent is None or spec.delay_s is None):
        raise ClientError(400, "an absence rule needs `absent` and `delay_s`")
    if spec.kind != "absence" and (spec.absent is not None or spec.delay_s is not None):
        raise ClientError(400, "`absent` and `delay_s` belong to absence rules")
    if spec.kind == "segment" and spec.segment is None:
        raise ClientError(400, "a segment rule needs `segment` (a segment id, see /api/segments)")
    if spec.kind != "segment" and spec.segment is not None:
        raise ClientError(400, "`segment` belongs to segment rules")
    for condition in (spec.event, spec.absent):
        if condition is not None:
            _check_condition(condition)
    return spec


def _check_condition(condition: Condition) -> None:
    if condition.type not in EVENT_TYPES:
        raise ClientError(400, f"unknown event type {condition.type!r}; types are {', '.join(EVENT_TYPES)}")
    scored = condition.score_min is not None or condition.score_max is not None
    if scored and condition.type != "survey":
        raise ClientError(400, "score_min and score_max apply to survey events")
    low, high = condition.score_min, condition.score_max
    if low is not None and high is not None and low > high:
        raise ClientError(400, "score_min must not exceed score_max")


@dataclass(frozen=True, slots=True)
class Event:
    """A committed event as rules see it."""

    id: str
    site_id: str
    type: str
    ts: int
    session_id: str
    visitor_id: str
    anon_id: str | None
    user_id: str | None
    url: str | None
    path: str | None
    route: str | None
    name: str | None
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The event as a webhook carries it."""
        return {
            "id": self.id, "type": self.type, "ts": self.ts, "name": self.name, "url": self.url,
            "route": self.route, "session_id": self.session_id, "anon_id": self.anon_id,
            "user_id": self.user_id, "data": self.data,
        }


def matches(condition: Condition, event: Event) -> bool:
    """Whether an event meets every part of a condition."""
    if event.type != condition.type:
        return False
    if condition.name is not None and event.name != condition.name:
        return False
    if condition.page is not None and not page_matches(condition.page, event.url, event.path, event.route):
        return False
    for path, wanted in condition.properties.items():
        if not _equal(_lookup(event, path), wanted):
            return False
    if condition.score_min is not None or condition.score_max is not None:
        score = event.data.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool):
            return False
        if condition.score_min is not None and score < condition.score_min:
            return False
        if condition.score_max is not None and score > condition.score_max:
            return False
    return True


_MISSING = object()


def _lookup(event: Event, path: str) -> Any:
    """A dotted path into the event's fields; a track event's `props` are searched first."""
    roots = [event.data.get("props"), event.data] if event.type == "track" else [event.data]
    for root in roots:
        value: Any = root
        for part in path.split("."):
            value = value.get(part, _MISSING) if isinstance(value, dict) else _MISSING
        if value is not _MISSING:
            return value
    return _MISSING


def _equal(value: Any, wanted: Scalar) -> bool:
    if value is _MISSING or isinstance(value, dict | list):
        return False
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value is wanted
    if isinstance(wanted, int | float) and isinstance(value, int | float):
        return float(value) == float(wanted)
    return str(value) == str(wanted)


def page_matches(pattern: str, url: str | None, path: str | None, route: str | None) -> bool:
    """The page patterns' one rule (query/patterns.py's page_tests, as the stores' SQL matches
    them): exact URL, `/path` only, `*` wildcard, or `/route/:id` matching its stored route or a
    path of the same segments."""
    fields = {"url": url, "path": path, "route": route}
    return any(test(fields[name]) for name, test in page_tests(pattern))


spec_encoder = json_encoder
spec_decoder = msgspec.json.Decoder(RuleSpec)
