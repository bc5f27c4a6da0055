"""Export jobs, and the reads the export needs that no other use case does: what a project
holds (collections with their record counts and largest record, the number of files)."""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update

from strongroom.domain.model import ObjectState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import ExportJobRow


class CollectionStats(NamedTuple):
    name: str
    records: int
    largest: int  # bytes of the largest record's canonical JSON


class ExportJobs(Repository):
    def add(self, row: ExportJobRow) -> None:
        self.conn.execute(insert(t.export_jobs).values(**fields(row)))

    def get(self, workspace_id: str, job_id: str) -> ExportJobRow | None:
        c = t.export_jobs.c
        r = self.conn.execute(
            select(t.export_jobs).where(c.id == job_id, c.workspace_id == workspace_id)
        ).first()
        return ExportJobRow(*r) if r else None

    def by_id(self, job_id: str) -> ExportJobRow | None:
        """A job by its id alone (the worker knows only the id)."""
        r = self.conn.execute(select(t.export_jobs).where(t.export_jobs.c.id == job_id)).first()
        return ExportJobRow(*r) if r else None

    def update(self, job_id: str, **values: Any) -> None:
        self.conn.execute(
            update(t.export_jobs).where(t.export_jobs.c.id == job_id).values(**values)
        )

    def for_workspace(self, workspace_id: str) -> builtins.list[ExportJobRow]:
        c = t.export_jobs.c
        rows = self.conn.execute(
            select(t.export_jobs).where(c.workspace_id == workspace_id).order_by(c.id)
        )
        return [ExportJobRow(*r) for r in rows]

    def collections_of(self, workspace_id: str, project_id: str) -> builtins.list[CollectionStats]:
        """The collections the project's live records are in, by name."""
        c = t.records.c
        rows = self.conn.execute(
            select(c.collection, func.count(), func.max(c.size))
            .where(
                c.workspace_id == workspace_id,
                c.project_id == project_id,
                c.state == ObjectState.LIVE,
            )
            .group_by(c.collection)
            .order_by(c.collection)
        )
        return [CollectionStats(r[0], int(r[1]), int(r[2] or 0)) for r in rows]

    def file_count(self, workspace_id: str, project_id: str) -> int:
        c = t.files.c
        query = select(func.count()).where(
            c.workspace_id == workspace_id, c.project_id == project_id, c.state == ObjectState.LIVE
        )
        return int(self.conn.execute(query).scalar_one())
