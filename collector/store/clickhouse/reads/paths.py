"""Paths on ClickHouse: the pageviews of the sessions that saw a page, walked by the shared rule.
The pageviews are those each session row keeps (views.py), or its events' for a whole-URL page."""

from __future__ import annotations

from typing import Any

from collector.query import paths as shared
from collector.query.definitions import DAY_MS, day_of
from collector.query.scope import Scope
from collector.store.clickhouse.client import lit
from collector.store.clickhouse.reads.scope import human_sql, scope_sql, sessions_in, since_sql, url_match
from collector.store.clickhouse.transaction import Db


def top_page(db: Db, scope: Scope) -> str | None:
    """The most viewed path of human pageviews in the scope's days (whole UTC days, as the SQLite
    engine's page_days rollup counts them, where the site's zone is at UTC), from the pageviews
    the sessions' rows keep (views.py)."""
    start, end = scope.start, scope.end
    if scope.calendar.zero_offset(start, end):
        start, end = day_of(start) * DAY_MS, (day_of(end - 1) + 1) * DAY_MS
    rows = db.rows(
        f"SELECT path FROM {sessions_in(db.layout)} ARRAY JOIN s.views.ts AS ts, s.views.path AS path"
        f" WHERE s.site_id = {lit(scope.site_id)} AND {human_sql('s')} AND s.last_ts >= {lit(start)}"
        f" AND s.first_ts < {lit(end)} AND ts >= {lit(start)} AND ts < {lit(end)} AND path != ''"
        " GROUP BY path ORDER BY count() DESC, path LIMIT 1"
    )
    return rows[0][0] if rows else None


def paths(db: Db, scope: Scope, from_url: str, depth: int = 3, width: int = shared.WIDTH) -> dict[str, Any]:
    """From the first pageview matching `from_url` in each session: the pages after and before,
    counted in SQL (collector/query/paths.py builds the answer from the counts)."""
    # Each session's views in the order the SQLite engine reads them (time, then path with no path
    # first, then arrival), as one array; `at` is the first matching view (1-based). Each session
    # then gives one (direction, step, source, target) per step it reaches, and one marker
    # (direction '') that counts the sessions.
    steps = f"range(1, {int(depth) + 1})"
    links = (
        "arrayConcat("
        f"arrayMap(k -> ('{shared.NEXT}', k, pages[at + k - 1],"
        f" if(at + k <= length(pages), pages[at + k], {lit(shared.EXIT)})),"
        f" arrayFilter(k -> at + k - 1 <= length(pages), {steps})),"
        f" arrayMap(k -> ('{shared.PREVIOUS}', k, pages[at - k + 1],"
        f" if(at - k >= 1, pages[at - k], {lit(shared.ENTRANCE)})),"
        f" arrayFilter(k -> at - k + 1 >= 1, {steps})),"
        " [('', 0, '', '')])"
    )
    page = "if(ifNull({0}path, '') = '', '(none)', assumeNotNull({0}path))"
    if from_url.startswith("/"):
        # A path or route: the views each session row keeps (views.py), no pass over the events;
        # only their paths and routes are read (the row keeps them in the walk's order).
        match = f"(path, route) -> {url_match(from_url, '')}, s.views.path, s.views.route"
        viewed = (
            f"SELECT arrayMap(path -> {page.format('')}, s.views.path) AS pages, arrayFirstIndex({match}) AS at"
            f" FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)} AND arrayExists({match})"
        )
    else:
        # A whole URL, which the rows do not keep: each session's views grouped from its events.
        viewed = (
            "SELECT arrayMap(v -> v.5, views) AS pages, arrayFirstIndex(v -> v.6 = 1, views) AS at FROM ("
            " SELECT arraySort(v -> (v.1, v.2, v.3, v.4), groupArray((e.ts, isNotNull(e.path), ifNull(e.path, ''),"
            f" e.seq, {page.format('e.')}, if({url_match(from_url, 'e')}, 1, 0)))) AS views"
            f" FROM {db.t('events')} AS e WHERE e.site_id = {lit(scope.site_id)}{since_sql('e', scope.start)}"
            " AND e.type = 'pageview'"
            f" AND e.session_id IN (SELECT s.id FROM {sessions_in(db.layout)} WHERE {scope_sql(db.layout, scope)})"
            # The sessions that saw the page are kept as they are grouped: a second pass over the
            # events to find them first cost more than it saved, even for a page few sessions see.
            f" GROUP BY e.session_id HAVING max({url_match(from_url, 'e')}) = 1)"
        )
    counted = (
        f"SELECT link.1 AS way, link.2 AS step, link.3 AS source, link.4 AS target, count() AS n FROM ({viewed})"
        f" ARRAY JOIN {links} AS link GROUP BY way, step, source, target"
    )
    rows = db.rows(_folded(counted, width))
    sessions = next((n for way, kind, _, _, _, n in rows if way == "" and kind == shared.LEVEL), 0)
    return shared.from_folded(from_url, sessions, (row for row in rows if row[0]), depth)


def _folded(counted: str, width: int) -> str:
    """The rows of `shared.from_folded` from the `counted` links (way, step, source, target, n),
    ranked and folded by `shared.fold`'s rule: a column (the targets of a step) of more than
    `width` pages keeps its `width - 1` busiest (most sessions, then path) and names the others
    OTHER, as a link's target and as the source of the next step's links; the page the paths
    start from (the sources of step 1) stays whole. A shop's busiest page counts tens of thousands
    of links and the answer holds a few hundred rows: reading the links into Python and folding
    them there cost more than the query (5.1M events: 70,000 links, 80 ms)."""
    other = lit(shared.OTHER)
    # per column: each target with its sessions and the links into it, ranked
    columns = (
        "SELECT *, row_number() OVER (PARTITION BY way, step ORDER BY total DESC, target) AS rank,"
        " count() OVER (PARTITION BY way, step) AS size FROM ("
        f"SELECT way, step, target, sum(n) AS total, groupArray((source, n)) AS sources FROM ({counted})"
        " GROUP BY way, step, target)"
    )
    # per direction: the pages each column keeps, (step, page); a link's source at step k > 1 is a
    # target at step k - 1
    kept = (
        f"SELECT *, size <= {width} OR rank < {width} AS kept,"
        f" groupArrayIf((step, target), kept) OVER (PARTITION BY way) AS kept_pages FROM ({columns})"
    )
    source = f"if(step = 1 OR has(kept_pages, (step - 1, x.1)), x.1, {other})"
    items = (
        f"arrayConcat(if(rank <= {shared.TOP}, [('{shared.LEVEL}', '', target, toUInt64(total))], []),"
        f" if(rank = 1 AND size > {width}, [('{shared.FOLDED}', '', '', toUInt64(size - {width - 1}))], []),"
        f" arrayMap(x -> ('{shared.LINK}', {source}, if(kept, target, {other}), toUInt64(x.2)), sources))"
    )
    return (
        f"SELECT way, item.1 AS kind, step, item.2, item.3, sum(item.4) FROM (SELECT way, step, {items} AS items"
        f" FROM ({kept})) ARRAY JOIN items AS item GROUP BY way, kind, step, item.2, item.3"
    )
