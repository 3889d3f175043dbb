"""The touches of the sessions in scope on ClickHouse, as the journey map (query/journey.py) reads them."""

from __future__ import annotations

import itertools

from collector.query.journey import EVERYTHING, Reading, Touch
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import scope_sql, sessions_in, since_sql
from collector.store.clickhouse.transaction import Db

# Each field of a Touch after the visitor, as read here; None: not read (the reading says which).
_FIELDS = (
    ("session", "e.session_id"), ("session_start", "s.first_ts"), ("ts", "e.ts"), ("type", "e.type"),
    ("name", "e.name"), ("path", "e.path"), ("route", "e.route"), ("url", "e.url"),
    ("touchpoint", "e.touchpoint"), ("channel", "s.channel"), ("has_replay", "s.has_replay"),
    # Fields of the JSON from the columns filled on insert (schema.MATERIALIZED): the whole `data`
    # column of a million events is never decompressed.
    ("score", "if(e.type = 'survey', JSONExtract(e.m_data, 'score', 'Nullable(Int64)'), NULL)"),
    ("scale", "if(e.type = 'survey', JSONExtract(e.m_data, 'scale', 'Nullable(Int64)'), NULL)"),
    ("rage", "e.m_rage"),
    ("dead", "e.m_dead"),
    ("device", "s.device"),
)
assert tuple(f for f, _ in _FIELDS) == Touch._fields[1:]


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
    the session's facts: the SQLite engine's rows, to the value.

    ClickHouse groups them by person, each person's in time order, one row per person with an
    array per field: each visitor id crosses once, and the sort is of each person's few events
    (not of a million rows by a string)."""
    read = [(field, sql) for field, sql in _FIELDS if getattr(reading, field, True)]
    rows = db.rows(
        f"SELECT visitor_id, {', '.join(f'arrayMap(x -> x.{k + 3}, r)' for k in range(len(read)))}"
        # sorted as whole tuples, (ts, seq) first: a lambda key costs more than the comparison
        f" FROM (SELECT s.visitor_id AS visitor_id, arraySort("
        f" groupArray(tuple(e.ts, e.seq, {', '.join(sql for _, sql in read)}))) AS r"
        f" FROM {db.t('events')} AS e"
        f" INNER JOIN (SELECT s.id AS id, s.visitor_id AS visitor_id, s.first_ts AS first_ts, s.channel AS channel,"
        f" s.has_replay AS has_replay, s.device AS device FROM {sessions_in(db.layout)}"
        f" WHERE {scope_sql(db.layout, scope)}) AS s ON s.id = e.session_id"
        f" WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}{window_sql(reading)}"
        " GROUP BY s.visitor_id) ORDER BY visitor_id"
        # numbers as JSON numbers, not quoted 64-bit strings: no int() per value (has_replay, rage
        # and dead come as 0 and 1, as SQLite gives them)
        " SETTINGS output_format_json_quote_64bit_integers = 0"
    )
    names = [field for field, _ in read]
    found: list[Touch] = []
    for visitor, *columns in rows:
        read_columns = dict(zip(names, columns, strict=True))
        fields = [read_columns.get(field, itertools.repeat(None)) for field, _ in _FIELDS]
        # tuples made in C, a person's at a time (the repeats of unread fields are endless)
        found.extend(map(Touch._make, zip(itertools.repeat(visitor, len(columns[0])), *fields, strict=False)))
    return found
