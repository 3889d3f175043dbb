"""Copies of recorded assets on ClickHouse (collector/store/assets.py says what they are).

Writes run on the store's one writer, so "is this copy or reference held already" and the insert
that follows are not interleaved with another write of this collector; a row two collectors store
at once is the same key twice, which FINAL reads as one.
"""

from __future__ import annotations

from collector.store.assets import COPY_COLUMNS, REF_COLUMNS, AssetCopy, AssetRef, new_rows
from collector.store.clickhouse.client import lit, lits
from collector.store.clickhouse.transaction import Db


def save(db: Db, site_id: str, copies: list[AssetCopy], refs: list[AssetRef], now: int) -> int:
    """Store the copies and references not held yet; the bytes newly stored."""
    named = sorted({c.id for c in copies} | {r.asset_id for r in refs})
    held_copies = {r[0] for r in db.rows(
        f"SELECT DISTINCT id FROM {db.t('replay_assets')} WHERE id IN {lits(named)}"
    )} if named else set()
    held_refs = {(r[0], r[1]) for r in db.rows(
        f"SELECT DISTINCT session_id, url FROM {db.t('replay_asset_refs')} WHERE site_id = {lit(site_id)}"
        f" AND session_id IN {lits(sorted({r.session_id for r in refs}))}"
        f" AND url IN {lits(sorted({r.url for r in refs}))}"
    )} if refs else set()
    copy_rows, ref_rows = new_rows(site_id, copies, refs, now, held_copies, held_refs)
    # The copies first: a reference is never stored without the copy it names.
    db.conn.insert(db.t("replay_assets"), COPY_COLUMNS, copy_rows)
    db.conn.insert(db.t("replay_asset_refs"), REF_COLUMNS, ref_rows)
    sizes = {c.id: len(c.data) for c in copies}
    return sum(sizes[str(row[0])] for row in copy_rows)


def latest(db: Db, site_id: str, url: str) -> tuple[str, int] | None:
    """The copy last fetched for a URL of the site, and when."""
    rows = db.rows(
        f"SELECT asset_id, fetched_at FROM {db.t('replay_asset_refs')}"
        f" WHERE site_id = {lit(site_id)} AND url = {lit(url)} ORDER BY fetched_at DESC LIMIT 1"
    )
    return (str(rows[0][0]), int(rows[0][1])) if rows else None


def of_session(db: Db, site_id: str, session_id: str) -> dict[str, str]:
    rows = db.rows(
        f"SELECT url, asset_id FROM {db.t('replay_asset_refs')} FINAL"
        f" WHERE site_id = {lit(site_id)} AND session_id = {lit(session_id)}"
    )
    return {str(url): str(asset_id) for url, asset_id in rows}


def one(db: Db, asset_id: str) -> AssetCopy | None:
    rows = db.rows(
        f"SELECT id, site_id, content_type, hex(data) FROM {db.t('replay_assets')} WHERE id = {lit(asset_id)} LIMIT 1"
    )
    if not rows:
        return None
    found, site_id, content_type, data = rows[0]
    return AssetCopy(id=found, site_id=site_id, content_type=content_type, data=bytes.fromhex(data))


def bytes_received(db: Db, site_id: str, start: int, end: int) -> int:
    ((total,),) = db.rows(
        f"SELECT sum(size) FROM {db.t('replay_assets')} FINAL WHERE site_id = {lit(site_id)}"
        f" AND stored_at >= {lit(start)} AND stored_at < {lit(end)}"
    )
    return int(total or 0)


def drop_refs(db: Db, where: str) -> None:
    """Delete the references `where` names, then every copy no reference holds any more (a copy
    shared with a session that stays, stays)."""
    if db.rows(f"SELECT 1 FROM {db.t('replay_asset_refs')} WHERE {where} LIMIT 1"):
        db.delete("replay_asset_refs", where)
    # GLOBAL: on a cluster both tables are Distributed, and the references of every shard count.
    unreferenced = [r[0] for r in db.rows(
        f"SELECT DISTINCT id FROM {db.t('replay_assets')}"
        f" WHERE id GLOBAL NOT IN (SELECT asset_id FROM {db.t('replay_asset_refs')}) ORDER BY id"
    )]
    if unreferenced:
        # Copy ids are hashes of a site's files, not anyone's ids: written out in the mutation.
        db.delete("replay_assets", f"id IN {lits(unreferenced)}")


def export_rows(db: Db, site_id: str, sessions: str) -> list[dict[str, object]]:
    """The references of the sessions named by `sessions` (an IN list), as export rows."""
    rows = db.rows(
        f"SELECT {', '.join(REF_COLUMNS)} FROM {db.t('replay_asset_refs')} FINAL"
        f" WHERE site_id = {lit(site_id)} AND session_id IN {sessions} ORDER BY site_id, session_id, url"
    )
    return [dict(zip(REF_COLUMNS, row, strict=True)) for row in rows]
