"""Replays: which site a session's recording belongs to, and its stored chunks in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def replay_site(conn: sqlite3.Connection, session_id: str, site_id: str | None) -> str | None:
    """The site whose replay is asked for: given, else the session's site, else the only site."""
    if site_id:
        return site_id
    row = conn.execute("SELECT site_id FROM sessions WHERE id = ? LIMIT 1", (session_id,)).fetchone()
    if row is not None:
        return str(row[0])
    sites = conn.execute("SELECT id FROM sites LIMIT 2").fetchall()
    return str(sites[0][0]) if len(sites) == 1 else None


def has_replay(conn: sqlite3.Connection, site_id: str, session_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM replay_chunks WHERE site_id = ? AND session_id = ? LIMIT 1",
        (site_id, session_id),
    ).fetchone()
    return found is not None


def chunks(conn: sqlite3.Connection, site_id: str, session_id: str) -> Iterator[bytes]:
    """The stored chunks (gzipped JSON arrays of rrweb events) in sequence order, one at a time."""
    rows = conn.execute(
        "SELECT data FROM replay_chunks WHERE site_id = ? AND session_id = ? ORDER BY seq",
        (site_id, session_id),
    )
    for (data,) in rows:
        yield bytes(data)


def stored_bytes(conn: sqlite3.Connection, site_id: str, session_id: str) -> int:
    """Compressed replay bytes stored so far for a session."""
    (total,) = conn.execute(
        "SELECT coalesce(sum(length(data)), 0) FROM replay_chunks WHERE site_id = ? AND session_id = ?",
        (site_id, session_id),
    ).fetchone()
    return int(total)


def chunk_held(conn: sqlite3.Connection, site_id: str, session_id: str, seq: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM replay_chunks WHERE site_id = ? AND session_id = ? AND seq = ?",
        (site_id, session_id, seq),
    ).fetchone()
    return row is not None


def bytes_received(conn: sqlite3.Connection, site_id: str, start: int, end: int) -> int:
    """Compressed replay bytes a site stored from `start` to before `end` (epoch ms)."""
    (total,) = conn.execute(
        "SELECT coalesce(sum(size), 0) FROM replay_chunks"
        " WHERE site_id = ? AND received_at >= ? AND received_at < ?",
        (site_id, start, end),
    ).fetchone()
    return int(total)


def extent(conn: sqlite3.Connection, site_id: str, session_id: str) -> dict[str, int | None]:
    """How many chunks a recording has, and the first and last rrweb time they cover."""
    count, first_ts, last_ts = conn.execute(
        "SELECT count(*), min(first_ts), max(last_ts) FROM replay_chunks WHERE site_id = ? AND session_id = ?",
        (site_id, session_id),
    ).fetchone()
    return {"chunks": count, "first_ts": first_ts, "last_ts": last_ts}


def chunks_from(
    conn: sqlite3.Connection, site_id: str, session_id: str, from_seq: int, limit: int
) -> Iterator[tuple[int, bytes]]:
    """Up to `limit` stored chunks with seq >= `from_seq` as (seq, data), in order, one at a time."""
    where = "site_id = ? AND session_id = ?"
    seqs = [seq for (seq,) in conn.execute(
        f"SELECT seq FROM replay_chunks WHERE {where} AND seq >= ? ORDER BY seq LIMIT ?",
        (site_id, session_id, from_seq, limit),
    )]
    for seq in seqs:
        (data,) = conn.execute(
            f"SELECT data FROM replay_chunks WHERE {where} AND seq = ?", (site_id, session_id, seq)
        ).fetchone()
        yield seq, bytes(data)
