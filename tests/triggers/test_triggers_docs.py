"""docs/triggers.md's verification examples, run against a real delivery's headers and body."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid

import httpx
import pytest

from tests.support import ROOT
from tests.support.collector import KEY
from tests.support.receiver import Receiver, wait_for
from tests.support.triggers import CHROME, Hooked

DOC = (ROOT / "docs" / "triggers.md").read_text()


def _example(language: str) -> str:
    (code,) = re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)
    return code


@pytest.fixture
def delivered(hooked: Hooked) -> tuple[str, dict[str, str], bytes]:  # noqa: F811
    with Receiver() as receiver:
        rule = hooked.rule(name="Docs", url=receiver.url, kind="event", event={"type": "track", "name": "docs"})
        event = {"id": str(uuid.uuid4()), "type": "track", "name": "docs", "ts": int(time.time() * 1000),
                 "session_id": "s", "anon_id": "a"}
        answer = httpx.post(f"{hooked.url}/v1/batch", json={"key": KEY, "events": [event]},
                            headers={"User-Agent": CHROME})
        assert answer.json()["accepted"] == 1
        (got,) = wait_for(lambda: receiver.answered(), "the delivery")
        return rule["secret"], got.headers, got.body


def test_python_example_verifies_a_real_delivery(delivered: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = delivered
    scope: dict[str, object] = {}
    exec(_example("python"), scope)  # noqa: S102 - the documented code, as a reader would paste it
    verify = scope["verify_trailmark"]
    assert verify(secret, headers["trailmark-signature"], body) is True  # type: ignore[operator]
    assert verify("whsec_wrong", headers["trailmark-signature"], body) is False  # type: ignore[operator]
    assert verify(secret, headers["trailmark-signature"], body.replace(b"docs", b"DOCS")) is False  # type: ignore[operator]
    assert verify(secret, "t=1,v1=" + headers["trailmark-signature"].split("v1=")[1], body) is False  # type: ignore[operator]


def test_javascript_example_verifies_a_real_delivery(delivered: tuple[str, dict[str, str], bytes]) -> None:
    secret, headers, body = delivered
    script = _example("javascript") + """
const [secret, header, body] = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const raw = Buffer.from(body, "utf8");
console.log(JSON.stringify([verifyTrailmark(secret, header, raw), verifyTrailmark("whsec_wrong", header, raw),
  verifyTrailmark(secret, header, Buffer.concat([raw, Buffer.from(" ")]))]));
"""
    run = subprocess.run(["node", "-e", script], input=json.dumps([secret, headers["trailmark-signature"],
                         body.decode()]), capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == [True, False, False]
