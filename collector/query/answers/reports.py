"""The reports' answers: overview, funnel, paths, retention, commerce, surveys, custom events,
Web Vitals, JS errors and the live view."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from collector.query.answers.base import Answer, Ms, Named, Number


class Range(Answer, rename={"start": "from", "end": "to"}):
    start: Ms
    end: Ms


class Figure(Answer):
    """A headline figure, its value in the previous range of the same length, and the change."""

    value: Number
    previous: Number
    change: float | None


class Figures(Answer):
    visitors: Figure
    sessions: Figure
    pageviews: Figure
    bounce_rate: Figure
    avg_duration_s: Figure
    conversion_rate: Figure
    cart_abandonment_rate: Figure
    revenue: Figure
    orders: Figure
    aov: Figure


class Day(Answer, kw_only=True):
    """One interval of the chart: a day (`date`, YYYY-MM-DD) or an hour (`hour`, ISO in UTC)."""

    date: str | UnsetType = UNSET
    hour: str | UnsetType = UNSET
    visitors: int
    sessions: int
    pageviews: int
    bounce_rate: float
    revenue: float
    orders: int


class PageViews(Answer):
    name: str
    pageviews: int
    previous: int


class Region(Answer):
    name: str
    sessions: int
    previous: int
    country: str | None
    region: str | None


class GoalFigure(Answer):
    """A saved goal's conversions: visitors and sessions that reached it, now and before."""

    id: int
    name: str
    visitors: int
    sessions: int
    conversion_rate: float
    previous: int
    previous_rate: float


class Overview(Answer):
    """GET /api/overview."""

    range: Range
    previous_range: Range
    metrics: Figures
    interval: str
    series: list[Day]
    previous_series: list[Day]
    pages: list[PageViews]
    channels: list[Named]
    campaigns: list[Named]
    devices: list[Named]
    browsers: list[Named]
    countries: list[Named]
    referrers: list[Named]
    entry_pages: list[Named]
    exit_pages: list[Named]
    regions: list[Region]
    goals: list[GoalFigure]
    goal: str | None
    shop: bool
    currency: str | None


class DroppedSession(Answer):
    id: str
    visitor_id: str
    has_replay: bool


class FunnelStep(Answer):
    step: int
    type: str
    url: str | None
    name: str | None
    visitors: int
    conversion: float
    conversion_from_start: float
    median_s_from_previous: float | None
    dropped: int
    dropped_sessions: list[DroppedSession]


class Funnel(Answer):
    """POST /api/funnel."""

    window_s: int
    steps: list[FunnelStep]
    overall_conversion: float


class PathPage(Answer):
    path: str
    sessions: int


class PathStep(Answer):
    step: int
    pages: list[PathPage]


class PathLink(Answer):
    step: int
    source: str
    target: str
    sessions: int


class PathFolds(Answer):
    """Per step, how many pages the flow diagram's column folded into "(other)" (0: none)."""

    next: list[int]
    previous: list[int]


class Paths(Answer):
    """GET /api/paths: from a page, the most common pages after and before it, step by step."""

    from_url: str
    sessions: int
    next: list[PathStep]
    previous: list[PathStep]
    next_links: list[PathLink]
    previous_links: list[PathLink]
    folded: PathFolds


class Cohort(Answer):
    """Visitors first seen in a week, and how many came back in each later week (null: not yet)."""

    week: str
    visitors: int
    retained: list[int | None]
    rates: list[float | None]


class Retention(Answer):
    """GET /api/retention."""

    weeks: int
    current_week: str
    cohorts: list[Cohort]


class CommerceDay(Answer):
    date: str
    revenue: float
    orders: int


class Product(Answer):
    sku: str
    name: str | None
    quantity: int
    revenue: float
    orders: int


class AbandonedCart(Answer):
    id: str
    visitor_id: str
    first_ts: Ms
    cart_adds: int
    has_replay: bool
    cart_value: float


class Commerce(Answer):
    """GET /api/commerce."""

    revenue: float
    orders: int
    aov: float
    series: list[CommerceDay]
    products: list[Product]
    cart_sessions: int
    abandoned_sessions: int
    cart_abandonment_rate: float
    abandoned: list[AbandonedCart]


class Nps(Answer):
    responses: int
    score: float
    promoters: int
    passives: int
    detractors: int
    distribution: dict[str, int]


class ScaleScore(Answer):
    responses: int
    score: float
    mean: float
    distribution: dict[str, int]


class Csat(Answer):
    responses: int
    score: float
    satisfied: int
    mean: float | None  # null when the answers mix 5- and 7-point scales: see by_scale
    by_scale: dict[str, ScaleScore]


class Ces(Answer):
    responses: int
    score: float
    easy: int
    neutral: int
    difficult: int
    mean: float
    distribution: dict[str, int]


class Score(Answer):
    responses: int
    score: float


class SurveyDay(Answer):
    date: str
    nps: Score
    csat: Score
    ces: Score


class Comment(Answer):
    ts: Ms
    kind: str
    score: int
    scale: int | None
    comment: str
    survey_id: str | None
    session_id: str
    visitor_id: str
    has_replay: bool


class NamedScore(Answer):
    name: str
    responses: int
    score: float


class ScoresBy(Answer):
    nps: list[NamedScore]
    csat: list[NamedScore]
    ces: list[NamedScore]


class Surveys(Answer):
    """GET /api/surveys."""

    nps: Nps
    csat: Csat
    ces: Ces
    trend: list[SurveyDay]
    comments: list[Comment]
    by_channel: ScoresBy
    by_device: ScoresBy


class CustomEvent(Answer):
    name: str
    count: int
    visitors: int


class PropertyValue(Answer):
    key: str
    value: str
    count: int
    visitors: int


class CustomEvents(Answer):
    """GET /api/events; with `name`, that event's properties too."""

    events: list[CustomEvent]
    name: str | UnsetType = UNSET
    properties: list[PropertyValue] | UnsetType = UNSET


class Threshold(Answer):
    good: Number
    poor: Number


class VitalSummary(Answer):
    """A metric's p75 (null without values) and its rating, how many values, each band's share."""

    p75: float | None
    rating: str | None
    count: int
    good: float
    needs_improvement: float
    poor: float


class VitalsByMetric(Answer):
    LCP: VitalSummary
    INP: VitalSummary
    CLS: VitalSummary
    FCP: VitalSummary
    TTFB: VitalSummary


class ThresholdsByMetric(Answer):
    LCP: Threshold
    INP: Threshold
    CLS: Threshold
    FCP: Threshold
    TTFB: Threshold


class VitalsRow(Answer, kw_only=True):
    """A page or a device: the metrics it has values for (the others are left out)."""

    page: str | UnsetType = UNSET
    device: str | UnsetType = UNSET
    count: int
    LCP: VitalSummary | UnsetType = UNSET
    INP: VitalSummary | UnsetType = UNSET
    CLS: VitalSummary | UnsetType = UNSET
    FCP: VitalSummary | UnsetType = UNSET
    TTFB: VitalSummary | UnsetType = UNSET


class Vitals(Answer):
    """GET /api/vitals."""

    thresholds: ThresholdsByMetric
    metrics: VitalsByMetric
    pages: list[VitalsRow]
    devices: list[VitalsRow]


class ErrorExample(Answer):
    session_id: str
    replay: bool
    ts: Ms


class ErrorGroup(Answer):
    message: str
    source: str | None
    count: int
    sessions: int
    visitors: int
    first_seen: Ms
    last_seen: Ms
    examples: list[ErrorExample]


class Errors(Answer):
    """GET /api/errors."""

    errors: list[ErrorGroup]


class LivePage(Answer):
    path: str
    visitors: int


class LiveEvent(Answer):
    ts: Ms
    type: str
    name: str | None
    path: str | None
    session_id: str
    visitor_id: str
    country: str | None
    device: str | None


class Live(Answer):
    """GET /api/live: visitors of the last 5 and 30 minutes, per minute, and the latest events."""

    now: Ms
    visitors_5m: int
    visitors_30m: int
    pages: list[LivePage]
    minutes: list[int]
    events: list[LiveEvent]
