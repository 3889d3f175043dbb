"""The journey answers: the journey map and its stage definitions, and the likely outcome."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from collector.query.answers.base import Answer, Ms


class Matcher(Answer):
    """One way to reach a stage; only the conditions it sets are listed."""

    type: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    page: str | UnsetType = UNSET
    touchpoint: str | UnsetType = UNSET
    channel: str | UnsetType = UNSET
    min_score: int | UnsetType = UNSET
    max_score: int | UnsetType = UNSET
    new_visit: bool | UnsetType = UNSET
    nth: int | UnsetType = UNSET


class StageDefinition(Answer):
    key: str
    label: str
    match: list[Matcher]


class JourneyStages(Answer):
    """GET, PUT and DELETE /api/journey-map/stages: whether the site has its own, and the stages."""

    custom_stages: bool
    stages: list[StageDefinition]


class Reach(Answer):
    name: str
    people: int


class StageScore(Answer):
    responses: int
    score: float | None


class StageCx(Answer):
    nps: StageScore
    csat: StageScore
    ces: StageScore


class Friction(Answer):
    sessions: int
    rage_clicks: int
    dead_clicks: int
    errors: int
    rage_per_session: float
    dead_per_session: float
    errors_per_session: float


class Exits(Answer):
    pages: list[Reach]
    touchpoints: list[Reach]


class DroppedReplay(Answer):
    session_id: str
    visitor_id: str
    ts: Ms


class Stage(Answer):
    """A stage's reach and conversion, the time to the next (null: none went on), who dropped
    (null for the last stage), where they were, what they felt and what got in the way."""

    key: str
    label: str
    people: int
    conversion: float
    median_s_to_next: float | None
    dropped: int | None
    pages: list[Reach]
    touchpoints: list[Reach]
    actions: list[Reach]
    cx: StageCx
    emotion: float | None
    friction: Friction
    exits: Exits
    dropped_replays: list[DroppedReplay]


class JourneyMap(Answer):
    """GET /api/journey-map."""

    people: int
    stages: list[Stage]
    custom_stages: bool
    definitions: list[StageDefinition]


class Feature(Answer):
    name: str
    weight: float


class CalibrationBin(Answer, rename={"start": "from", "end": "to"}):
    start: float
    end: float
    rows: int
    predicted: float | None
    observed: float | None


class Quality(Answer):
    """How well the model ranks held-out people: the AUC with its 95 % interval, and calibration."""

    auc: float
    auc_low: float
    auc_high: float
    test_rows: int
    test_positives: int
    test_negatives: int
    calibration: list[CalibrationBin]


class Scored(Answer):
    visitor_id: str
    probability: float
    label: str


class OpenSession(Answer):
    session_id: str
    visitor_id: str
    last_ts: Ms
    probability: float
    label: str


class Predictions(Answer, kw_only=True):
    """GET /api/predictions and POST /api/predictions/train: the model's state and quality, and
    the people likely to buy, at risk, and in a session now. Before any training only `status`
    (not_trained), the empty lists and `reason` are there."""

    status: str
    reason: str | UnsetType = UNSET  # listed last before any training, first after
    goal: str | UnsetType = UNSET
    trained_at: Ms | UnsetType = UNSET
    horizon_days: int | UnsetType = UNSET
    rows: int | UnsetType = UNSET
    positives: int | UnsetType = UNSET
    base_rate: float | UnsetType = UNSET
    quality: Quality | None | UnsetType = UNSET
    features: list[Feature] | UnsetType = UNSET
    counts: dict[str, int]
    likely: list[Scored]
    at_risk: list[Scored]
    open_sessions: list[OpenSession]
