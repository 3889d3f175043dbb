from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from collector.enrich import Salts, utc_day, visitor_hash

SALT = bytes(range(32))
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "salts.db")
    # The lead's migrations own this table; the test makes its own.
    conn.execute("CREATE TABLE salts (day TEXT PRIMARY KEY, salt BLOB)")
    return conn


def test_visitor_hash_is_keyed_and_separates_every_input() -> None:
    base = visitor_hash(SALT, "site1", "81.2.69.142", UA)
    assert len(base) == 32
    assert int(base, 16) >= 0
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


def test_salt_is_created_once_per_day_and_shared(conn: sqlite3.Connection) -> None:
    salts = Salts(conn)
    first = salts.salt_for("2025-11-23")
    assert len(first) == 32
    assert salts.salt_for("2025-11-23") == first
    # Another process (another Salts on the same file) agrees on the day's salt.
    assert Salts(conn).salt_for("2025-11-23") == first
    assert salts.salt_for("2025-11-24") != first
    assert conn.execute("SELECT count(*) FROM salts").fetchone() == (2,)


def test_salts_older_than_two_days_are_deleted(conn: sqlite3.Connection) -> None:
    salts = Salts(conn)
    for day in ("2025-11-20", "2025-11-21", "2025-11-22"):
        Salts(conn).salt_for(day)
    yesterday = conn.execute("SELECT salt FROM salts WHERE day = '2025-11-22'").fetchone()[0]
    salts.salt_for("2025-11-23")
    rows = conn.execute("SELECT day, salt FROM salts ORDER BY day").fetchall()
    assert [day for day, _ in rows] == ["2025-11-22", "2025-11-23"]
    assert rows[0][1] == yesterday
