"""Projects: containers of records and files, each with a data key of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from strongroom import ids
from strongroom.crypto.envelope import Binding
from strongroom.domain.lifecycle import TrashKind
from strongroom.domain.model import (
    ObjectState,
    Page,
    Project,
    make_page,
    page_limit,
)
from strongroom.domain.roles import Action
from strongroom.domain.rules import check_name
from strongroom.errors import KeyUnavailable
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_project, require_usable, require_workspace
from strongroom.services.trash import TrashEntry, move_to_trash
from strongroom.storage.rows import ProjectRow


def _name_binding(workspace_id: str, project_id: str) -> Binding:
    return Binding("project-name", workspace_id, project_id, project_id)


class Projects:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create(self, workspace_id: str, name: str, actor: str = "system") -> Project:
        name = check_name("project", name)
        now = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            require_usable(uow, workspace_id, Action.MANAGE_PROJECTS, now)
        project_id = ids.new_id("project")
        self.ctx.keyring.create_project_key(workspace_id, project_id, now)
        try:
            sealed = self.ctx.seal(
                project_id, _name_binding(workspace_id, project_id), name.encode()
            )
            with self.ctx.store.write() as uow:
                require_usable(uow, workspace_id, Action.MANAGE_PROJECTS, now)
                uow.projects.add(
                    ProjectRow(project_id, workspace_id, sealed, ObjectState.LIVE, now, now)
                )
                audit.append(
                    uow,
                    now,
                    actor,
                    "project.create",
                    workspace_id,
                    project_id=project_id,
                    keys=[project_id],
                )
                uow.commit()
        except BaseException:
            self.ctx.keyring.discard_unused(workspace_id, project_id)
            raise
        return Project(project_id, workspace_id, name, ObjectState.LIVE, now)

    def delete(self, workspace_id: str, project_id: str, actor: str = "system") -> TrashEntry:
        """Move the project to the trash, with every record and file it holds."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.MANAGE_PROJECTS, now)
            require_project(uow, workspace_id, project_id)
            entry = move_to_trash(
                self.ctx, uow, TrashKind.PROJECT, workspace_id, project_id, project_id, actor, now
            )
            uow.commit()
        return entry

    def get(self, workspace_id: str, project_id: str, actor: str = "system") -> Project:
        with self.ctx.store.read() as uow:
            row = require_project(uow, workspace_id, project_id)
        return self._project(row, actor)

    def list(self, workspace_id: str, actor: str = "system") -> list[Project]:
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            rows = uow.projects.list(workspace_id)
        return [self._project(r, actor) for r in rows]

    def page(
        self,
        workspace_id: str,
        cursor: str | None = None,
        limit: int | None = None,
        actor: str = "system",
    ) -> Page[Project]:
        if cursor is not None:
            ids.check_id("project", cursor)
        limit = page_limit(limit)
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
            rows = uow.projects.list(workspace_id, cursor, limit + 1)
        return make_page(rows, limit, lambda r: r.id, lambda r: self._project(r, actor))

    def names(
        self, workspace_id: str, project_ids: Iterable[str], actor: str = "system"
    ) -> dict[str, str]:
        """The names of projects live or in the trash, by id (the trash page says what it
        holds); one whose key is already destroyed, or not of this workspace, is left out."""
        with self.ctx.store.read() as uow:
            rows = [uow.projects.get(workspace_id, p) for p in set(project_ids)]
        names: dict[str, str] = {}
        for row in rows:
            if row is not None:
                with contextlib.suppress(KeyUnavailable):
                    names[row.id] = self._project(row, actor).name
        return names

    def _project(self, row: ProjectRow, actor: str) -> Project:
        name = self.ctx.open(
            row.id, _name_binding(row.workspace_id, row.id), row.name_sealed, actor
        ).decode()
        return Project(row.id, row.workspace_id, name, ObjectState(row.state), row.created_at)
