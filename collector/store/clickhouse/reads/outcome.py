"""The likely-outcome model's report and scores on ClickHouse: kept per site, replaced whole by each
training. The scores of a training are written first under a new version, then the report row
with that version; readers take the scores of the newest report, so they see the old model or the
new one (as SQLite's one transaction gives), and the old scores are then deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collector.query.outcome import Score
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import current_model, human_sql
from collector.store.clickhouse.transaction import VERSIONS, Db
from collector.wire import json_decoder, json_encoder


def save(
    db: Db, site_id: str, report: dict[str, Any], scores: Sequence[Score]
) -> None:
    version = VERSIONS.next()
    if scores:
        db.conn.insert(db.t("outcome_scores"), ("site_id", "model", "visitor_id", "probability", "label"),
                       [(site_id, version, s.visitor_id, s.probability, s.label) for s in scores])
    db.conn.insert(db.t("outcome_models"), ("site_id", "trained_at", "report", "version"),
                   [(site_id, report["trained_at"], json_encoder.encode(report).decode(), version)])
    site = f"site_id = {lit(site_id)}"
    if db.rows(f"SELECT 1 FROM {db.t('outcome_scores')} WHERE {site} AND model < {version} LIMIT 1"):
        db.delete("outcome_scores", f"{site} AND model < {version}")


def report(db: Db, site_id: str) -> dict[str, Any] | None:
    found = db.rows(f"SELECT report FROM {db.t('outcome_models')} FINAL WHERE site_id = {lit(site_id)}")
    return dict(json_decoder.decode(found[0][0])) if found else None


def _current(db: Db, site_id: str) -> str:
    return f"o.site_id = {lit(site_id)} AND o.model = ({current_model(db.layout, site_id)})"


def scores(db: Db, site_id: str, label: str, limit: int) -> list[dict[str, Any]]:
    """The people with a label, the likeliest first for `likely`, the least likely first otherwise."""
    order = "DESC" if label == "likely" else "ASC"
    rows = db.rows(
        f"SELECT visitor_id, probability, label FROM {db.t('outcome_scores')} AS o"
        f" WHERE {_current(db, site_id)} AND o.label = {lit(label)}"
        f" ORDER BY probability {order}, visitor_id LIMIT {int(limit)}"
    )
    return [{"visitor_id": v, "probability": float(p), "label": lab} for v, p, lab in rows]


def open_sessions(db: Db, site_id: str, since: int, limit: int) -> list[dict[str, Any]]:
    """Sessions active since `since` (still open), with their person's probability and label."""
    rows = db.rows(
        f"SELECT s.id, s.visitor_id, s.last_ts, o.probability, o.label FROM {db.t('sessions')} AS s FINAL"
        f" INNER JOIN (SELECT visitor_id, probability, label FROM {db.t('outcome_scores')} AS o"
        f" WHERE {_current(db, site_id)}) AS o ON o.visitor_id = s.visitor_id"
        f" WHERE s.site_id = {lit(site_id)} AND s.last_ts >= {lit(since)} AND {human_sql('s')}"
        f" ORDER BY o.probability DESC, s.id LIMIT {int(limit)}"
    )
    names = ("session_id", "visitor_id", "last_ts", "probability", "label")
    return [dict(zip(names, (sid, visitor, int(last), float(p), lab), strict=True))
            for sid, visitor, last, p, lab in rows]


def counts(db: Db, site_id: str) -> dict[str, int]:
    rows = db.rows(
        f"SELECT label, count() FROM {db.t('outcome_scores')} AS o WHERE {_current(db, site_id)}"
        " GROUP BY label ORDER BY label"
    )
    return {label: int(n) for label, n in rows}
