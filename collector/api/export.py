"""Reports as files: any table of a JSON report as CSV, and whole session lists streamed.

Engine-neutral: it reads the answers the store gives, never SQL.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from collector.errors import ClientError
from collector.wire import json_encoder

# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"):
# such text gets a leading apostrophe, numbers stay numbers.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def tables(report: dict[str, Any]) -> list[str]:
    """The keys of a report that hold a table: a list of objects (an empty one exports no rows)."""
    return [k for k, v in report.items() if isinstance(v, list) and all(isinstance(r, dict) for r in v)]


def flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted columns (`LCP.p75`), lists of numbers as numbered ones
    (`retained.0`, `retained.1`), lists of objects as their JSON text."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
            out[name] = json_encoder.encode(value).decode()
        elif isinstance(value, list):
            out.update({f"{name}.{index}": v for index, v in enumerate(value)})
        else:
            out[name] = value
    return out


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class Writer:
    """CSV text a row at a time, with the columns of the first row plus any seen later."""

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")

    def line(self, values: list[Any]) -> str:
        self._csv.writerow([cell(v) for v in values])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self) -> str:
        return self.line(list(self.columns))

    def row(self, row: dict[str, Any]) -> str:
        flattened = flat(row)
        return self.line([flattened.get(c) for c in self.columns])


def table_csv(report: dict[str, Any], table: str | None) -> str:
    """One table of a report as CSV (RFC 4180, CRLF)."""
    found = tables(report)
    if table is None:
        if len(found) != 1:
            raise ClientError(400, f"name the table to export: table={' or '.join(found) or '(none here)'}")
        table = found[0]
    rows = report.get(table)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ClientError(400, f"no table {table!r} in this report; tables: {', '.join(found) or '(none)'}")
    columns: list[str] = []
    for row in rows:
        for column in flat(row):
            if column not in columns:
                columns.append(column)
    if not columns:  # no rows: nothing says which columns there would be
        return ""
    writer = Writer(columns)
    return writer.header() + "".join(writer.row(r) for r in rows)


SESSION_COLUMNS = [
    "id", "visitor_id", "user_id", "first_ts", "last_ts", "duration_ms", "events", "pageviews",
    "entry_url", "exit_url", "referrer", "channel", "utm_source", "utm_medium", "utm_campaign",
    "browser", "os", "device", "country", "region", "city", "cart_adds", "purchases", "revenue",
    "clicks", "rage_clicks", "dead_clicks", "errors", "has_replay",
]


def stream_csv(pages: Iterator[list[dict[str, Any]]], columns: list[str]) -> Iterator[str]:
    """A CSV header then every row of every page, one page of text per chunk."""
    writer = Writer(columns)
    yield writer.header()
    for page in pages:
        yield "".join(writer.row(r) for r in page)
