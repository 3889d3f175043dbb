"""A ClickHouse store made before the events were ordered by type (schema.EVENTS_ORDER) and kept
their paths dictionary-coded: an embedded store's events are copied into the new order when a
newer version starts on it, once, with nothing lost or doubled (a copy cut short included), and
every question answers as before. A server store, which other collectors write, is left in the
order it has and answers the same."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from collector.store.clickhouse import ClickHouseStore
from collector.store.clickhouse.schema import EVENTS_ORDER, Layout, resort_events
from collector.store.clickhouse.transaction import Db
from tests.support.analytics_journeys import NEXT_DATE, PREVIOUS_DATE, build
from tests.support.collector import ADMIN_TOKEN, Client

pytestmark = pytest.mark.parametrize("engine", ["chdb"], indirect=True)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RANGE = f"site=test&from={PREVIOUS_DATE}&to={NEXT_DATE}"
# The questions that read events (each type, a session's, a person's), and the funnel.
ASKED = [
    f"/api/overview?{RANGE}", f"/api/sessions?{RANGE}&page=/product/:id", "/api/sessions/s1?site=test",
    "/api/persons/u1?site=test", f"/api/paths?{RANGE}&from_url=/", f"/api/heatmap/pages?{RANGE}",
    f"/api/heatmap?{RANGE}&url=/product/:id&kind=click", f"/api/heatmap?{RANGE}&url=/product/*&kind=scroll",
    f"/api/commerce?{RANGE}", f"/api/surveys?{RANGE}", f"/api/events?{RANGE}", f"/api/journey-map?{RANGE}",
]
FUNNEL = {"site": "test", "from": PREVIOUS_DATE, "to": NEXT_DATE, "window_s": 3600,
          "steps": [{"type": "pageview", "url": "/"}, {"type": "cart"}, {"type": "purchase"}]}
OLDER_ORDER = "site_id, day, session_id, ts, seq"


def _answers(client: Client) -> dict[str, Any]:
    found = {path: client.http.get(path, headers=ADMIN).json() for path in ASKED}
    found["funnel"] = client.http.post("/api/funnel", json=FUNNEL, headers=ADMIN).json()
    return found


def _as_made_before(db: Db) -> None:
    """The events table as an older version made it: the session before the type, paths as strings."""
    (ddl,), = db.rows(f"SHOW CREATE TABLE {db.t('events')}")
    older = ddl.replace(f"ORDER BY {EVENTS_ORDER}", f"ORDER BY ({OLDER_ORDER})")
    for column in ("path", "route"):
        older = older.replace(f"`{column}` LowCardinality(Nullable(String))", f"`{column}` Nullable(String)")
    assert older.count("LowCardinality(Nullable(String))") == ddl.count("LowCardinality(Nullable(String))") - 2
    db.conn.command(f"RENAME TABLE {db.t('events')} TO {db.t('events_newer')}")
    db.conn.command(older)
    db.conn.command(f"INSERT INTO {db.t('events')} SELECT * FROM {db.t('events_newer')}")
    db.conn.command(f"DROP TABLE {db.t('events_newer')} SYNC")


def _order(db: Db) -> list[tuple[Any, ...]]:
    return db.rows(f"SELECT sorting_key FROM system.tables WHERE database = '{db.layout.database}'"
                   " AND name LIKE 'events%' ORDER BY name")


def _table_id(db: Db) -> str:
    """The events table's own id, which a copy into a new table (and EXCHANGE TABLES) changes."""
    ((uuid,),) = db.rows(f"SELECT uuid FROM system.tables WHERE database = '{db.layout.database}' AND name = 'events'")
    return str(uuid)


def _stored(db: Db) -> list[tuple[Any, ...]]:
    return db.rows(f"SELECT *, m_x, m_depth, m_rage, m_data FROM {db.t('events')} ORDER BY site_id, id")


def test_an_embedded_store_made_before_puts_its_events_in_the_new_order(client: Client) -> None:
    build(client)
    before = _answers(client)
    assert before["funnel"]["steps"][0]["visitors"] > 0 and before[f"/api/paths?{RANGE}&from_url=/"]["next_links"]
    store = client.store
    assert isinstance(store, ClickHouseStore)
    db = store.db
    stored = _stored(db)
    _as_made_before(db)
    assert _order(db) == [(OLDER_ORDER,)]
    # a copy cut short by a kill: the spare table holds part of the events
    spare = db.t("events_resorting")
    db.conn.command(f"CREATE TABLE {spare} AS {db.t('events')}")
    db.conn.command(f"INSERT INTO {spare} SELECT * FROM {db.t('events')} LIMIT 3")
    ClickHouseStore(store.url).close()  # a newer version starts on the same store
    assert _order(db) == [(EVENTS_ORDER.strip("()"),)]  # and the spare table is gone
    assert db.rows(f"SELECT name, type FROM system.columns WHERE database = '{db.layout.database}'"
                   " AND table = 'events' AND name IN ('path', 'route') ORDER BY name") == [
        ("path", "LowCardinality(Nullable(String))"), ("route", "LowCardinality(Nullable(String))")]
    assert _stored(db) == stored  # every event once, the materialized fields computed again alike
    assert _answers(client) == before
    table = _table_id(db)
    ClickHouseStore(store.url).close()  # and the next start copies nothing: the same table
    assert _table_id(db) == table
    assert _stored(db) == stored


class _Server:
    """The embedded connection as a server's looks to the store: shared with other processes (no
    state of its own), so nothing may be copied while they write."""

    state = None

    def __init__(self, db: Db) -> None:
        self.command, self.rows = db.conn.command, db.conn.rows


def test_a_server_store_made_before_keeps_its_order_and_answers_alike(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    build(client)
    before = _answers(client)
    store = client.store
    assert isinstance(store, ClickHouseStore)
    db = store.db
    _as_made_before(db)
    with caplog.at_level(logging.WARNING, logger="trailmark.store"):
        resort_events(_Server(db), Layout(db.layout.database))  # type: ignore[arg-type]
    assert _order(db) == [(OLDER_ORDER,)]
    assert "older order" in caplog.text
    assert _answers(client) == before
