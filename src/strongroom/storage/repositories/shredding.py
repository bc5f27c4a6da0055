"""The deletes of a permanent deletion (services/shredder.py), in batches, scoped to one
project, one record, one file or one workspace: ``scope`` names the column ("project_id",
"id" or "workspace_id") and ``value`` its value."""

from __future__ import annotations

import builtins
from typing import Literal

from sqlalchemy import delete, func, select

from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository

Scope = Literal["project_id", "id", "workspace_id"]

#: The tables of a workspace deleted by :meth:`Shredding.delete_workspace`, with the name
#: each count is reported under (records and files are shredded before, in batches).
_WORKSPACE_TABLES = (
    ("grant_reads", t.grant_reads),
    ("grants", t.grants),
    ("record_restrictions", t.record_restrictions),
    ("privacy_requests", t.privacy_requests),
    ("projects", t.projects),
    ("collections", t.collections),
    ("members", t.members),
    ("tokens", t.api_tokens),
    ("trash_entries", t.trash_entries),
    ("holds", t.holds),
    ("billing_events", t.billing_events),
    ("export_jobs", t.export_jobs),
)


class Shredding(Repository):
    def counts(self, scope: Scope, value: str) -> dict[str, int]:
        r, f = t.records.c, t.files.c
        records = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(r.size), 0)).where(r[scope] == value)
        ).one()
        files = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(f.size), 0)).where(f[scope] == value)
        ).one()
        return {
            "records": int(records[0]),
            "record_bytes": int(records[1]),
            "files": int(files[0]),
            "file_bytes": int(files[1]),
        }

    def record_ids(self, scope: Scope, value: str, limit: int) -> builtins.list[str]:
        c = t.records.c
        rows = self.conn.execute(select(c.id).where(c[scope] == value).limit(limit))
        return [r[0] for r in rows]

    def delete_records(self, record_ids: builtins.list[str]) -> int:
        """Delete the records and their blind-index entries; returns the index entries."""
        removed = self.conn.execute(
            delete(t.record_index).where(t.record_index.c.record_id.in_(record_ids))
        ).rowcount
        restrictions = t.record_restrictions.c
        self.conn.execute(
            delete(t.record_restrictions).where(restrictions.record_id.in_(record_ids))
        )
        self.conn.execute(delete(t.records).where(t.records.c.id.in_(record_ids)))
        return int(removed)

    def files(self, scope: Scope, value: str, limit: int) -> builtins.list[tuple[str, str]]:
        """(file id, blob key) of files still in the scope."""
        c = t.files.c
        rows = self.conn.execute(select(c.id, c.blob_key).where(c[scope] == value).limit(limit))
        return [(r[0], r[1]) for r in rows]

    def listed_files(
        self, workspace_id: str, file_ids: builtins.list[str]
    ) -> builtins.list[tuple[str, str]]:
        """(file id, blob key) of the workspace's files among ``file_ids`` still stored."""
        c = t.files.c
        rows = self.conn.execute(
            select(c.id, c.blob_key).where(c.workspace_id == workspace_id, c.id.in_(file_ids))
        )
        return [(r[0], r[1]) for r in rows]

    def listed_records(
        self, workspace_id: str, record_ids: builtins.list[str]
    ) -> builtins.list[str]:
        """The workspace's records among ``record_ids`` still stored."""
        c = t.records.c
        query = select(c.id).where(c.workspace_id == workspace_id, c.id.in_(record_ids))
        return [r[0] for r in self.conn.execute(query)]

    def delete_files(self, file_ids: builtins.list[str]) -> None:
        self.conn.execute(delete(t.files).where(t.files.c.id.in_(file_ids)))

    def delete_project(self, project_id: str) -> None:
        self.conn.execute(delete(t.projects).where(t.projects.c.id == project_id))

    def export_blobs(self, workspace_id: str) -> builtins.list[str]:
        """Every export job's blob key (its id), whether or not the job recorded one: a
        run that crashed before recording it may still have left a blob."""
        c = t.export_jobs.c
        rows = self.conn.execute(select(c.id).where(c.workspace_id == workspace_id))
        return [r[0] for r in rows]

    def delete_workspace(self, workspace_id: str, keep_deadline: str) -> dict[str, int]:
        """Everything else of a workspace, then the workspace row (records and files must
        be gone already). Returns counts of what went."""
        counts: dict[str, int] = {}
        requests = select(t.privacy_requests.c.id).where(
            t.privacy_requests.c.workspace_id == workspace_id
        )
        self.conn.execute(
            delete(t.privacy_subjects).where(t.privacy_subjects.c.request_id.in_(requests))
        )
        for name, table in _WORKSPACE_TABLES:
            counts[name] = int(
                self.conn.execute(
                    delete(table).where(table.c.workspace_id == workspace_id)
                ).rowcount
            )
        c = t.deadlines.c
        self.conn.execute(
            delete(t.deadlines).where(c.workspace_id == workspace_id, c.id != keep_deadline)
        )
        self.conn.execute(delete(t.workspaces).where(t.workspaces.c.id == workspace_id))
        return counts
