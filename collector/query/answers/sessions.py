"""Sessions and people: a page of sessions, one session with its events, the replay, the people
list, a person's 360 view, their data export and erasure, and the rejected events."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType, defstruct, structs

from collector.query.answers.base import Answer, Ms, Rows

# A stored event as the API shows it: its columns (site_id, id, session_id, type, ts, client_ts,
# received_at, anon_id, user_id, url, path, route, name, and touchpoint where the engine keeps
# it) with its type's own fields beside them, as the wire protocol names them.
StoredEvent = Annotated[dict[str, Any], Meta(
    description="an event's columns with the fields of its type (see the wire protocol)",
)]


class SessionRow(Answer):
    """A session as stored: who, when, where from, on what, and its per-event sums."""

    site_id: str
    id: str
    visitor_id: str
    anon_id: str | None
    user_id: str | None
    first_ts: Ms
    last_ts: Ms
    duration_ms: int
    events: int
    pageviews: int
    entry_ts: Ms | None
    entry_url: str | None
    exit_ts: Ms | None
    exit_url: str | None
    referrer: str | None
    channel: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device: str | None
    device_brand: str | None
    device_model: str | None
    is_bot: int
    country: str | None
    country_name: str | None
    region: str | None
    city: str | None
    timezone: str | None
    lat: float | None
    lon: float | None
    vw: int | None
    vh: int | None
    cart_adds: int
    purchases: int
    revenue: float
    clicks: int
    rage_clicks: int
    dead_clicks: int
    errors: int
    has_replay: int
    replay_bytes: int
    verified_user: str | None


class SessionsPage(Answer):
    """GET /api/sessions: a page in the asked order, how many in all, and the next page's cursor."""

    sessions: list[SessionRow]
    total: int
    next: str | None


# GET /api/sessions/{id}: the session's row with its events in order where the row has their count
# (built from SessionRow, so that the two never differ and `events` keeps its place).
Session = defstruct(
    "Session",
    [(f.name, list[StoredEvent] if f.name == "events" else f.type) for f in structs.fields(SessionRow)],
    bases=(Answer,), kw_only=True, module=__name__,
)


class RecordingExtent(Answer):
    chunks: int
    first_ts: Ms | None
    last_ts: Ms | None


class ReplayEvents(Answer):
    """GET /api/sessions/{id}/replay: the recording's rrweb events in order; asked by page
    (`from_seq`, `chunks`), the page's chunks, where the next starts and the whole extent."""

    events: Rows
    from_seq: int | UnsetType = UNSET
    to_seq: int | None | UnsetType = UNSET
    next_seq: int | None | UnsetType = UNSET
    recording: RecordingExtent | UnsetType = UNSET


class PersonRow(Answer):
    id: str
    user_id: str | None
    sessions: int
    all_sessions: int
    revenue: float
    purchases: int
    first_ts: Ms
    last_ts: Ms


class People(Answer):
    """GET /api/persons."""

    total: int
    people: list[PersonRow]


class Person(Answer):
    """GET /api/persons/{id}: identities, traits, sessions, purchases, survey answers, timeline."""

    verified: bool
    unverified_sessions: int
    id: str
    user_id: str | None
    anon_ids: list[str]
    traits: dict[str, Any]
    first_ts: Ms | None
    last_ts: Ms | None
    sessions: list[SessionRow]
    purchases: list[StoredEvent]
    revenue: float
    surveys: list[StoredEvent]
    # sessions and events merged in time order; the ClickHouse store does not draw it yet
    timeline: list[dict[str, Any]] | UnsetType = UNSET


class PersonExport(Answer):
    """GET /api/persons/{id}/export: every stored row about the person, as the store keeps it."""

    site: str
    id: str
    linked_ids: list[str]
    persons: Rows
    identities: Rows
    sessions: Rows
    events: Rows
    replays: Rows
    dead_letters: Rows
    asset_refs: Rows  # the page assets the replays point at, as copied


class PersonErased(Answer):
    """DELETE /api/persons/{id}: how many rows of each table went."""

    deleted: dict[str, int]


class RejectedEvent(Answer):
    id: int
    site_id: str | None
    received_at: Ms
    source: str
    reason: str
    kind: str | None
    raw: str | None


class Rejected(Answer):
    """GET /api/rejected: the dead letters, newest first."""

    rejected: list[RejectedEvent]
