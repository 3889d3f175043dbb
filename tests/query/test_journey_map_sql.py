"""The journey map as each store answers it (ClickHouse in SQL, SQLite by numpy over its touches read
as columns) held to the Python definition, `journey.journey_map` over every touch, on generated traffic.

The stages use every matcher field: type, name, pages in every pattern form (exact URL, exact
/path, `*` on a URL and on a path, route templates matched on the route and on the path),
touchpoint, channel, min and max score, new_visit (also on the first stage, where it never holds)
and nth; one touch may reach several stages; people drop at every stage; touches share instants;
dropped people have replays. On ClickHouse the per-stage tally (waits' middles, every ranked list,
the answers' counts) is compared as well, not only the answer made from it.
"""

from __future__ import annotations

import pytest

from collector.query import journey
from collector.query.journey import DEFAULT_STAGES, Stages
from collector.query.scope import Scope
from tests.support.analytics_journeys import DAY_MS, D
from tests.support.collector import Client, every_store
from tests.support.journey_traffic import EVERY_FIELD, MANY_BITS, generate

pytestmark = every_store

def engine_tally(client: Client, scope: Scope, stages: Stages) -> tuple[int, list[journey.StageTally]]:
    """The store's own tally: ClickHouse's SQL, or SQLite's columns counted with numpy."""
    if client.engine == "sqlite":
        from collector.query import journey_columns
        from collector.store.sqlite.reads.journey import columns

        with client.store.read() as conn:  # type: ignore[attr-defined]
            found = columns(conn, scope, journey.reading_of(stages))
        assert found is not None
        return journey_columns.tally(stages, found)
    from collector.store.clickhouse.reads.journey_map import tally

    return tally(client.store.db, scope, stages)  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [3, 4])
def test_the_store_answers_the_map_the_walk_defines(client: Client, seed: int) -> None:
    generate(client, seed)
    scope = Scope("test", D, D + 2 * DAY_MS)
    touches = client.store.journey_touches(scope)
    assert len({(t.visitor, t.ts) for t in touches}) < len(touches)  # touches at one instant
    for stages in (EVERY_FIELD, DEFAULT_STAGES, MANY_BITS):
        people, tallies = journey.tally(stages, touches)
        assert engine_tally(client, scope, stages) == (people, tallies)
        assert client.store.journey_map(scope, stages) == journey.journey_map(stages, touches)
    # the traffic gives every part of the map work to do
    people, tallies = journey.tally(EVERY_FIELD, touches)
    assert people == 90
    assert all(t.people > 0 for t in tallies) and all(t.dropped > 0 for t in tallies[:-1]), tallies
    assert all(t.middle_waits for t in tallies[:-1])
    assert any(t.replays for t in tallies) and any(t.exit_pages for t in tallies)
    assert all(sum(t.answers.values()) > 0 for t in tallies)
    assert any(t.rage for t in tallies) and any(t.dead for t in tallies) and any(t.errors for t in tallies)
    assert {kind for t in tallies for kind, _, _ in t.answers} == {"nps", "csat", "ces"}
    assert {scale for t in tallies for _, _, scale in t.answers} == {None, 5, 7}
    # one touch reaches several stages (a first purchase is both the cart and the way back)
    reached = journey.reach(EVERY_FIELD, touches)[1]
    assert any(reached[2].get(v) == reached[3].get(v) for v in reached[3])
    # every page pattern form reaches a stage somewhere
    forms = [m for s in EVERY_FIELD.stages for m in s.match if m.page is not None]
    assert all(any(journey.page_matches(m.page, t) for t in touches) for m in forms if m.page)


def test_an_empty_range_has_no_one_on_the_map(client: Client) -> None:
    generate(client, 5)
    scope = Scope("test", D + 10 * DAY_MS, D + 11 * DAY_MS)
    assert client.store.journey_touches(scope) == []
    for stages in (EVERY_FIELD, DEFAULT_STAGES):
        assert engine_tally(client, scope, stages) == journey.tally(stages, [])
        answer = client.store.journey_map(scope, stages)
        assert answer == journey.journey_map(stages, [])
        assert answer["people"] == 0 and [s["people"] for s in answer["stages"]] == [0] * len(stages.stages)

