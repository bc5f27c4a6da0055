"""Files: the row of each blob (sealed name, size, blob key)."""

from __future__ import annotations

import builtins

from sqlalchemy import func, insert, select, update

from strongroom.domain.model import ObjectState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import FileRow


class Files(Repository):
    def add(self, row: FileRow) -> None:
        self.conn.execute(insert(t.files).values(**fields(row)))

    def get(self, workspace_id: str, project_id: str, file_id: str) -> FileRow | None:
        r = self.conn.execute(
            select(t.files).where(
                t.files.c.id == file_id,
                t.files.c.project_id == project_id,
                t.files.c.workspace_id == workspace_id,
            )
        ).first()
        return FileRow(*r) if r else None

    def list(
        self,
        workspace_id: str,
        project_id: str,
        after: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[FileRow]:
        query = select(t.files).where(
            t.files.c.workspace_id == workspace_id,
            t.files.c.project_id == project_id,
            t.files.c.state == ObjectState.LIVE,
        )
        if after:
            query = query.where(t.files.c.id > after)
        rows = self.conn.execute(query.order_by(t.files.c.id).limit(limit))
        return [FileRow(*r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.files)).scalar_one())

    def set_state(self, file_id: str, state: ObjectState, trash_id: str | None) -> None:
        self.conn.execute(
            update(t.files).where(t.files.c.id == file_id).values(state=state, trash_id=trash_id)
        )
