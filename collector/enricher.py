"""Enrichment glue: applies the pure functions of `collector.enrich` once per request and per event."""

from __future__ import annotations

from starlette.requests import Request

from collector.config import Settings
from collector.normalize import Request as Facts
from collector.store import Site
from collector.store.rows import Context, EventRow


class Enricher:
    """Holds what enrichment opens once (GeoIP reader, trusted proxies, caches)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def close(self) -> None:
        pass

    def client_ip(self, request: Request) -> str:
        """The socket peer (X-Forwarded-For from trusted proxies comes with enrichment)."""
        return request.client.host if request.client else "0.0.0.0"

    def facts(self, request: Request, site: Site, received_at: int, sent_at: int | None) -> Facts:
        """What all events of one request share."""
        return Facts(site_id=site.id, received_at=received_at, sent_at=sent_at, context=Context())

    def row(self, row: EventRow, facts: Facts, site: Site) -> EventRow:
        """Per-event enrichment of a validated row."""
        return row
