"""What a real `trailmark serve` prints at start-up: the admin token once, then only where it is."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.collector import free_port

pytestmark = pytest.mark.slow

TRAILMARK = Path(sys.executable).parent / "trailmark"


def _start(db: Path, port: int, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Run `trailmark serve` until its banner is printed; returns the process and the banner."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRAILMARK_")}
    environ.update(env)
    process = subprocess.Popen(
        [TRAILMARK, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ,
    )
    assert process.stdout is not None
    banner: list[str] = []
    for line in process.stdout:  # ends early (and the asserts below fail) if serve exits
        banner.append(line.rstrip("\n"))
        if "snippet" in line:
            break
    return process, banner


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.communicate()  # drains and closes the pipe


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    while True:
        assert process.poll() is None, "trailmark serve exited"
        try:
            httpx.get(f"{url}/healthz")
            return
        except httpx.TransportError:
            continue


def test_the_generated_token_is_shown_once_and_kept_in_a_private_file(tmp_path: Path) -> None:
    db = tmp_path / "trailmark.db"
    port = free_port()
    token_file = tmp_path / "trailmark.db.admin-token"

    process, first = _start(db, port)
    try:
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert len(token) == 32
        assert f"  admin token : {token}  (new: shown this once; also in {token_file}, mode 0600)" in first
        _wait_until_up(process, f"http://127.0.0.1:{port}")
        signed_in = httpx.get(f"http://127.0.0.1:{port}/api/sites", headers={"Authorization": f"Bearer {token}"})
        assert signed_in.status_code == 200
    finally:
        _stop(process)

    token_file.chmod(0o644)  # an operator loosened it: the file is left as it is, only read
    process, second = _start(db, port)
    _stop(process)
    assert f"  admin token : in {token_file} (not printed; set TRAILMARK_ADMIN_TOKEN to choose one)" in second
    assert not any(token in line for line in second)
    assert token_file.read_text().strip() == token

    token_file.unlink()  # lost: written again from the database, private again
    process, third = _start(db, port)
    _stop(process)
    assert not any(token in line for line in third)
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_token_from_the_environment_is_never_printed_nor_written(tmp_path: Path) -> None:
    db = tmp_path / "trailmark.db"
    process, banner = _start(db, free_port(), TRAILMARK_ADMIN_TOKEN="env-token-1234567890ab")
    _stop(process)
    assert "  admin token : from TRAILMARK_ADMIN_TOKEN" in banner
    assert not any("env-token-1234567890ab" in line for line in banner)
    assert not (tmp_path / "trailmark.db.admin-token").exists()


def test_the_banner_says_which_proxies_are_trusted(tmp_path: Path) -> None:
    process, banner = _start(tmp_path / "a.db", free_port())
    _stop(process)
    assert ("  proxies     : none trusted: X-Forwarded-For is ignored"
            " (behind a reverse proxy set TRAILMARK_TRUSTED_PROXIES)") in banner
    process, banner = _start(tmp_path / "b.db", free_port(), TRAILMARK_TRUSTED_PROXIES="127.0.0.1, 172.16.0.0/12")
    _stop(process)
    assert "  proxies     : X-Forwarded-For believed from 127.0.0.1, 172.16.0.0/12" in banner
