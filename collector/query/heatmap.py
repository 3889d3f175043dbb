"""A heatmap's question as data: page, device bucket, range and rage flag, checked once."""

from __future__ import annotations

from dataclasses import dataclass

from collector.errors import ClientError
from collector.query.params import DAY_MS

DEVICES = ("desktop", "tablet", "mobile")


def bucket(vw: int | float | None) -> str:
    """The device bucket of a viewport width (docs/metrics.md): mobile < 768 <= tablet < 1024 <= desktop."""
    if vw is None:
        return ""
    return "mobile" if vw < 768 else "tablet" if vw < 1024 else "desktop"


@dataclass(frozen=True)
class Scope:
    """One heatmap's page, device bucket ('' for all), UTC time range [start, end) and rage flag."""

    site_id: str
    url: str
    device: str
    start: int
    end: int
    rage: bool = False
    # (experiment, variant or None): only the sessions of its exposed visitors (query/scope.py)
    exposures: tuple[tuple[str, str | None], ...] = ()

    def __post_init__(self) -> None:
        if not self.url:
            raise ClientError(400, "url is required: a route (/product/:id), a path, /path/* or a URL")
        if self.device not in ("", *DEVICES):
            raise ClientError(400, "device must be desktop, tablet or mobile")

    @property
    def days(self) -> tuple[int, int]:
        """The rollups' UTC days touched by the range; epoch-ms bounds widen to whole days."""
        return self.start // DAY_MS, max(self.start, self.end - 1) // DAY_MS
