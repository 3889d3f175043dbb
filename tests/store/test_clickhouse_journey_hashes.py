"""The journey map on ClickHouse counts names (pages, touchpoints, actions, sessions) by their
hashes. Where two names the answer shows share one, the map must still be exact: the lookup of the
names sees the collision, and the map is drawn by the walk over the touches instead. Hashes of one
bit make collisions certain here."""

from __future__ import annotations

import pytest

from collector.query import journey
from collector.query.journey import DEFAULT_STAGES
from collector.query.scope import Scope
from collector.store.clickhouse.reads import journey_map
from tests.support.analytics_journeys import DAY_MS, D
from tests.support.collector import Client
from tests.support.journey_traffic import EVERY_FIELD, generate

pytestmark = pytest.mark.parametrize("engine", ["chdb"], indirect=True)


def test_names_that_share_a_hash_are_drawn_by_the_walk(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(client, 6)
    scope = Scope("test", D, D + 2 * DAY_MS)
    touches = client.store.journey_touches(scope)
    db = client.store.db  # type: ignore[attr-defined]
    for stages in (EVERY_FIELD, DEFAULT_STAGES):
        expected = journey.journey_map(stages, touches)
        assert journey_map.tally(db, scope, stages) == journey.tally(stages, touches)  # full hashes: no collision
        with monkeypatch.context() as patched:
            patched.setattr(journey_map, "NAME_BITS", 1)
            with pytest.raises(journey_map.Collision):
                journey_map.tally(db, scope, stages)
            assert client.store.journey_map(scope, stages) == expected
