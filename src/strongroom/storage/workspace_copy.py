"""The rows of one workspace's data, read from a restored snapshot and written over the
live ones (``strongroom backup restore ID --workspace WS``).

What is replaced: collections, projects, records with their blind-index entries, files,
trash entries and pending trash purges, but for the live trash entries the caller keeps
(purging or purged, and deletions made since the backup) with their deadlines. What stays
live: the workspace row and plan, members, tokens, holds, billing events, exports, and
every finished deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, or_, select

from strongroom.storage import tables as t

PURGE_TRASH = "purge.trash"
PURGE_WORKSPACE = "purge.workspace"


@dataclass
class WorkspaceRows:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.tables.setdefault(name, [])

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


_ORDER: tuple[tuple[str, Table], ...] = (
    ("collections", t.collections),
    ("projects", t.projects),
    ("files", t.files),
    ("records", t.records),
    ("record_index", t.record_index),
    ("trash_entries", t.trash_entries),
    ("deadlines", t.deadlines),
)


def read(conn: Connection, workspace_id: str) -> WorkspaceRows:
    out = WorkspaceRows()
    for name, table in _ORDER:
        query = select(table).where(table.c.workspace_id == workspace_id)
        if name == "deadlines":
            query = query.where(table.c.action == PURGE_TRASH, table.c.state == "pending")
        out.tables[name] = [dict(r._mapping) for r in conn.execute(query)]
    return out


def busy_purges(conn: Connection, workspace_id: str) -> list[str]:
    """Ids of purges that forbid a restore: begun and not finished, or of the workspace."""
    c = t.deadlines.c
    rows = conn.execute(
        select(c.id).where(
            c.workspace_id == workspace_id,
            c.state == "pending",
            or_(c.step != "start", c.action == PURGE_WORKSPACE),
        )
    )
    return [r[0] for r in rows]


def live_trash(conn: Connection, workspace_id: str) -> list[dict[str, Any]]:
    """The workspace's trash entries, locked to the end of the (write) transaction on
    PostgreSQL, so no purge moves one on meanwhile (SQLite: the write lock does)."""
    te = t.trash_entries.c
    query = select(te.id, te.kind, te.subject_id, te.state).where(te.workspace_id == workspace_id)
    return [dict(r._mapping) for r in conn.execute(query.with_for_update())]


def live_blobs(conn: Connection, workspace_id: str) -> list[str]:
    c = t.files.c
    return [r[0] for r in conn.execute(select(c.blob_key).where(c.workspace_id == workspace_id))]


def replace(conn: Connection, workspace_id: str, rows: WorkspaceRows, kept: set[str]) -> None:
    """Delete the live rows of the workspace's data but for the trash entries ``kept``
    (and their deadlines), and insert ``rows`` (one transaction)."""
    ws = workspace_id
    te, d = t.trash_entries.c, t.deadlines.c
    conn.execute(delete(t.record_index).where(t.record_index.c.workspace_id == ws))
    conn.execute(delete(t.records).where(t.records.c.workspace_id == ws))
    conn.execute(delete(t.files).where(t.files.c.workspace_id == ws))
    conn.execute(
        delete(t.deadlines).where(
            d.workspace_id == ws,
            d.action == PURGE_TRASH,
            d.state == "pending",
            d.subject_id.not_in(kept),
        )
    )
    conn.execute(delete(t.trash_entries).where(te.workspace_id == ws, te.id.not_in(kept)))
    conn.execute(delete(t.projects).where(t.projects.c.workspace_id == ws))
    conn.execute(delete(t.collections).where(t.collections.c.workspace_id == ws))
    taken = kept | {r[0] for r in conn.execute(select(d.id).where(d.workspace_id == ws))}
    for name, table in _ORDER:
        values = [
            r
            for r in rows.rows(name)
            if name not in ("trash_entries", "deadlines") or r["id"] not in taken
        ]
        _insert(conn, table, values)


def _insert(conn: Connection, table: Table, values: Iterable[dict[str, Any]]) -> None:
    batch = list(values)
    for start in range(0, len(batch), 500):
        conn.execute(insert(table), batch[start : start + 500])
