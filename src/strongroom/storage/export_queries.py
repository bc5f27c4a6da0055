"""Reads the export needs that no other use case does: what a project holds (collections
with their record counts and largest record, the number of files), and an export job by
its id alone (the worker knows only the id)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, func, select

from strongroom.storage import tables as t
from strongroom.storage.rows import ExportJobRow


class CollectionStats(NamedTuple):
    name: str
    records: int
    largest: int  # bytes of the largest record's canonical JSON


class ExportQueries:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def collections_of(self, workspace_id: str, project_id: str) -> list[CollectionStats]:
        """The collections the project's live records are in, by name."""
        c = t.records.c
        rows = self.conn.execute(
            select(c.collection, func.count(), func.max(c.size))
            .where(c.workspace_id == workspace_id, c.project_id == project_id, c.state == "live")
            .group_by(c.collection)
            .order_by(c.collection)
        )
        return [CollectionStats(r[0], int(r[1]), int(r[2] or 0)) for r in rows]

    def file_count(self, workspace_id: str, project_id: str) -> int:
        c = t.files.c
        query = select(func.count()).where(
            c.workspace_id == workspace_id, c.project_id == project_id, c.state == "live"
        )
        return int(self.conn.execute(query).scalar_one())

    def job(self, job_id: str) -> ExportJobRow | None:
        r = self.conn.execute(select(t.export_jobs).where(t.export_jobs.c.id == job_id)).first()
        return ExportJobRow(*r) if r else None
