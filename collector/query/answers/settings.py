"""What analysts define and manage: sites, goals, segments, filter suggestions, experiments
(and their results), journey triggers and their deliveries."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from collector.query.answers.base import Answer, Ms
from collector.query.answers.reports import Ces, Csat, Nps
from collector.triggers.rules import Condition


class SiteSettings(Answer):
    """The analysis settings, defaults filled in: goal `purchase`; currency and shop null when
    unset (the shop then follows the data); the time zone days are counted in (IANA name, UTC by
    default); whether replays keep copies of the page's assets."""

    goal: str
    currency: str | None
    shop: bool | None
    timezone: str
    replay_assets: bool


class SiteRow(Answer):
    id: str
    name: str
    write_key: str
    origins: list[str]
    settings: SiteSettings


class Sites(Answer):
    """GET /api/sites."""

    sites: list[SiteRow]


class SiteChanged(Answer):
    """PATCH /api/sites/{id}."""

    id: str
    name: str
    settings: SiteSettings


class Suggestion(Answer):
    value: str
    sessions: int


class Suggestions(Answer):
    """GET /api/suggest: a filter field's values in scope, the most common first."""

    field: str
    values: list[Suggestion]


class Property(Answer):
    key: str
    value: str | int | float | bool


class SavedGoal(Answer):
    """A saved goal's id, name and definition (`property` only for a custom event's condition)."""

    id: int
    name: str
    kind: str
    value: str
    property: Property | UnsetType = UNSET


class Goal(SavedGoal, kw_only=True):
    """A saved goal (POST /api/goals answers it, 201)."""

    created_at: Ms


class Goals(Answer):
    """GET /api/goals."""

    goals: list[Goal]


class Segment(Answer):
    """A saved segment (POST /api/segments answers it, 201)."""

    id: int
    site: str
    name: str
    filters: dict[str, str | int | float | bool]
    created_at: Ms


class Segments(Answer):
    """GET /api/segments."""

    segments: list[Segment]


class Variant(Answer):
    name: str
    weight: float


class Experiment(Answer):
    """An experiment's definition (POST /api/experiments answers it, 201): `goal` as it was
    given, a saved goal by its id."""

    key: str
    name: str
    variants: list[Variant]
    goal: str | int | None
    saved_goal: SavedGoal | None  # the goal as it was when the experiment was defined
    metrics: list[str]
    hypothesis: str
    created_at: Ms | None


class Experiments(Answer):
    """GET /api/experiments."""

    experiments: list[Experiment]


class ExperimentDeleted(Answer):
    deleted: str


class VariantResult(Answer):
    """A variant's figures; the variants after the control also carry their comparison with it."""

    name: str
    control: bool
    weight: float
    visitors: int
    conversions: int
    rate: float
    crossed: int
    revenue: float
    revenue_per_visitor: float
    bounce_rate: float
    nps: Nps
    csat: Csat
    ces: Ces
    difference: float | None | UnsetType = UNSET
    difference_interval: list[float] | None | UnsetType = UNSET
    lift: float | None | UnsetType = UNSET
    lift_interval: list[float] | None | UnsetType = UNSET
    p_value: float | None | UnsetType = UNSET
    p_adjusted: float | None | UnsetType = UNSET
    probability_to_beat: float | None | UnsetType = UNSET
    revenue_difference_interval: list[float] | None | UnsetType = UNSET
    significant: bool | UnsetType = UNSET


class Unexpected(Answer):
    name: str
    visitors: int


class Sample(Answer):
    """The sample's health: the sample-ratio test, visitors who saw more than one variant."""

    visitors: int
    srm_statistic: float | None
    srm_p_value: float | None
    srm: bool
    crossed: int
    unexpected_variants: list[Unexpected]
    too_small: bool


class Verdict(Answer):
    status: str
    winner: str | None


class MeasuredGoal(Answer):
    type: str
    name: str | None


class ExperimentResults(Answer, rename={"start": "from", "end": "to"}):
    """GET /api/experiments/{key}."""

    experiment: Experiment
    correction: str | None
    interval_level: float
    variants: list[VariantResult]
    sample: Sample
    verdict: Verdict
    goal: MeasuredGoal
    start: Ms
    end: Ms


class TriggerRule(Answer, kw_only=True):
    """A journey trigger: what fires it (`kind` and its conditions), where it posts, its limits
    and whether it is on."""

    id: int
    site: str
    name: str
    kind: str
    event: Condition | UnsetType = UNSET
    absent: Condition | UnsetType = UNSET
    delay_s: int | UnsetType = UNSET
    segment: int | UnsetType = UNSET
    url: str
    cooldown_s: int
    sample: float
    max_per_hour: int | None
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: Ms


class NewTriggerRule(TriggerRule, kw_only=True):
    """POST /api/triggers (201): the rule and its signing secret, shown this once."""

    secret: str


class TriggerRules(Answer):
    """GET /api/triggers."""

    triggers: list[TriggerRule]


class Delivery(Answer):
    id: str
    status: str
    attempts: int
    fired_at: Ms
    first_attempt_at: Ms | None
    last_attempt_at: Ms | None
    next_at: Ms | None
    response_code: int | None
    error: str | None
    latency_ms: int | None
    person: str
    session: str | None
    lag_ms: int | None


class TriggerDeliveries(Answer):
    """GET /api/triggers/{id}/deliveries: the newest first."""

    deliveries: list[Delivery]
