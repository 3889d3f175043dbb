"""The team answers: who is asking, the members of a site, API keys, share links (and what a
share link shows), and scheduled e-mail reports and alerts."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from collector.query.answers.base import Answer, Ms


class Me(Answer):
    """GET /api/me: the principal (token, key, account or share) and its role per site ('*': all)."""

    kind: str
    name: str
    roles: dict[str, str]


class Member(Answer):
    id: int
    email: str
    active: bool  # has set a password
    role: str


class Members(Answer):
    """GET /api/members."""

    members: list[Member]


class Invited(Answer):
    """POST /api/members: the invitation link, shown this once."""

    email: str
    role: str
    site: str
    invite_url: str


class MemberRemoved(Answer):
    removed: int
    site: str


class ApiKey(Answer, kw_only=True):
    id: int
    name: str
    role: str
    site: str
    created_at: Ms | UnsetType = UNSET
    revoked: bool | UnsetType = UNSET


class ApiKeys(Answer):
    """GET /api/keys."""

    keys: list[ApiKey]


class NewApiKey(ApiKey, kw_only=True):
    """POST /api/keys: the key, shown this once (the store keeps its hash)."""

    key: str


class Revoked(Answer):
    revoked: int | str


class Share(Answer):
    """A share link: one view of one site, its parameters, until when, and its URL."""

    id: str
    site: str
    view: str
    params: dict[str, str]
    people: bool
    created_at: int
    expires_at: int
    revoked: bool
    url: str


class Shares(Answer):
    """GET /api/shares."""

    shares: list[Share]


class SharedSite(Answer):
    id: str
    name: str


class Shared(Answer):
    """GET /api/shared/{token}: what a share link shows; `data` is the view's report as the
    store answers it (overview, paths, retention, commerce, surveys, funnel, people or sessions)."""

    view: str
    site: SharedSite
    expires_at: int
    data: dict[str, Any]


class AlertWebhook(Answer):
    """An alert's webhook: its trigger rule (kind `alert`, docs/triggers.md), where it posts and
    whether it is on."""

    id: int
    url: str
    enabled: bool
    disabled_reason: str | None


class Schedule(Answer, kw_only=True):
    """A scheduled report (settings: period) or alert (settings: metric, above, below, change,
    and `webhook`, its rule's id, when it posts to one)."""

    id: int
    site: str
    kind: str
    recipients: list[str]
    settings: dict[str, Any]
    last_sent: int | None
    webhook: AlertWebhook | None = None
    secret: str | UnsetType = UNSET  # an alert's webhook signing secret: in the answer that made it, once


class Schedules(Answer):
    """GET /api/reports: the site's reports and alerts, and whether an SMTP server is set."""

    schedules: list[Schedule]
    smtp: bool


class Sent(Answer):
    """POST /api/reports/{id}/send: whether the mail went, its subject, or why not."""

    sent: bool
    subject: str | UnsetType = UNSET
    why: str | UnsetType = UNSET
    # An alert with a webhook: whether this day's delivery was queued now (false: queued already,
    # or the webhook is disabled).
    webhook_queued: bool | UnsetType = UNSET
