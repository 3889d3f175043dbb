"""`trailmark experiments add/list/remove/results` on a real store of every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from collector.cli import main
from tests.support.collector import every_store, open_engine

pytestmark = every_store


@pytest.fixture
def store_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a store with the test site and a saved goal (id 1), closed again for the CLI."""
    store = open_engine(engine, tmp_path, request)
    store.create_goal("test", "Pro signups", {"kind": "custom", "value": "signup",
                                              "property": {"key": "plan", "value": "pro"}}, 50)
    store.close()
    return f"sqlite:///{tmp_path / 'trailmark.db'}" if engine == "sqlite" else str(store.url)  # type: ignore[attr-defined]


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--store", url])
    return result.exit_code, result.output


def test_add_list_results_remove(store_url: str) -> None:
    db = store_url
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


def test_bad_input_is_a_usage_error(store_url: str) -> None:
    db = store_url
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "only")
    assert code == 2 and "Expected `array` of length >= 2 - at `$.variants`" in out
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "a:x", "--variant", "b")
    assert code == 2 and "'a:x': a variant is NAME or NAME:WEIGHT" in out
    code, out = run(db, "experiments", "add", "nosite", "cta", "--variant", "a", "--variant", "b")
    assert code == 2 and "no site 'nosite' (see `trailmark sites list`)" in out
    code, out = run(db, "experiments", "remove", "test", "nope")
    assert code == 2 and "no experiment 'nope' on test" in out
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "a", "--variant", "b", "--goal-id", "9")
    assert code == 2 and "no goal 9 for this site (see /api/goals)" in out
    code, out = run(db, "experiments", "add", "test", "cta", "--variant", "a", "--variant", "b", "--goal", "signup",
                    "--goal-id", "1")
    assert code == 2 and "give --goal or --goal-id, not both" in out
    assert run(db, "experiments", "list", "test") == (0, "")


def test_a_saved_goal_by_its_id(store_url: str) -> None:
    code, out = run(store_url, "experiments", "add", "test", "cta", "--variant", "a", "--variant", "b",
                    "--goal-id", "1")
    assert code == 0, out
    created = json.loads(out)
    assert (created["goal"], created["saved_goal"]) == (1, {
        "id": 1, "name": "Pro signups", "kind": "custom", "value": "signup",
        "property": {"key": "plan", "value": "pro"},
    })
    assert run(store_url, "experiments", "list", "test") == (0, "cta\tcta\ta:1, b:1\tgoal 1 (Pro signups)\n")
    code, out = run(store_url, "experiments", "results", "test", "cta")
    assert code == 0, out
    assert [(v["name"], v["visitors"]) for v in json.loads(out)["variants"]] == [("a", 0), ("b", 0)]
