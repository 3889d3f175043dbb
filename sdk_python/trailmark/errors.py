"""Exceptions handed to on_error; none of them is ever raised into the host app."""

from __future__ import annotations


class TrailmarkError(Exception):
    """Base class of the delivery failures the SDK reports."""


class APIError(TrailmarkError):
    """The collector answered with an error status."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after


class RejectedError(TrailmarkError):
    """The collector stored a batch but rejected some events; `reasons` lines up with them."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"{len(reasons)} event(s) rejected: {reasons[0] if reasons else ''}")
        self.reasons = reasons


class EncodeError(TrailmarkError):
    """An event could not be encoded as JSON or was larger than the collector accepts."""


class ShutdownError(TrailmarkError):
    """shutdown() ran out of time before these events could be delivered."""
