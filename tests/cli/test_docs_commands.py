"""The docs name only flags and settings that exist: every `trailmark CMD --flag` and TRAILMARK_* they show."""

from __future__ import annotations

import re

import click
import pytest

from collector.cli import main
from tests.support import ROOT

DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# Flags of other programs the docs mention on their own, with the program the same line must name.
OTHER_TOOLS = {"--preload": "gunicorn", "--quick": "bench/", "--prefix": "npm"}

# The words are in a lookahead so that `docker exec trailmark trailmark sites add` finds both.
_INVOCATION = re.compile(r"(?:^|[\s/`(])trailmark(?=((?:\s+[a-z][a-z-]*)+))")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _lines(text: str) -> list[str]:
    """Doc lines with shell continuations (`\\` at the end) joined."""
    return text.replace("\\\n", " ").splitlines()


def _command(words: list[str]) -> tuple[click.Command, str]:
    """The click command the words name, going down groups as far as the words match."""
    command: click.Command = main
    path = ["trailmark"]
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return command, " ".join(path)


def _flags(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} | {"--help"}


def documented_invocations() -> list[tuple[str, int, str, str]]:
    """(file, line, command path, flag) for every flag written after a `trailmark` command."""
    found = []
    for doc in DOCS:
        for number, line in enumerate(_lines(doc.read_text()), 1):
            for match in _INVOCATION.finditer(line):
                words = match.group(1).split()
                if words[0] not in main.commands:
                    continue  # `docker exec trailmark trailmark ...`: a container's name, or prose
                command, path = _command(words)
                # The invocation ends at a comment, the end of a code span or the next command.
                rest = re.split(r"\s#|`|&&|;|\|", line[match.start(1):], maxsplit=1)[0]
                for flag in _FLAG.findall(rest):
                    found.append((doc.name, number, path, flag))
                    assert isinstance(command, click.Command)
    return found


INVOCATIONS = documented_invocations()


def test_the_docs_show_commands_with_flags() -> None:
    # The parser finds what is there (a parser that finds nothing would pass everything).
    paths = {(path, flag) for _, _, path, flag in INVOCATIONS}
    assert {("trailmark serve", "--db"), ("trailmark serve", "--geoip"), ("trailmark sites add", "--origin"),
            ("trailmark demo seed", "--visitors"), ("trailmark purge", "--older-than"),
            ("trailmark sites set", "--goal"), ("trailmark sites set", "--currency")} <= paths


@pytest.mark.parametrize(("doc", "line", "path", "flag"), INVOCATIONS)
def test_every_documented_flag_exists(doc: str, line: int, path: str, flag: str) -> None:
    command, _ = _command(path.split()[1:])
    assert flag in _flags(command), f"{doc}:{line}: `{path}` has no {flag} (it has {sorted(_flags(command))})"


def test_flags_mentioned_alone_belong_to_a_trailmark_command_or_a_named_tool() -> None:
    every_flag: set[str] = set()
    stack: list[click.Command] = [main]
    while stack:
        command = stack.pop()
        every_flag |= _flags(command)
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())
    wrong = []
    for doc in DOCS:
        for number, line in enumerate(_lines(doc.read_text()), 1):
            for span in re.findall(r"`(--[a-z][a-z-]*)`", line):
                tool = OTHER_TOOLS.get(span)
                if span not in every_flag and (tool is None or tool not in line):
                    wrong.append(f"{doc.name}:{number}: {span}")
    assert wrong == []


def test_every_documented_setting_is_read_and_every_setting_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "collector").rglob("*.py"))
    read = set(re.findall(r"\"(TRAILMARK_[A-Z_]+)\"", source))
    compose_own = set(re.findall(r"\$\{(TRAILMARK_[A-Z_]+)", (ROOT / "deploy/compose.yaml").read_text()))
    assert compose_own == {"TRAILMARK_DOMAIN"}
    documented = {name for doc in DOCS for name in re.findall(r"TRAILMARK_[A-Z_]+[A-Z]", doc.read_text())}
    assert documented - read - compose_own == set()
    table = (ROOT / "docs/deployment.md").read_text()
    assert {name for name in read if f"`{name}`" not in table} == set()
