"""SIGKILL a real `trailmark serve` three times under SDK and raw-client load: nothing acked is lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import crash

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("on_chdb", [False, True], ids=["sqlite", "chdb"])
def test_repeated_sigkill_loses_and_duplicates_nothing(tmp_path: Path, on_chdb: bool) -> None:
    result = crash.run(tmp_path / "crash.db", kills=3, interval=1.0, clients=3, batch=10, sdk_rate=300, chdb=on_chdb)
    # Every kill cut requests off (the clients saw it) and traffic went on after each restart.
    assert sum(result["raw_errors"].values()) >= 3, result
    assert result["raw_acked"] > 0 and result["sdk_sent"] > 0
    assert result["raw_acked_not_exactly_once"] == 0, result
    assert result["sdk_not_exactly_once"] == 0, result
    assert (result["sdk_delivered"], result["sdk_failed"], result["sdk_dropped"]) == (result["sdk_sent"], 0, 0)
    assert result["duplicates"] == 0 and result["unknown_stored"] == 0
    # Raw clients retry every batch until acknowledged, so what is stored is exactly what was acknowledged,
    # plus at most the batches in flight when the clients stopped.
    acked = result["raw_acked"] + result["sdk_sent"]
    assert acked <= result["stored"] <= acked + 3 * 10
    assert result["integrity"] == "ok"
    assert result["short_sessions"] == 0  # every stored event counts in its session, killed groups' too
