"""The touches of the sessions in scope on ClickHouse, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

from collector.query.journey import Touch
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db


def touches(db: Db, scope: Scope) -> list[Touch]:
    """Every event of the sessions that started in scope, by person and time (then arrival), with
    the session's facts: the SQLite engine's rows, to the value."""
    rows = db.rows(
        "SELECT s.visitor_id, e.session_id, s.first_ts, e.ts, e.type, e.name, e.path, e.route, e.url,"
        " e.touchpoint, s.channel, s.has_replay,"
        " if(e.type = 'survey', JSONExtract(e.data, 'score', 'Nullable(Int64)'), NULL),"
        " if(e.type = 'survey', JSONExtract(e.data, 'scale', 'Nullable(Int64)'), NULL),"
        " e.type = 'click' AND JSONExtractBool(e.data, 'rage'), e.type = 'click' AND JSONExtractBool(e.data, 'dead'),"
        f" s.device FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay, s.device AS device FROM {sessions_in(db.layout)}"
        f" WHERE {scope_sql(db.layout, scope)}) AS s ON s.id = e.session_id"
        f" WHERE e.site_id = {lit(scope.site_id)}"
        " ORDER BY s.visitor_id, e.ts, e.seq"
    )
    return [
        Touch(r[0], r[1], int(r[2]), int(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], bool(r[11]),
              None if r[12] is None else int(r[12]), None if r[13] is None else int(r[13]),
              bool(r[14]), bool(r[15]), r[16])
        for r in rows
    ]
