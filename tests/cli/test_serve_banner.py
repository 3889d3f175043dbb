"""What a real `trailmark serve` prints at start-up: a single-use sign-in link until the owner has a
password, and where the admin token is kept (never the token itself)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from collector.cli.serve import token_file
from collector.store import SQLiteStore
from tests.support.collector import free_port

pytestmark = pytest.mark.slow

TRAILMARK = Path(sys.executable).parent / "trailmark"


def _start(db: Path | str, port: int, **env: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Run `trailmark serve` until its banner is printed; returns the process and the banner.
    `db` is a SQLite file, or a store URL (run in the URL's directory, where its token file goes)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRAILMARK_")}
    environ.update(env)
    where = ["--db", str(db)] if isinstance(db, Path) else ["--store", db]
    process = subprocess.Popen(
        [TRAILMARK, "serve", *where, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ,
        cwd=None if isinstance(db, Path) else db.split("://", 1)[1].rsplit("/", 1)[0],
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


def _sign_in_link(banner: list[str]) -> str | None:
    lines = [line for line in banner if line.startswith("  sign in     : ")]
    return lines[0].split(": ", 1)[1].split(" ", 1)[0] if lines else None


def test_the_first_run_prints_a_single_use_sign_in_link_and_never_the_token(tmp_path: Path) -> None:
    db = tmp_path / "trailmark.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token_file = tmp_path / "trailmark.db.admin-token"

    process, first = _start(db, port)
    try:
        token = token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert len(token) == 32
        assert not any(token in line for line in first)
        assert f"  admin token : in {token_file} (an owner key for automation; not printed;" \
            " set TRAILMARK_ADMIN_TOKEN to choose one)" in first
        link = _sign_in_link(first)
        assert link is not None and link.startswith(f"{url}/invite/")
        assert "choose a password for owner@localhost, the owner of every site" in "\n".join(first)
        _wait_until_up(process, url)
        assert httpx.get(f"{url}/api/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        invite = link.rsplit("/", 1)[1]
        assert "owner@localhost" in httpx.get(link).text
        chosen = httpx.post(f"{url}/invite", data={"invite": invite, "password": "a long passphrase"},
                            headers={"Origin": url})
        assert chosen.status_code == 303 and chosen.headers["location"] == "/overview"
        cookies = {"tm_session": chosen.cookies["tm_session"]}
        assert httpx.get(f"{url}/api/sites", cookies=cookies).status_code == 200
        again = httpx.post(f"{url}/invite", data={"invite": invite, "password": "another passphrase"},
                           headers={"Origin": url})
        assert again.status_code == 404  # single use
        signed_in = httpx.post(f"{url}/login", data={"email": "owner@localhost", "password": "a long passphrase"},
                               headers={"Origin": url})
        assert signed_in.status_code == 303
    finally:
        _stop(process)

    token_file.chmod(0o644)  # an operator loosened it: the file is left as it is, only read
    process, second = _start(db, port)
    _stop(process)
    assert _sign_in_link(second) is None  # a password is set: no link any more
    assert not any(token in line for line in second)
    assert token_file.read_text().strip() == token

    token_file.unlink()  # lost: written again from the database, private again
    process, third = _start(db, port)
    _stop(process)
    assert not any(token in line for line in third)
    assert token_file.read_text().strip() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_an_upgraded_installation_keeps_its_token_and_a_restart_voids_the_unused_link(tmp_path: Path) -> None:
    db = tmp_path / "trailmark.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # What an installation from before accounts holds: its token in the store, no account.
    store = SQLiteStore(db)
    assert store.meta("admin_token", "the-token-it-always-had-000") == "the-token-it-always-had-000"
    store.close()
    process, first = _start(db, port)
    _stop(process)
    old_link = _sign_in_link(first)
    process, second = _start(db, port)
    try:
        _wait_until_up(process, url)
        answer = httpx.get(f"{url}/api/sites", headers={"Authorization": "Bearer the-token-it-always-had-000"})
        assert answer.status_code == 200
        login = httpx.post(f"{url}/login", data={"token": "the-token-it-always-had-000"}, headers={"Origin": url})
        assert login.status_code == 303
        assert old_link is not None and _sign_in_link(second) not in (None, old_link)
        assert httpx.get(old_link).status_code == 404  # the newer link voided it
        assert httpx.get(str(_sign_in_link(second))).status_code == 200
    finally:
        _stop(process)


def test_the_first_owner_signs_in_on_a_clickhouse_store_too(tmp_path: Path) -> None:
    """Accounts live in the store on every engine: the first run of a chdb store prints the link,
    the owner chooses a password, and the next start knows them (no link)."""
    store = f"chdb://{tmp_path}/ch"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process, first = _start(store, port)
    try:
        link = _sign_in_link(first)
        assert link is not None and link.startswith(f"{url}/invite/")
        _wait_until_up(process, url)
        chosen = httpx.post(f"{url}/invite", data={"invite": link.rsplit("/", 1)[1], "password": "a long passphrase"},
                            headers={"Origin": url})
        assert chosen.status_code == 303 and chosen.headers["location"] == "/overview"
    finally:
        _stop(process)
    token = (tmp_path / "ch.admin-token").read_text().strip()  # beside the chdb directory
    assert f"  admin token : in {tmp_path / 'ch.admin-token'} (an owner key" in "\n".join(first)
    assert not (tmp_path / "trailmark.admin-token").exists()
    process, second = _start(store, port)
    try:
        assert _sign_in_link(second) is None
        _wait_until_up(process, url)
        signed_in = httpx.post(f"{url}/login", data={"email": "owner@localhost", "password": "a long passphrase"},
                               headers={"Origin": url})
        assert signed_in.status_code == 303
        me = httpx.get(f"{url}/api/me", cookies={"tm_session": signed_in.cookies["tm_session"]})
        assert me.json() == {"kind": "account", "name": "owner@localhost", "roles": {"*": "owner"}}
        assert httpx.get(f"{url}/api/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        _stop(process)


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


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///var/lib/tm/trailmark.db", "/var/lib/tm/trailmark.db.admin-token"),
    ("data/trailmark.db", "data/trailmark.db.admin-token"),
    ("chdb:///var/lib/tm/chdb", "/var/lib/tm/chdb.admin-token"),
    ("chdb://rel/dir/?cluster=x", "rel/dir.admin-token"),
    ("clickhouse://user:pw@db:8123/trailmark", "trailmark.admin-token"),
])
def test_the_token_file_lies_beside_the_store_it_belongs_to(url: str, expected: str) -> None:
    """Never in the directory the collector happens to run in when the store has a place of its own."""
    assert str(token_file(url)) == expected
