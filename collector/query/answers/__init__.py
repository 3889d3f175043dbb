"""The analyst answers as types: one msgspec Struct per answer of /api, engine-neutral.

Each /api route declares the type of its answer (collector/replies.py `returns`); the endpoint
converts what the store or the query logic gave it to that type, strictly, before answering, so
an answer that drifts from its declared type fails loudly instead of documenting a lie, and
/openapi.json describes every response from these same types.

Fields are declared in the order the answers have always listed them (the JSON bytes stay the
same). `X | None` is a field that is always there and may be null; `X | UnsetType` one that is
only there in some answers (it is left out, never null). `Number` is a figure that is a whole
number or a fraction, each written as it is (a threshold: 2500 ms, or 0.1 for CLS).
"""

from __future__ import annotations

from collector.query.answers.base import Answer, Deleted, Number, Rows
from collector.query.answers.heatmap import ClickMap, ClickMoment, Heatmap, HeatmapPages, ScrollMap, Snapshot
from collector.query.answers.journey import JourneyMap, JourneyStages, Predictions
from collector.query.answers.reports import (
    Commerce,
    CustomEvents,
    Errors,
    Funnel,
    Live,
    Overview,
    Paths,
    Retention,
    Surveys,
    Vitals,
)
from collector.query.answers.sessions import (
    People,
    Person,
    PersonErased,
    PersonExport,
    Rejected,
    ReplayEvents,
    Session,
    SessionsPage,
)
from collector.query.answers.settings import (
    Experiment,
    ExperimentDeleted,
    ExperimentResults,
    Experiments,
    Goal,
    Goals,
    NewTriggerRule,
    Segment,
    Segments,
    SiteChanged,
    Sites,
    Suggestions,
    TriggerDeliveries,
    TriggerRule,
    TriggerRules,
)
from collector.query.answers.teams import (
    ApiKeys,
    Invited,
    Me,
    MemberRemoved,
    Members,
    NewApiKey,
    Revoked,
    Schedule,
    Schedules,
    Sent,
    Share,
    Shared,
    Shares,
)

__all__ = [
    "ApiKeys", "Invited", "Me", "MemberRemoved", "Members", "NewApiKey", "Revoked", "Schedule", "Schedules",
    "Sent", "Share", "Shared", "Shares",
    "Answer", "ClickMap", "ClickMoment", "Commerce", "CustomEvents", "Deleted", "Errors", "Experiment",
    "ExperimentDeleted", "ExperimentResults", "Experiments", "Funnel", "Goal", "Goals", "Heatmap", "HeatmapPages",
    "JourneyMap", "JourneyStages", "Live", "NewTriggerRule", "Number", "Overview", "Paths", "People", "Person",
    "PersonErased", "PersonExport", "Predictions", "Rejected", "ReplayEvents", "Retention", "Rows",
    "ScrollMap", "Segment", "Segments", "Session", "SessionsPage", "SiteChanged", "Sites", "Snapshot",
    "Suggestions", "Surveys", "TriggerDeliveries", "TriggerRule", "TriggerRules", "Vitals",
]
