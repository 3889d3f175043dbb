"""Surveys: NPS, CSAT and CES exactly as docs/metrics.md defines them, with their breakdowns."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.query.surveys import Answer, summary
from collector.store.sqlite.reads.scope import day_sql, scope_sql


def load_answers(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> list[Answer]:
    # The survey events drive (CROSS JOIN fixes the order), each finding its session by primary
    # key: led by the sessions, SQLite seeks every session's events for a few answers. Exact: a
    # session's events all lie at or after its start, inside the range.
    where, args = scope_sql(scope)
    source = ("FROM events e CROSS JOIN sessions s ON s.site_id = e.site_id AND s.id = e.session_id"
              f" WHERE e.site_id = ? AND e.type = 'survey' AND e.ts >= ? AND {where}")
    args = [scope.site_id, scope.start, *args]
    extra = ""
    if survey_id:
        extra, args = " AND json_extract(e.data, '$.survey_id') = ?", [*args, survey_id]
    rows = conn.execute(
        "SELECT e.name, json_extract(e.data, '$.score'), json_extract(e.data, '$.scale'),"
        " json_extract(e.data, '$.comment'), json_extract(e.data, '$.survey_id'), e.ts,"
        " e.session_id, s.visitor_id, s.channel, s.device, s.has_replay,"
        f" {day_sql(scope.calendar.local_sql('s.first_ts', scope.start, scope.end))}"
        f" {source}{extra} ORDER BY e.ts, e.rowid",
        args,
    )
    return [Answer(*row[:10], bool(row[10]), row[11]) for row in rows]  # type: ignore[call-arg]  # the 12 fields in order


def surveys(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> dict[str, Any]:
    """Scores, distributions, a daily trend, comments and splits by channel and device."""
    return summary(scope, load_answers(conn, scope, survey_id))
