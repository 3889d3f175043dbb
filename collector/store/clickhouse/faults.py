"""ClickHouse's errors read as store faults: what stops every write is a 503 with Retry-After, not a 500."""

from __future__ import annotations

from collector.store.model import StoreFault

# Substrings of ClickHouse's error names (the same text through chdb and over HTTP) -> fault kind.
_KINDS = (
    ("NOT_ENOUGH_SPACE", "disk_full"),
    ("CANNOT_WRITE_TO_FILE_DESCRIPTOR", "io_error"),
    ("CANNOT_FSYNC", "io_error"),
    ("TABLE_IS_READ_ONLY", "read_only"),
    ("READONLY", "read_only"),
    ("CANNOT_OPEN_FILE", "io_error"),
    ("TOO_MANY_PARTS", "locked"),  # merges are behind: inserts resume once they catch up
    ("TIMEOUT_EXCEEDED", "unresponsive"),
    ("ALL_CONNECTION_TRIES_FAILED", "unresponsive"),
    ("NETWORK_ERROR", "unresponsive"),
)


def fault_of(exc: BaseException) -> StoreFault | None:
    """The fault an error of the store stands for, or None for an error of this request alone."""
    if isinstance(exc, StoreFault):
        return exc
    text = str(exc)
    for marker, kind in _KINDS:
        if marker in text:
            return StoreFault(kind, text.splitlines()[0][:300] if text else "")
    if isinstance(exc, ConnectionError | TimeoutError | OSError):
        return StoreFault("unresponsive", str(exc)[:300])
    return None
