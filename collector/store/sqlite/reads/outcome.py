"""The likely-outcome model's report and scores: kept per site, replaced whole by each training."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from collector.query.outcome import Score
from collector.store.sqlite.connection import transaction
from collector.store.sqlite.reads.scope import human_sql
from collector.wire import json_decoder, json_encoder


def save(conn: sqlite3.Connection, site_id: str, report: dict[str, Any], scores: Sequence[Score]) -> None:
    """The new report and scores in one transaction: readers see the old model or the new one."""
    with transaction(conn):
        conn.execute(
            "INSERT OR REPLACE INTO outcome_models (site_id, trained_at, report) VALUES (?, ?, ?)",
            (site_id, report["trained_at"], json_encoder.encode(report).decode()),
        )
        conn.execute("DELETE FROM outcome_scores WHERE site_id = ?", (site_id,))
        conn.executemany(
            "INSERT INTO outcome_scores (site_id, visitor_id, probability, label) VALUES (?, ?, ?, ?)",
            [(site_id, s.visitor_id, s.probability, s.label) for s in scores],
        )


def report(conn: sqlite3.Connection, site_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT report FROM outcome_models WHERE site_id = ?", (site_id,)).fetchone()
    return None if row is None else dict(json_decoder.decode(row[0]))


def scores(conn: sqlite3.Connection, site_id: str, label: str, limit: int) -> list[dict[str, Any]]:
    """The people with a label, the likeliest first for `likely`, the least likely first otherwise."""
    order = "DESC" if label == "likely" else "ASC"
    return [
        dict(r) for r in conn.execute(
            "SELECT visitor_id, probability, label FROM outcome_scores WHERE site_id = ? AND label = ?"
            f" ORDER BY probability {order}, visitor_id LIMIT ?",
            (site_id, label, limit),
        )
    ]


def open_sessions(conn: sqlite3.Connection, site_id: str, since: int, limit: int) -> list[dict[str, Any]]:
    """Sessions active since `since` (still open), with their person's probability and label."""
    return [
        dict(r) for r in conn.execute(
            "SELECT s.id AS session_id, s.visitor_id, s.last_ts, o.probability, o.label FROM sessions s"
            " JOIN outcome_scores o ON o.site_id = s.site_id AND o.visitor_id = s.visitor_id"
            f" WHERE s.site_id = ? AND s.last_ts >= ? AND {human_sql('s')}"
            " ORDER BY o.probability DESC, s.id LIMIT ?",
            (site_id, since, limit),
        )
    ]


def counts(conn: sqlite3.Connection, site_id: str) -> dict[str, int]:
    rows = conn.execute("SELECT label, COUNT(*) FROM outcome_scores WHERE site_id = ? GROUP BY label", (site_id,))
    return {label: n for label, n in rows}
