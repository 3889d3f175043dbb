"""The touches of the sessions in scope on ClickHouse, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

from collector.query.journey import EVERYTHING, Reading, Touch
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in
from collector.store.clickhouse.transaction import Db


def window_sql(reading: Reading) -> str:
    """The events of a session that a reading keeps, as an AND clause over `e` (empty: all)."""
    inside = [f"e.ts {op} {lit(value)}" for op, value in ((">=", reading.since), ("<", reading.before))
              if value is not None]
    if not inside:
        return ""
    sql = " AND ".join(inside)
    if reading.goal_type is not None:
        goal = f"e.type = {lit(reading.goal_type)}"
        if reading.goal_name is not None:
            goal += f" AND e.name = {lit(reading.goal_name)}"
        sql = f"({sql} OR {goal})"
    return f" AND {sql}"


def touches(db: Db, scope: Scope, reading: Reading = EVERYTHING) -> list[Touch]:
    """The events of the sessions that started in scope, by person and time (then arrival), with
    the session's facts: the SQLite engine's rows, to the value."""
    rows = db.rows(
        "SELECT s.visitor_id, e.session_id, s.first_ts, e.ts, e.type, e.name, e.path,"
        f" {'e.route' if reading.route else 'NULL'}, {'e.url' if reading.url else 'NULL'},"
        f" e.touchpoint, {'s.channel' if reading.channel else 'NULL'}, s.has_replay,"
        " if(e.type = 'survey', JSONExtract(e.data, 'score', 'Nullable(Int64)'), NULL),"
        " if(e.type = 'survey', JSONExtract(e.data, 'scale', 'Nullable(Int64)'), NULL),"
        " e.type = 'click' AND JSONExtractBool(e.data, 'rage'), e.type = 'click' AND JSONExtractBool(e.data, 'dead'),"
        f" {'s.device' if reading.device else 'NULL'} FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay, s.device AS device FROM {sessions_in(db.layout)}"
        f" WHERE {scope_sql(db.layout, scope)}) AS s ON s.id = e.session_id"
        f" WHERE e.site_id = {lit(scope.site_id)}{window_sql(reading)}"
        " ORDER BY s.visitor_id, e.ts, e.seq"
        # numbers as JSON numbers, not quoted 64-bit strings: no int() per value (has_replay, rage
        # and dead come as 0 and 1, as SQLite gives them)
        " SETTINGS output_format_json_quote_64bit_integers = 0"
    )
    return list(map(Touch._make, rows))
