"""A session's rollup from its events, the same on every engine: times, entry and exit pages,
who the visitor is, the sums the dashboard reads, and the request context merged as stored."""

from __future__ import annotations

import uuid

from collector.store.model import Context, EventRow

SESSION_GAP_MS = 30 * 60 * 1000
# Server-side session ids are uuid5 in this namespace, so every engine makes the same ids.
SESSION_NS = uuid.UUID("6f1d2b8e-9a43-4c1e-8d0b-1b7e3c2a9f10")

CONTEXT_COLUMNS = tuple(Context.__struct_fields__)
ACQUISITION_COLUMNS = (
    "referrer", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
)
SUM_COLUMNS = (
    "events", "pageviews", "cart_adds", "purchases", "revenue", "clicks", "rage_clicks",
    "dead_clicks", "errors",
)
# (visitor id, the user a backend vouched for or None)
Visitor = tuple[str, "str | None"]


def merge_contexts(first: Context, then: Context) -> Context:
    """A session's device and geo: the first known value of each field; a bot once seen stays one."""
    merged = {c: getattr(first, c) if getattr(first, c) is not None else getattr(then, c) for c in CONTEXT_COLUMNS}
    merged["is_bot"] = first.is_bot or then.is_bot
    return Context(**merged)


class SessionRollup:
    """The rollup of one session's new events within a group commit."""

    __slots__ = (
        "site_id", "id", "visitor_id", "anon_id", "user_id", "verified_user", "first_ts", "last_ts",
        "entry", "exit", "vw", "vh", "sums", "context", "_merged",
    )

    def __init__(self, site_id: str, session_id: str, context: Context) -> None:
        self.site_id = site_id
        self.id = session_id
        self.visitor_id = ""
        self.anon_id: str | None = None
        self.user_id: str | None = None
        self.verified_user: str | None = None
        self.first_ts = 1 << 62
        self.last_ts = -1
        self.entry: EventRow | None = None
        self.exit: EventRow | None = None
        self.vw: int | None = None
        self.vh: int | None = None
        self.sums: dict[str, float] = dict.fromkeys(SUM_COLUMNS, 0)
        self.context = context
        self._merged = context  # the last request context folded into self.context

    def add(self, row: EventRow, visitor: Visitor, context: Context) -> None:
        if context is not self._merged:
            # Another request of this session in the same group: merge as a stored row would be.
            self._merged = context
            self.context = merge_contexts(self.context, context)
        self.first_ts = min(self.first_ts, row.ts)
        self.last_ts = max(self.last_ts, row.ts)
        self.anon_id = self.anon_id or row.anon_id
        visitor_id, vouched = visitor
        self.verified_user = self.verified_user or vouched
        if row.user_id:
            self.user_id = row.user_id
            self.visitor_id = visitor_id
        elif not self.visitor_id:
            self.visitor_id = visitor_id
        if self.vw is None and row.vw is not None:
            self.vw, self.vh = row.vw, row.vh
        sums = self.sums
        sums["events"] += 1
        kind = row.type
        if kind == "pageview":
            sums["pageviews"] += 1
            if self.entry is None or row.ts < self.entry.ts:
                self.entry = row
            if self.exit is None or row.ts >= self.exit.ts:
                self.exit = row
        elif kind == "click":
            sums["clicks"] += 1
            sums["rage_clicks"] += row.rage
            sums["dead_clicks"] += row.dead
        elif kind == "cart":
            sums["cart_adds"] += row.name == "add"
        elif kind == "purchase":
            sums["purchases"] += 1
            sums["revenue"] += row.revenue
        elif kind == "error":
            sums["errors"] += 1
