"""The concepts of collector/query/definitions.py against docs/metrics.md, and a guard that no
module defines one of them a second time (tests/api/test_definitions_answers.py checks each
engine's SQL spelling and the answers on every engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collector.query import definitions as d
from collector.store.sqlite.migrations import RENAMED, migrate, migrations
from tests.support.collector import make_store
from tests.support.definitions import BOUNCES, CARTS, DAYS, DEVICES, YES_NO

COLLECTOR = Path(__file__).resolve().parents[2] / "collector"



@pytest.mark.parametrize(("pageviews", "viewed", "bounced"), BOUNCES)
def test_bounce(pageviews: int, viewed: bool, bounced: bool) -> None:
    assert (d.viewed(pageviews), d.bounced(pageviews)) == (viewed, bounced)


@pytest.mark.parametrize(("cart_adds", "purchases", "carted", "abandoned"), CARTS)
def test_abandoned_cart(cart_adds: int, purchases: int, carted: bool, abandoned: bool) -> None:
    assert (d.carted(cart_adds), d.abandoned(cart_adds, purchases)) == (carted, abandoned)


@pytest.mark.parametrize(("vw", "bucket"), DEVICES)
def test_device_bucket(vw: float | None, bucket: str) -> None:
    assert d.device_bucket(vw) == bucket


@pytest.mark.parametrize(("ts", "day"), DAYS)
def test_day(ts: int, day: int) -> None:
    assert d.day_of(ts) == day


def test_human() -> None:
    assert (d.is_human(0), d.is_human(1), d.is_human(False), d.is_human(True)) == (True, False, True, False)


@pytest.mark.parametrize(("value", "answer"), YES_NO)
def test_yes_no(value: str, answer: bool | None) -> None:
    assert d.yes_no(value) is answer


@pytest.mark.parametrize(("anon", "user", "verified", "link", "expected"), [
    ("a1", None, False, None, ("a1", None)),  # nobody identified this browser: its anon id
    (None, None, False, None, ("anonymous", None)),  # a backend event with neither id
    ("a1", None, False, ("u1", False), ("u1", None)),  # identified earlier: the user, claimed
    ("a1", None, False, ("u1", True), ("u1", "u1")),  # ... vouched for by the backend
    ("a1", "u1", False, None, ("u1", None)),  # the event's own user id, claimed
    ("a1", "u1", True, None, ("u1", "u1")),  # ... sent with the secret key
    ("a1", "u2", False, ("u1", True), ("u1", "u1")),  # a claim against the backend's word loses
    ("a1", "u2", False, ("u1", False), ("u2", None)),  # a claim against a claim: the newer wins
    ("a1", "u1", False, ("u1", True), ("u1", "u1")),  # a claim the backend vouched for
])
def test_person(anon: str | None, user: str | None, verified: bool, link: tuple[str, bool] | None,
                expected: tuple[str, str | None]) -> None:
    assert d.person(anon, user, verified, link) == expected


# ---- no second definition ------------------------------------------------------------------

# Each concept's tell-tale spelling, and the only files allowed to hold it. The migrations and
# the ClickHouse schema are stored history (the DDL that already ran), so they keep their text;
# query/definitions.py is the home of every concept.
HISTORY = {"store/sqlite/migrations.py", "store/clickhouse/schema.py", "query/definitions.py"}
SCOPES = {"store/sqlite/reads/scope.py", "store/clickhouse/reads/scope.py"}
SPELLINGS = {
    "human": (r"is_bot\s*(=|!=|<>)\s*[01]\b|NOT\s+is_bot|is_bot\s*==", SCOPES),
    "bounce": (r"pageviews\s*(=|==)\s*1\b|pageviews\s*>\s*0", SCOPES),
    "abandoned cart": (r"cart_adds\s*>\s*0|purchases\s*(=|==)\s*0\b", SCOPES | {"query/definitions.py"}),
    "device bucket": (r"[<>]=?\s*(768|1024)\b(?!\s*px)", {"query/definitions.py"}),
    "day": (r"86_?400_?000|24\s*\*\s*HOUR_MS", {"query/days.py"}),
    "person": (r"vouched_link\s+not\s+in", {"query/definitions.py"}),
    "JSON codec": (r"msgspec\.json\.(encode|decode)\(|msgspec\.json\.(En|De)coder\(\)", {"wire.py"}),
    "transaction": (r"BEGIN IMMEDIATE|\"(COMMIT|ROLLBACK)\"", {"store/sqlite/connection.py"}),
    "yes/no": (r"[\"']1[\"'],\s*[\"']true[\"']", {"query/definitions.py"}),
}


@pytest.mark.parametrize("concept", SPELLINGS)
def test_one_definition(concept: str) -> None:
    pattern, allowed = SPELLINGS[concept]
    found = []
    for path in sorted(COLLECTOR.rglob("*.py")):
        name = path.relative_to(COLLECTOR).as_posix()
        if name in allowed or name in HISTORY:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0] if not line.lstrip().startswith(("\"", "'", "f\"")) else line
            if re.search(pattern, code):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == [], f"{concept} is defined again outside {sorted(allowed)}"


def test_the_guard_finds_a_second_definition(tmp_path: Path) -> None:
    """The patterns above match the spellings they stand for (else the guard could never fail)."""
    samples = {
        "human": "WHERE s.is_bot = 0", "bounce": "sum(s.pageviews = 1)", "abandoned cart": "s.cart_adds > 0",
        "device bucket": "vw < 768", "day": "ts // 86_400_000", "person": "if vouched_link not in (None, user_id):",
        "JSON codec": "msgspec.json.encode(x)", "transaction": 'conn.execute("BEGIN IMMEDIATE")',
        "yes/no": 'in ("1", "true")',
    }
    assert set(samples) == set(SPELLINGS)
    for concept, sample in samples.items():
        assert re.search(SPELLINGS[concept][0], sample), concept


# ---- migrations ----------------------------------------------------------------------------


def test_migrations_are_numbered_in_the_order_they_apply() -> None:
    names = [m.name for m in migrations._migrations]
    numbers = [int(re.match(r"m(\d{3})_", name).group(1)) for name in names]  # type: ignore[union-attr]
    assert numbers == sorted(set(numbers)), names
    assert names[:3] == ["m001_core", "m002_segments", "m003_query_indexes"]


def test_a_store_migrated_under_the_old_names_is_renamed_not_migrated_again(tmp_path: Path) -> None:
    from sqlite_utils import Database

    store = make_store(tmp_path / "old.db")
    store.close()
    db = Database(tmp_path / "old.db")
    for old, new in RENAMED.items():  # as a store migrated before the renumbering holds them
        db.execute("UPDATE _sqlite_migrations SET name = ? WHERE name = ?", [old, new])
    db.conn.commit()
    before = db.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0]
    migrate(db)  # m003 would fail if it ran again: its tables and triggers exist
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert len(names) == before == len(migrations._migrations)
    assert names == [m.name for m in migrations._migrations]
