"""What backups read of the data store: the blobs it names, row counts and live samples
(drills, restores), and one workspace's data copied out of a restored snapshot and over
the live rows (``strongroom backup restore ID --workspace WS``).

What a workspace copy replaces: collections, projects, records with their blind-index
entries, files, trash entries and pending trash purges, but for the live trash entries the
caller keeps (purging or purged, and deletions made since the backup) with their
deadlines. What stays live: the workspace row and plan, members, tokens, holds, billing
events, exports, and every finished deadline.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select

from strongroom.domain.lifecycle import FIRST_STEP, DeadlineAction, DeadlineState
from strongroom.domain.model import ObjectState
from strongroom.storage import tables as t
from strongroom.storage.database import connect, make_engine
from strongroom.storage.repositories.base import Repository

_PURGE_TRASH = DeadlineAction.PURGE_TRASH
_PENDING = DeadlineState.PENDING

#: The tables a backup drill compares, by name.
_COUNTED = (
    ("workspaces", t.workspaces),
    ("projects", t.projects),
    ("records", t.records),
    ("files", t.files),
    ("audit_events", t.audit_events),
)

#: A workspace's data, in the order it is inserted (parents first).
_WORKSPACE_DATA: tuple[tuple[str, Table], ...] = (
    ("collections", t.collections),
    ("projects", t.projects),
    ("files", t.files),
    ("records", t.records),
    ("record_index", t.record_index),
    ("trash_entries", t.trash_entries),
    ("deadlines", t.deadlines),
)


@dataclass
class WorkspaceRows:
    """One workspace's data rows, by table name, as column-value mappings."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.tables.setdefault(name, [])

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


class Backups(Repository):
    def blob_keys(self) -> builtins.list[str]:
        """Every blob key the data store names (files and export artifacts)."""
        files = select(t.files.c.blob_key)
        exports = select(t.export_jobs.c.blob_key).where(t.export_jobs.c.blob_key.is_not(None))
        return sorted(r[0] for r in self.conn.execute(files.union(exports)))

    def table_counts(self) -> dict[str, int]:
        """Rows of the tables a backup drill compares."""
        count = select(func.count())
        return {
            name: int(self.conn.execute(count.select_from(table)).scalar_one())
            for name, table in _COUNTED
        }

    def live_sample(
        self, limit: int
    ) -> tuple[builtins.list[tuple[str, str, str]], builtins.list[tuple[str, str, str]]]:
        """(workspace, project, id) of up to ``limit`` live records and live files."""
        r, f = t.records.c, t.files.c
        records = self.conn.execute(
            select(r.workspace_id, r.project_id, r.id)
            .where(r.state == ObjectState.LIVE)
            .limit(limit)
        )
        files = self.conn.execute(
            select(f.workspace_id, f.project_id, f.id)
            .where(f.state == ObjectState.LIVE)
            .limit(limit)
        )
        return [tuple(x) for x in records], [tuple(x) for x in files]

    # one workspace's data ------------------------------------------------------------------
    def workspace_rows(self, workspace_id: str) -> WorkspaceRows:
        """The workspace's data rows (of pending trash purges only, among its deadlines)."""
        out = WorkspaceRows()
        for name, table in _WORKSPACE_DATA:
            query = select(table).where(table.c.workspace_id == workspace_id)
            if name == "deadlines":
                query = query.where(table.c.action == _PURGE_TRASH, table.c.state == _PENDING)
            out.tables[name] = [dict(r._mapping) for r in self.conn.execute(query)]
        return out

    def busy_purges(self, workspace_id: str) -> builtins.list[str]:
        """Ids of purges that forbid a restore: begun and not finished, or of the workspace."""
        c = t.deadlines.c
        rows = self.conn.execute(
            select(c.id).where(
                c.workspace_id == workspace_id,
                c.state == _PENDING,
                or_(c.step != FIRST_STEP, c.action == DeadlineAction.PURGE_WORKSPACE),
            )
        )
        return [r[0] for r in rows]

    def live_trash(self, workspace_id: str) -> builtins.list[dict[str, Any]]:
        """The workspace's trash entries, locked to the end of the (write) transaction on
        PostgreSQL, so no purge moves one on meanwhile (SQLite: the write lock does)."""
        te = t.trash_entries.c
        query = select(te.id, te.kind, te.subject_id, te.state).where(
            te.workspace_id == workspace_id
        )
        return [dict(r._mapping) for r in self.conn.execute(query.with_for_update())]

    def live_blobs(self, workspace_id: str) -> builtins.list[str]:
        c = t.files.c
        rows = self.conn.execute(select(c.blob_key).where(c.workspace_id == workspace_id))
        return [r[0] for r in rows]

    def replace_workspace(self, workspace_id: str, rows: WorkspaceRows, kept: set[str]) -> None:
        """Delete the live rows of the workspace's data but for the trash entries ``kept``
        (and their deadlines), and insert ``rows`` (in the unit of work's transaction)."""
        ws = workspace_id
        te, d = t.trash_entries.c, t.deadlines.c
        execute = self.conn.execute
        execute(delete(t.record_index).where(t.record_index.c.workspace_id == ws))
        execute(delete(t.records).where(t.records.c.workspace_id == ws))
        execute(delete(t.files).where(t.files.c.workspace_id == ws))
        execute(
            delete(t.deadlines).where(
                d.workspace_id == ws,
                d.action == _PURGE_TRASH,
                d.state == _PENDING,
                d.subject_id.not_in(kept),
            )
        )
        execute(delete(t.trash_entries).where(te.workspace_id == ws, te.id.not_in(kept)))
        execute(delete(t.projects).where(t.projects.c.workspace_id == ws))
        execute(delete(t.collections).where(t.collections.c.workspace_id == ws))
        taken = kept | {r[0] for r in execute(select(d.id).where(d.workspace_id == ws))}
        for name, table in _WORKSPACE_DATA:
            values = [
                r
                for r in rows.rows(name)
                if name not in ("trash_entries", "deadlines") or r["id"] not in taken
            ]
            self._insert(table, values)

    def _insert(self, table: Table, values: Iterable[dict[str, Any]]) -> None:
        batch = list(values)
        for start in range(0, len(batch), 500):
            self.conn.execute(insert(table), batch[start : start + 500])


def workspace_rows_at(url: str, workspace_id: str) -> WorkspaceRows:
    """One workspace's data rows read from the data store at ``url`` (a snapshot restored
    into a scratch database)."""
    engine = make_engine(url)
    try:
        with connect(engine) as conn:
            return Backups(conn).workspace_rows(workspace_id)
    finally:
        engine.dispose()
