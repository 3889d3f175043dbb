"""Surveys on ClickHouse: the scope's answers in stored order, scored by the shared definitions."""

from __future__ import annotations

from typing import Any

from collector.query.scope import Scope
from collector.query.surveys import Answer, summary
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import AS_WRITTEN, day_sql, scope_sql, sessions_in, since_sql
from collector.store.clickhouse.transaction import Db


def load_answers(db: Db, scope: Scope, survey_id: str | None = None) -> list[Answer]:
    extra = f" AND JSONExtract(e.m_data, 'survey_id', 'Nullable(String)') = {lit(survey_id)}" if survey_id else ""
    rows = db.rows(
        "SELECT e.name, JSONExtract(e.m_data, 'score', 'Nullable(Int64)'),"
        " JSONExtract(e.m_data, 'scale', 'Nullable(Int64)'),"
        " JSONExtract(e.m_data, 'comment', 'Nullable(String)'), JSONExtract(e.m_data, 'survey_id', 'Nullable(String)'),"
        " e.ts, e.session_id, s.visitor_id, s.channel, s.device, s.has_replay,"
        f" {day_sql(scope.calendar.local_sql('s.first_ts', scope.start, scope.end))}"
        # the answers, fewer than the sessions, on the right
        f" FROM (SELECT s.id, s.visitor_id, s.channel, s.device, s.has_replay, s.first_ts"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)}) AS s"
        " INNER JOIN (SELECT e.name, e.m_data, e.ts, e.seq, e.session_id FROM"
        f" {db.t('events')} AS e WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
        f" AND e.type = 'survey'{extra}) AS e ON e.session_id = s.id ORDER BY e.ts, e.seq{AS_WRITTEN}"
    )
    answers = []
    for kind, score, scale, comment, survey, ts, session_id, visitor_id, channel, device, replay, day in rows:
        answers.append(Answer(
            kind, score, scale, comment, survey, ts, session_id, visitor_id, channel, device, bool(replay), int(day),
        ))
    return answers


def surveys(db: Db, scope: Scope, survey_id: str | None = None) -> dict[str, Any]:
    return summary(scope, load_answers(db, scope, survey_id))
