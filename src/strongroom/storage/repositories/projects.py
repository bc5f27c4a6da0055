"""Projects: containers of records and files, each with its own key."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update

from strongroom.domain.model import ObjectState
from strongroom.storage import tables as t
from strongroom.storage.repositories.base import Repository, fields
from strongroom.storage.rows import ProjectRow

_SELECT_PROJECT = select(t.projects).where(
    t.projects.c.id == bindparam("project_id"),
    t.projects.c.workspace_id == bindparam("workspace_id"),
)


class Projects(Repository):
    def add(self, row: ProjectRow) -> None:
        self.conn.execute(insert(t.projects).values(**fields(row)))

    def get(self, workspace_id: str, project_id: str) -> ProjectRow | None:
        r = self.conn.execute(
            _SELECT_PROJECT, {"project_id": project_id, "workspace_id": workspace_id}
        ).first()
        return ProjectRow(*r) if r else None

    def list(
        self, workspace_id: str, after: str | None = None, limit: int | None = None
    ) -> builtins.list[ProjectRow]:
        """Live projects by id, after ``after``, at most ``limit``."""
        query = select(t.projects).where(
            t.projects.c.workspace_id == workspace_id, t.projects.c.state == ObjectState.LIVE
        )
        if after:
            query = query.where(t.projects.c.id > after)
        rows = self.conn.execute(query.order_by(t.projects.c.id).limit(limit))
        return [ProjectRow(*r) for r in rows]

    def set_state(
        self, project_id: str, state: ObjectState, now: datetime, trash_id: str | None
    ) -> None:
        self.conn.execute(
            update(t.projects)
            .where(t.projects.c.id == project_id)
            .values(state=state, updated_at=now, trash_id=trash_id)
        )
