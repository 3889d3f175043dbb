from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.enrich import Salts, utc_day, visitor_hash
from collector.store import SQLiteStore
from tests.support.collector import read_rows

SALT = bytes(range(32))
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "salts.db")
    yield store
    store.close()


def test_visitor_hash_is_keyed_and_separates_every_input() -> None:
    base = visitor_hash(SALT, "site1", "81.2.69.142", UA)
    assert re.fullmatch("[0-9a-f]{32}", base), base  # 128 bits as lower-case hex
    assert visitor_hash(SALT, "site1", "81.2.69.142", UA) == base
    others = {
        visitor_hash(bytes(32), "site1", "81.2.69.142", UA),
        visitor_hash(SALT, "site2", "81.2.69.142", UA),
        visitor_hash(SALT, "site1", "81.2.69.143", UA),
        visitor_hash(SALT, "site1", "81.2.69.142", UA + " "),
        # The separator keeps ("a", "bc") and ("ab", "c") apart.
        visitor_hash(SALT, "site1\x0081.2.69.142", "", UA),
    }
    assert len(others) == 5
    assert base not in others


def test_utc_day() -> None:
    assert utc_day(0) == "1970-01-01"
    assert utc_day(1_763_855_999_999) == "2025-11-22"
    assert utc_day(1_763_856_000_000) == "2025-11-23"


def test_salt_is_created_once_per_day_and_shared(store: SQLiteStore, tmp_path: Path) -> None:
    salts = Salts(store.salt)
    first = salts.salt_for("2025-11-23")
    assert len(first) == 32
    assert salts.salt_for("2025-11-23") == first
    # Another process (another store on the same file) agrees on the day's salt.
    other = SQLiteStore(tmp_path / "salts.db")
    try:
        assert Salts(other.salt).salt_for("2025-11-23") == first
    finally:
        other.close()
    assert salts.salt_for("2025-11-24") != first
    assert read_rows(tmp_path / "salts.db", "SELECT count(*) AS n FROM salts") == [{"n": 2}]


def test_salts_older_than_two_days_are_deleted(store: SQLiteStore, tmp_path: Path) -> None:
    salts = Salts(store.salt)
    for day in ("2025-11-20", "2025-11-21", "2025-11-22"):
        Salts(store.salt).salt_for(day)
    db = tmp_path / "salts.db"
    yesterday = read_rows(db, "SELECT salt FROM salts WHERE day = '2025-11-22'")[0]["salt"]
    salts.salt_for("2025-11-23")
    rows = read_rows(db, "SELECT day, salt FROM salts ORDER BY day")
    assert [r["day"] for r in rows] == ["2025-11-22", "2025-11-23"]
    assert rows[0]["salt"] == yesterday
