"""The likely-outcome model on every engine: the same data gives the same report, scores, counts and
open sessions to the last digit; kept scores answer the predictions API and the outcome filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.api.outcome import retrain
from collector.query.outcome import Score
from collector.query.scope import Goal
from tests.support.collector import ENGINES, Client, every_store, open_engine
from tests.support.outcome_traffic import DAY_MS, Traffic, planted, today_start

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


@every_store
def test_kept_scores_answer_the_predictions_api_and_the_outcome_filter(client: Client) -> None:
    traffic = Traffic()
    start = NOW - 2 * DAY_MS
    for n, visitor in enumerate(("v1", "v1", "v2", "v3")):
        traffic.session(visitor, f"{visitor}-{n}", start + n * 3_600_000, "organic", "desktop", ["/"])
    traffic.write(client.store)
    report = {"status": "ready", "reason": "kept as given", "trained_at": NOW}
    client.store.save_outcome("test", report, [
        Score("v1", 0.9, "likely"), Score("v2", 0.125, "at_risk"), Score("v3", 0.25, "unlikely"),
        Score("v4", 0.75, "likely"),  # no session in the range
    ])

    def sessions(label: str) -> list[str]:
        answer = client.http.get(f"/api/sessions?site=test&from={start}&to={NOW}&outcome={label}",
                                 headers=client.admin)
        assert answer.status_code == 200, answer.text
        return sorted(s["id"] for s in answer.json()["sessions"])

    assert (sessions("likely"), sessions("at_risk")) == (["v1-0", "v1-1"], ["v2-2"])
    answer = client.http.get("/api/predictions?site=test", headers=client.admin).json()
    assert (answer["status"], answer["counts"]) == ("ready", {"likely": 2, "at_risk": 1, "unlikely": 1})
    assert answer["likely"] == [{"visitor_id": "v1", "probability": 0.9, "label": "likely"},
                                {"visitor_id": "v4", "probability": 0.75, "label": "likely"}]
    assert answer["at_risk"] == [{"visitor_id": "v2", "probability": 0.125, "label": "at_risk"}]
    assert client.store.outcome_open_sessions("test", start + 2 * 3_600_000, 10) == [
        {"session_id": "v3-3", "visitor_id": "v3", "last_ts": start + 3 * 3_600_000, "probability": 0.25,
         "label": "unlikely"},
        {"session_id": "v2-2", "visitor_id": "v2", "last_ts": start + 2 * 3_600_000, "probability": 0.125,
         "label": "at_risk"},
    ]
    # A new training replaces the old scores whole: none of them lingers.
    client.store.save_outcome("test", {**report, "trained_at": NOW + 1}, [Score("v2", 0.5, "likely")])
    assert (sessions("likely"), sessions("at_risk")) == (["v2-2"], [])
    assert client.store.outcome_counts("test") == {"likely": 1}
    assert client.store.outcome_report("test") == {**report, "trained_at": NOW + 1}
