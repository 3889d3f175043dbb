"""`trailmark experiments add/list/remove/results` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from collector.cli import main
from tests.support.collector import make_store


def run(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--db", str(db)])
    return result.exit_code, result.output


def test_add_list_results_remove(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    make_store(db).close()
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "control", "--variant", "green:3",
                    "--goal", "signup", "--metric", "revenue", "--name", "Checkout button")
    assert code == 0, out
    created = json.loads(out)
    assert (created["key"], created["name"], created["goal"], created["metrics"]) == (
        "cta", "Checkout button", "signup", ["revenue"])
    assert created["variants"] == [{"name": "control", "weight": 1.0}, {"name": "green", "weight": 3.0}]
    assert run(db, "experiments", "list", "test") == (0, "cta\tCheckout button\tcontrol:1, green:3\tsignup\n")
    code, out = run(db, "experiments", "results", "test", "cta")
    assert code == 0, out
    result = json.loads(out)
    assert [(v["name"], v["visitors"]) for v in result["variants"]] == [("control", 0), ("green", 0)]
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "a", "--variant", "b")
    assert code == 2 and "experiment 'cta' exists on test: remove it first to redefine it" in out
    assert run(db, "experiments", "remove", "test", "cta") == (0, "removed cta\n")
    assert run(db, "experiments", "list", "test") == (0, "")


def test_bad_input_is_a_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    make_store(db).close()
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "only")
    assert code == 2 and "Expected `array` of length >= 2 - at `$.variants`" in out
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "a:x", "--variant", "b")
    assert code == 2 and "'a:x': a variant is NAME or NAME:WEIGHT" in out
    code, out = run(db, "experiments", "add", "nosite", "cta", "--variant", "a", "--variant", "b")
    assert code == 2 and "no site 'nosite' (see `trailmark sites list`)" in out
    code, out = run(db, "experiments", "remove", "test", "nope")
    assert code == 2 and "no experiment 'nope' on test" in out
