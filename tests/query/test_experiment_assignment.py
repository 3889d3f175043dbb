"""Experiment assignment: the Python SDK and the browser SDK give every visitor the same variant."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support import ROOT

SDK_PATH = str(ROOT / "sdk_python")
if SDK_PATH not in sys.path:
    sys.path.insert(0, SDK_PATH)

from trailmark import assign  # noqa: E402

ESBUILD = ROOT / "sdk_js" / "node_modules" / ".bin" / "esbuild"
# Reads the cases on stdin, answers the browser SDK's variant for each (src/experiment.ts as built).
RUNNER = """
const { assign, fnv1a } = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map(([key, id, variants, weights]) =>
    [fnv1a(key + ":" + id), assign(key, id, variants, weights || undefined)]);
  process.stdout.write(JSON.stringify(out));
});
"""


def cases() -> list[tuple[str, str, list[str], list[float] | None]]:
    """Ids of every shape the SDKs make or receive: UUIDs, user ids, non-ASCII, odd weights."""
    rng = random.Random(21)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(1500)]
    ids += [f"user_{n}" for n in range(300)] + ["", "é", "ß-straße", "用户-42", "🙂 smile", "a:b:c"]
    experiments = [
        ("checkout-cta", ["control", "green"], None),
        ("hero", ["control", "b", "c"], [1, 1, 1]),
        ("price", ["control", "low", "high"], [0.5, 0.25, 0.25]),
        ("ramp", ["control", "new"], [90, 10]),
        ("off-arm", ["control", "never", "rest"], [1, 0, 3]),
        ("thirds", ["a", "b", "c"], [0.1, 0.2, 0.3]),  # sums to 0.6000000000000001 in floating point
        ("ключ", ["x", "y"], None),
    ]
    return [(key, visitor, variants, weights) for visitor in ids for key, variants, weights in experiments]


@pytest.fixture(scope="module")
def browser_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ESBUILD.exists() or shutil.which("node") is None:
        pytest.fail("the browser SDK's tools are missing: run `make build`")
    out = tmp_path_factory.mktemp("js") / "experiment.cjs"
    subprocess.run(
        [str(ESBUILD), str(ROOT / "sdk_js" / "src" / "experiment.ts"), "--bundle", "--format=cjs",
         "--platform=node", f"--outfile={out}", "--log-level=warning"],
        check=True,
    )
    return out


def test_both_sdks_give_the_same_variant_for_every_id(browser_sdk: Path) -> None:
    table = cases()
    answer = subprocess.run(
        ["node", "-e", RUNNER, str(browser_sdk)], input=json.dumps(table), capture_output=True,
        text=True, check=True,
    )
    js = json.loads(answer.stdout)
    python = [[assign.fnv1a(f"{key}:{visitor}"), assign.assign(key, visitor, variants, weights)]
              for key, visitor, variants, weights in table]
    assert len(js) == len(python) == 1806 * 7
    mismatches = [(case, j, p) for case, j, p in zip(table, js, python, strict=True) if j != p]
    assert mismatches == []
    # the table exercises every arm: a weight of 0 is never chosen, the others all are
    chosen = Counter((case[0], p[1]) for case, p in zip(table, python, strict=True))
    arms = {(key, v) for key, _, variants, _ in table for v in variants}
    assert {arm for arm in arms if chosen[arm] == 0} == {("off-arm", "never")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0x811C9DC5), ("a", 0xE40C292C), ("foobar", 0xBF9CF968)],  # the published FNV-1a 32 vectors
)
def test_fnv1a_matches_the_reference_vectors(text: str, expected: int) -> None:
    assert assign.fnv1a(text) == expected


def test_the_split_follows_the_weights() -> None:
    rng = random.Random(5)
    counts = Counter(
        assign.assign("ramp", f"{rng.getrandbits(64):x}", ["control", "new"], [90, 10]) for _ in range(20_000)
    )
    # 20,000 draws of a 10 % arm: the standard deviation is 42, so 1,800..2,200 is ~5 sigma wide
    assert 1800 < counts["new"] < 2200
    assert counts["control"] + counts["new"] == 20_000


@pytest.mark.parametrize(
    ("variants", "weights", "message"),
    [
        ([], None, "variants must be a list"),
        ("ab", None, "variants must be a list"),
        (["a", "a"], None, "distinct"),
        (["a", ""], None, "non-empty"),
        (["a", "b"], [1], "one number per variant"),
        (["a", "b"], [1, -1], ">= 0"),
        (["a", "b"], [0, 0], "not all be 0"),
        (["a", "b"], [1, float("nan")], "finite"),
    ],
)
def test_bad_variants_raise_at_the_call(variants: object, weights: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assign.assign("k", "v", variants, weights)  # type: ignore[arg-type]


def test_recent_remembers_an_exposure_for_thirty_minutes() -> None:
    recent = assign.Recent(window=1800, size=2)
    assert recent.first("k:a", now=0) is True
    assert recent.first("k:a", now=1799) is False
    assert recent.first("k:a", now=1800) is True
    assert recent.first("k:b", now=1800) is True
    assert recent.first("k:c", now=1800) is True  # the oldest ("k:a") is forgotten: bounded memory
    assert recent.first("k:a", now=1801) is True
