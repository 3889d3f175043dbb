"""The likely-outcome model on every engine: the same data gives the same report, scores, counts and
open sessions to the last digit."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.outcome_api import retrain
from collector.query.scope import Goal
from tests.conftest import ENGINES, open_engine
from tests.outcome_traffic import DAY_MS, planted, today_start

NOW = today_start()


def test_the_same_data_gives_the_same_model_and_scores_on_every_engine(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    traffic = planted(NOW)
    answers = []
    for engine in ENGINES:
        store = open_engine(engine, tmp_path, request)
        try:
            traffic.write(store)
            report = retrain(store, "test", Goal(), now=NOW)
            answers.append({
                "report": report,
                "kept": store.outcome_report("test"),
                "scores": {label: store.outcome_scores("test", label, 1_000_000)
                           for label in ("likely", "at_risk", "unlikely")},
                "counts": store.outcome_counts("test"),
                "open": store.outcome_open_sessions("test", NOW - 3 * DAY_MS, 500),
            })
        finally:
            store.close()
    sqlite, *others = answers
    assert sqlite["report"]["status"] == "ready" and sqlite["kept"] == sqlite["report"]
    assert sum(sqlite["counts"].values()) == sum(len(found) for found in sqlite["scores"].values()) > 500
    assert sqlite["open"], "no session in the last 3 days: the comparison would prove nothing"
    for other in others:
        assert other == sqlite
