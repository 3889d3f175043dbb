"""Experiments on ClickHouse: their definitions, and the per-variant counts of one experiment.

An exposure is an event of type 'exposure' with the experiment in `name` and the variant in
`data`, as on SQLite. Each visitor counts in the variant of their first exposure in the range
(by time, then arrival order: `seq` here, the rowid there), with what they did from that moment
to the end of the range; the arithmetic on the counts is query/experiments.py's.
"""

from __future__ import annotations

from typing import Any

from collector.query.experiments import ArmCounts, Counts, Experiment
from collector.query.scope import Goal, Scope
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.reads.scope import bounced_sql, goal_event_sql, scope_sql, sessions_in, viewed_sql
from collector.store.clickhouse.transaction import VERSIONS, Db

_COLUMNS = ("key", "name", "variants", "goal", "metrics", "hypothesis", "saved_goal", "created_at")
_WRITTEN = ("site_id", *_COLUMNS, "version", "deleted")


def _rows(db: Db, site_id: str, where: str = "1") -> list[tuple[Any, ...]]:
    return db.rows(
        f"SELECT {', '.join(_COLUMNS)} FROM {db.t('experiments')} FINAL"
        f" WHERE site_id = {lit(site_id)} AND {where} ORDER BY created_at, key"
    )


def list_experiments(db: Db, site_id: str) -> list[Experiment]:
    return [Experiment.from_stored(*row) for row in _rows(db, site_id)]


def get_experiment(db: Db, site_id: str, key: str) -> Experiment | None:
    found = _rows(db, site_id, f"key = {lit(key)}")
    return Experiment.from_stored(*found[0]) if found else None


def create_experiment(db: Db, site_id: str, experiment: Experiment, now: int) -> Experiment | None:
    """Store a new experiment (run by the store's one writer, so the check and the insert are one
    step); None when its key is taken."""
    if get_experiment(db, site_id, experiment.key) is not None:
        return None
    db.conn.insert(db.t("experiments"), _WRITTEN,
                   [(site_id, experiment.key, *experiment.stored(), now, VERSIONS.next(), 0)])
    return get_experiment(db, site_id, experiment.key)


def delete_experiment(db: Db, site_id: str, key: str) -> bool:
    """Forget a definition (a newer row marked deleted); its exposures stay, as every event does."""
    found = db.rows(
        f"SELECT site_id, {', '.join(_COLUMNS)} FROM {db.t('experiments')} FINAL"
        f" WHERE site_id = {lit(site_id)} AND key = {lit(key)}"
    )
    if not found:
        return False
    db.conn.insert(db.t("experiments"), _WRITTEN, [(*found[0], VERSIONS.next(), 1)])
    return True


def _firsts(db: Db, scope: Scope, key: str) -> str:
    """Per visitor exposed in the range (in sessions the scope keeps): the first exposure's time,
    variant and session's pageviews, and whether they saw another variant too."""
    variant = "JSONExtractString(e.data, 'variant')"
    return (
        f"SELECT s.visitor_id AS visitor, min(e.ts) AS first_ts, argMin({variant}, (e.ts, e.seq)) AS variant,"
        f" argMin(s.pageviews, (e.ts, e.seq)) AS pageviews, uniqExact({variant}) > 1 AS crossed"
        f" FROM {db.t('events')} AS e INNER JOIN (SELECT s.id, s.visitor_id, s.pageviews"
        f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope, started=False)}) AS s"
        f" ON e.session_id = s.id"
        f" WHERE e.site_id = {lit(scope.site_id)} AND e.type = 'exposure' AND e.name = {lit(key)}"
        f" AND e.ts >= {lit(scope.start)} AND e.ts < {lit(scope.end)} GROUP BY s.visitor_id"
    )


def _later(db: Db, scope: Scope, types: list[str], firsts: str) -> str:
    """The events of some types of the exposed visitors' sessions (any session of theirs, as on
    SQLite) before the end of the range, each with its visitor."""
    return (
        f"SELECT gs.visitor_id AS visitor, g.ts AS ts, g.type AS type, g.name AS name, g.path AS path,"
        f" g.url AS url, g.route AS route, g.data AS data, g.m_data AS m_data FROM {db.t('events')} AS g INNER JOIN"
        f" (SELECT id, visitor_id FROM {db.t('sessions')} FINAL WHERE site_id = {lit(scope.site_id)}"
        f" AND visitor_id IN (SELECT visitor FROM ({firsts}))) AS gs ON g.session_id = gs.id"
        f" WHERE g.site_id = {lit(scope.site_id)} AND g.type IN {lits(types)} AND g.ts < {lit(scope.end)}"
    )


def counts(db: Db, scope: Scope, key: str, goal: Goal) -> Counts:
    """Per variant: visitors by the variant of their first exposure in the range and what they
    did from that moment to the end of the range (goal, revenue); and their survey answers."""
    firsts = _firsts(db, scope, key)
    # The inequality with the first exposure is a condition of the aggregates, not of the join:
    # a LEFT JOIN on the visitor alone keeps those without later events (converted 0, revenue 0).
    after = "g.ts >= f.first_ts"
    rows = db.rows(
        f"SELECT variant, count(), sum(converted), sum(revenue), sum(revenue * revenue), sum(crossed),"
        f" countIf({viewed_sql('')}), countIf({bounced_sql('')}) FROM ("
        f"SELECT f.visitor, any(f.variant) AS variant, any(f.crossed) AS crossed, any(f.pageviews) AS pageviews,"
        f" maxIf(1, {after} AND {goal_event_sql(goal, 'g')}) AS converted,"
        f" sumIf(JSONExtractFloat(g.data, 'value'), {after} AND g.type = 'purchase') AS revenue"
        f" FROM ({firsts}) AS f LEFT JOIN ({_later(db, scope, sorted({goal.type, 'purchase'}), firsts)}) AS g"
        f" ON g.visitor = f.visitor GROUP BY f.visitor"
        f") GROUP BY variant ORDER BY variant"
    )
    arms = [
        ArmCounts(variant, int(n), int(converted), float(revenue), float(revenue_sq), int(crossed), int(viewed),
                  int(bounced))
        for variant, n, converted, revenue, revenue_sq, crossed, viewed, bounced in rows
    ]
    scores = db.rows(
        f"SELECT f.variant, g.name, JSONExtract(g.data, 'scale', 'Nullable(Int64)') AS scale,"
        f" JSONExtract(g.data, 'score', 'Nullable(Int64)') AS score, count()"
        f" FROM ({firsts}) AS f INNER JOIN ({_later(db, scope, ['survey'], firsts)}) AS g ON g.visitor = f.visitor"
        f" WHERE {after} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3 NULLS FIRST, 4 NULLS FIRST"
    )
    return Counts(arms, [(v, kind, scale, score, int(n)) for v, kind, scale, score, n in scores])
