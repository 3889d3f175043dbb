"""Commerce: revenue over time, top products, cart abandonment and the abandoned sessions."""

from __future__ import annotations

import sqlite3
from typing import Any

from collector.query.definitions import day_of
from collector.query.overview import day_name, days_of, ratio
from collector.query.scope import Scope
from collector.store.sqlite.reads.scope import abandoned_sql, carted_sql, day_sql, human_sql, scope_sql

ABANDONED_SHOWN = 100
TOP = 20


def commerce(conn: sqlite3.Connection, scope: Scope) -> dict[str, Any]:
    """Revenue and orders per day, products by revenue, abandoned carts (newest first)."""
    where, args = scope_sql(scope)
    if scope.rolled_up:  # whole UTC days of humans without filters: the session_days rollup has the sums
        day_rows = conn.execute(
            "SELECT day, sum(revenue), sum(orders), sum(carts), sum(abandoned) FROM session_days"
            f" WHERE site_id = ? AND day >= ? AND day < ? AND {human_sql('')} AND sessions != 0 GROUP BY day",
            (scope.site_id, day_of(scope.start), day_of(scope.end)),
        ).fetchall()
    else:
        day_rows = conn.execute(
            f"SELECT {day_sql(scope.calendar.local_sql('s.first_ts', scope.start, scope.end))} AS day,"
            " sum(s.revenue), sum(s.purchases),"
            f" sum({carted_sql('s')}), sum({abandoned_sql('s')})"
            f" FROM sessions s WHERE {where} GROUP BY day",
            args,
        ).fetchall()
    by_day = {day: (revenue, orders) for day, revenue, orders, _, _ in day_rows}
    carts = sum(row[3] for row in day_rows)
    abandoned = sum(row[4] for row in day_rows)
    revenue = float(sum(r for r, _ in by_day.values()))
    orders = sum(o for _, o in by_day.values())
    series = [
        {"date": day_name(day), "revenue": float(by_day.get(day, (0, 0))[0]), "orders": by_day.get(day, (0, 0))[1]}
        for day in days_of(scope)
    ]
    products = [
        {"sku": sku, "name": name, "quantity": qty, "revenue": float(value), "orders": n}
        for sku, name, qty, value, n in conn.execute(
            "SELECT json_extract(i.value, '$.sku') AS sku, max(json_extract(i.value, '$.name')),"
            " sum(coalesce(json_extract(i.value, '$.qty'), 1)),"
            " sum(coalesce(json_extract(i.value, '$.price'), 0) * coalesce(json_extract(i.value, '$.qty'), 1)),"
            " count(DISTINCT e.rowid)"
            " FROM sessions s JOIN events e ON e.site_id = s.site_id AND e.session_id = s.id"
            " AND e.type = 'purchase', json_each(e.data, '$.items') i"
            f" WHERE {where} GROUP BY sku ORDER BY 4 DESC, 1 LIMIT ?",
            [*args, TOP],
        )
    ]
    sessions = [
        dict(r) for r in conn.execute(
            "SELECT s.id, s.visitor_id, s.first_ts, s.cart_adds, s.has_replay,"
            " (SELECT coalesce(sum(coalesce(json_extract(c.data, '$.item.price'), 0)"
            "  * coalesce(json_extract(c.data, '$.item.qty'), 1)), 0) FROM events c"
            "  WHERE c.site_id = s.site_id AND c.session_id = s.id AND c.type = 'cart'"
            "  AND c.name = 'add') AS cart_value"
            f" FROM sessions s WHERE {where} AND {abandoned_sql('s')}"
            " ORDER BY s.first_ts DESC, s.id DESC LIMIT ?",
            [*args, ABANDONED_SHOWN],
        )
    ]
    for session in sessions:
        session["has_replay"] = bool(session["has_replay"])
        session["cart_value"] = float(session["cart_value"])
    return {
        "revenue": revenue,
        "orders": orders,
        "aov": ratio(revenue, orders),
        "series": series,
        "products": products,
        "cart_sessions": carts,
        "abandoned_sessions": abandoned,
        "cart_abandonment_rate": ratio(abandoned, carts),
        "abandoned": sessions,
    }
