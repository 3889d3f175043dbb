"""The Dockerfile cannot be built here: check that what it names exists and what it runs works."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from collector.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_copies_paths_that_exist() -> None:
    sources = [
        src
        for line in DOCKERFILE.splitlines()
        if line.startswith("COPY") and "--from" not in line
        for src in line.split()[1:-1]
    ]
    assert sources == ["sdk_js/package.json", "sdk_js/package-lock.json", "sdk_js/", "pyproject.toml",
                       "README.md", "collector/"]
    for src in sources:
        assert (ROOT / src).exists(), src


def test_dockerfile_build_stage_runs_scripts_that_exist() -> None:
    scripts = json.loads((ROOT / "sdk_js/package.json").read_text())["scripts"]
    assert "npm run build" in DOCKERFILE and "build" in scripts
    assert "npm ci" in DOCKERFILE and (ROOT / "sdk_js/package-lock.json").exists()
    # The bundle stage builds into the folders the runtime stage copies from.
    build = (ROOT / "sdk_js/build.mjs").read_text()
    assert '"collector", "static"' in build and '"collector", "ui", "static", "vendor"' in build


def test_dockerfile_is_multi_stage_non_root_with_volume_and_healthcheck() -> None:
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) == ["node:20-slim", "python:3.11-slim"]
    assert "USER trailmark" in DOCKERFILE
    assert 'VOLUME ["/data"]' in DOCKERFILE
    assert "/healthz" in DOCKERFILE
    cmd = json.loads(re.search(r"^CMD (.+)$", DOCKERFILE, re.M).group(1))  # type: ignore[union-attr]
    assert cmd == ["trailmark", "serve", "--host", "0.0.0.0", "--port", "8000"]


def test_the_command_the_image_runs_accepts_its_flags() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for flag in ("--host", "--port", "--db", "--geoip", "--demo"):
        assert flag in result.output


def test_trailmark_entry_point_is_installed() -> None:
    result = subprocess.run([Path(sys.executable).parent / "trailmark", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "serve" in result.stdout and "sites" in result.stdout


COMPOSE = ROOT / "deploy" / "compose.yaml"


def test_compose_file_parses_and_names_paths_that_exist() -> None:
    import yaml

    compose = yaml.safe_load(COMPOSE.read_text())
    collector, caddy = compose["services"]["collector"], compose["services"]["caddy"]
    context = (COMPOSE.parent / collector["build"]["context"]).resolve()
    assert context == ROOT and (context / collector["build"]["dockerfile"]).read_text() == DOCKERFILE
    mounts = [v.split(":") for v in caddy["volumes"] if v.startswith("./")]
    assert mounts == [["./Caddyfile", "/etc/caddy/Caddyfile", "ro"]]
    assert (COMPOSE.parent / "Caddyfile").is_file()
    # The collector is reached only through Caddy, on the port the image serves.
    assert "ports" not in collector
    assert "EXPOSE 8000" in DOCKERFILE
    assert "reverse_proxy collector:8000" in (COMPOSE.parent / "Caddyfile").read_text()
    assert sorted(caddy["ports"]) == ["443:443", "443:443/udp", "80:80"]
    # Caddy's network is the one the collector trusts, so visitors keep their own addresses.
    (subnet,) = [c["subnet"] for c in compose["networks"]["proxy"]["ipam"]["config"]]
    assert collector["environment"]["TRAILMARK_TRUSTED_PROXIES"] == subnet
    assert collector["environment"]["TRAILMARK_DB"] == "/data/trailmark.db"
    assert [v.split(":")[1] for v in collector["volumes"]] == ["/data"]
    assert set(compose["volumes"]) == {"trailmark-data", "caddy-data", "caddy-config"}


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert {".git", ".venv", "**/node_modules", "*.db", "collector/static"} <= set(ignored)
    copied = ("sdk_js/package.json", "sdk_js/package-lock.json", "sdk_js", "pyproject.toml", "README.md", "collector")
    for src in copied:
        assert src not in ignored and (ROOT / src).exists()


def test_no_file_holds_a_merge_conflict_marker() -> None:
    """A marker left by a merge in a doc or a test file breaks nothing that runs, so look for it."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    marked = []
    for name in tracked.split():
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".ts", ".js", ".css", ".html", ".toml", ".yaml", ".yml"}:
            continue
        lines = path.read_text(errors="replace").splitlines()
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            marked.append(name)
    assert marked == []


def test_tests_import_helpers_from_support_never_from_other_tests_or_bench() -> None:
    """Shared helpers live in tests/support/: a test importing another test module (or a benchmark)
    would run that module's tests' setup in its own and tie two test files together."""
    bad = []
    for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "e2e").rglob("*.py")]):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"\s*(from|import) (bench\b|tests(\.\w+)*\.test_\w+|tests\.conftest\b)", line):
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bad == []


def test_the_tests_mirror_the_collector() -> None:
    """A test folder per part of the collector, named as the part is."""
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    parts = {p.name for p in (ROOT / "collector").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= folders, sorted(parts - folders)
    assert list((ROOT / "tests").glob("test_*.py")) == [ROOT / "tests" / "test_packaging.py"]
