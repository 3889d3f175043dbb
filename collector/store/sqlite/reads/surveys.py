"""Surveys: NPS, CSAT and CES exactly as docs/metrics.md defines them, with their breakdowns."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.scope import Scope
from collector.query.surveys import Answer, summary
from collector.store.sqlite.reads.scope import day_sql, scope_sql


def load_answers(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> list[Answer]:
    where, args = scope_sql(scope)
    extra = ""
    if survey_id:
        extra, args = " AND json_extract(e.data, '$.survey_id') = ?", [*args, survey_id]
    rows = conn.execute(
        "SELECT e.name, json_extract(e.data, '$.score'), json_extract(e.data, '$.scale'),"
        " json_extract(e.data, '$.comment'), json_extract(e.data, '$.survey_id'), e.ts,"
        " e.session_id, s.visitor_id, s.channel, s.device, s.has_replay,"
        f" {day_sql(scope.calendar.local_sql('s.first_ts', scope.start, scope.end))}"
        " FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
        f" AND e.type = 'survey' WHERE {where}{extra} ORDER BY e.ts, e.rowid",
        args,
    )
    return [Answer(*row[:10], bool(row[10]), row[11]) for row in rows]  # type: ignore[call-arg]  # the 12 fields in order


def surveys(conn: sqlite3.Connection, scope: Scope, survey_id: str | None = None) -> dict[str, Any]:
    """Scores, distributions, a daily trend, comments and splits by channel and device."""
    return summary(scope, load_answers(conn, scope, survey_id))
